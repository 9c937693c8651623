package embedded

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aient/firehose-drain/internal/testkit/scale"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/logs"
)

// The prefix expansion reads the words of the text index from its pages. Oracle: FTS5's own
// list of its words (the fts5vocab table) with that prefix, for every prefix of 1 to 4
// letters of the stored words, over an index of many segments, some of them cut short by an
// incremental merge in progress.
func TestPrefixTermsAreTheIndexsWords(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir, WithLogRetention(100*365*24*time.Hour, 0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ls := st.Logs()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 6))
	const letters = "abcdeklmnoz"
	vocab := make([]string, 3000)
	for i := range vocab {
		var b strings.Builder
		for range 2 + r.IntN(9) {
			b.WriteByte(letters[r.IntN(len(letters))])
		}
		vocab[i] = b.String()
	}
	vocab = append(vocab, "Café", "naïve", "x-ray", "k8s", "ab", "a")
	base := time.Now().Add(-time.Hour).UnixMilli()
	n := 0
	for d := range scale.N(t, 20, 60) {
		rows := make([]logs.Row, 200)
		for i := range rows {
			ws := make([]string, 3+r.IntN(10))
			for k := range ws {
				ws[k] = vocab[r.IntN(len(vocab))]
			}
			id := fmt.Sprint("e", n)
			rows[i] = logs.Row{Drain: "d", LogGroup: "g", LogStream: "s", EventID: id, Time: base + int64(n), Level: event.Info, Message: strings.Join(ws, " ")}
			rows[i].UID = sha256.Sum256([]byte(id))
			n++
		}
		if _, err := ls.Put(ctx, rows); err != nil {
			t.Fatal(err)
		}
		if d%7 == 3 {
			// A few pages of merge work: leaves a merge in progress, its input segments cut.
			for _, cmd := range []string{`INSERT INTO logs_text (logs_text, rank) VALUES ('usermerge', 2)`, `INSERT INTO logs_text (logs_text, rank) VALUES ('merge', 3)`} {
				if _, err := ls.w.ExecContext(ctx, cmd); err != nil {
					t.Fatal(cmd, err)
				}
			}
		}
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, LogsFile)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, logs_text, row)`); err != nil {
		t.Fatal(err)
	}
	var segs, cut int
	if err := db.QueryRow(`SELECT count(DISTINCT segid) FROM logs_text_idx`).Scan(&segs); err != nil {
		t.Fatal(err)
	}
	// Pages named by %_idx and gone from %_data: a merge consumed them.
	if err := db.QueryRow(`SELECT count(*) FROM logs_text_idx WHERE (segid << 37 | pgno >> 1) NOT IN (SELECT id FROM logs_text_data)`).Scan(&cut); err != nil {
		t.Fatal(err)
	}
	if segs < 4 || cut == 0 {
		t.Fatalf("the index has %d segments and %d consumed pages: not the index this test needs", segs, cut)
	}
	prefixes := map[string]bool{}
	for _, w := range vocab {
		w, ok := asciiWord(w)
		for k := 1; ok && k <= min(4, len(w)); k++ {
			prefixes[w[:k]] = true
		}
	}
	// Every prefix of one and two letters, and a fixed tenth of the longer ones.
	var some []string
	for i, p := range slices.Sorted(maps.Keys(prefixes)) {
		if len(p) <= 2 || i%10 == 0 {
			some = append(some, p)
		}
	}
	tooBroad := 0
	for _, p := range some {
		var want []string
		rows, err := db.Query(`SELECT term FROM temp.vocab WHERE term >= ? AND term < ?`, p, p[:len(p)-1]+string(p[len(p)-1]+1))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var w string
			if err := rows.Scan(&w); err != nil {
				t.Fatal(err)
			}
			want = append(want, w)
		}
		rows.Close()
		got, err := prefixTerms(ctx, db, p)
		if errors.Is(err, errPrefixTooBroad) {
			if len(want) <= maxPrefixTerms {
				t.Errorf("%q: too broad, but the index has %d words with it", p, len(want))
			}
			tooBroad++
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", p, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: got %d words %q\nwant %d %q", p, len(got), got, len(want), want)
		}
	}
	if tooBroad == 0 || tooBroad == len(some) {
		t.Errorf("%d of %d prefixes too broad", tooBroad, len(some))
	}
}

// leafTerms reads only what the page holds: a page cut anywhere, or of random bytes, is an
// error or fewer terms, never a panic or a read past it.
func TestLeafTermsOfABrokenPage(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for range 20000 {
		b := make([]byte, r.IntN(64))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		if len(b) >= 4 && r.IntN(2) == 0 {
			b[2], b[3] = 0, byte(4+r.IntN(len(b)-3))
		}
		_ = leafTerms(b, []byte("0a"), func([]byte) error { return nil })
	}
}
