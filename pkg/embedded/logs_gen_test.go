package embedded_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aient/firehose-drain/internal/testkit/scale"
	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/logs"
)

// The generated log data of the search benchmark (and of its small version in make test):
// Lambda text lines of invocations of 8 lines, each invocation in one of 500 streams of
// 25 log groups, words drawn from a Zipf distribution over 5,000 words (a few words are in
// most lines, most words in few), levels 70 % info, 15 % debug, 10 % warn, 4.5 % error,
// 0.5 % fatal, one line every 37 ms from genBase. Deterministic: line i is always the same.

const (
	genBase     = 1_790_000_000_000
	genStep     = 37
	genPerInv   = 8
	genStreams  = 500
	genGroups   = 25
	genVocab    = 5000
	genPerBatch = 5000
)

var genWords = func() []string {
	// Pronounceable words, distinct: consonant-vowel syllables.
	const cons, vows = "bcdfghklmnprstvz", "aeiou"
	out := make([]string, 0, genVocab)
	seen := map[string]bool{}
	r := rand.New(rand.NewPCG(1, 2))
	for len(out) < genVocab {
		var b strings.Builder
		for range 2 + r.IntN(3) {
			b.WriteByte(cons[r.IntN(len(cons))])
			b.WriteByte(vows[r.IntN(len(vows))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}()

// genLine is line i of the generated data.
type genLine struct {
	row   logs.Row
	words []string
}

func genRequestID(inv int) string {
	h := sha256.Sum256([]byte(fmt.Sprint("inv", inv)))
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

func genGroup(g int) string { return fmt.Sprintf("/aws/lambda/service-%02d", g) }

func genStream(s int) string { return fmt.Sprintf("2026/09/21/[$LATEST]%032x", s*7919) }

// genRows generates lines [from, to).
func genRows(from, to int) []genLine {
	out := make([]genLine, 0, to-from)
	for i := from; i < to; i++ {
		r := rand.New(rand.NewPCG(uint64(i), 99))
		z := rand.NewZipf(r, 1.1, 4, genVocab-1)
		inv := i / genPerInv
		s := inv % genStreams
		lvl, word := event.Info, "INFO"
		switch p := r.IntN(1000); {
		case p < 5:
			lvl, word = event.Fatal, "FATAL"
		case p < 50:
			lvl, word = event.Error, "ERROR"
		case p < 150:
			lvl, word = event.Warn, "WARN"
		case p < 300:
			lvl, word = event.Debug, "DEBUG"
		}
		ws := make([]string, 6+r.IntN(14))
		for k := range ws {
			ws[k] = genWords[z.Uint64()]
		}
		ms := int64(genBase + i*genStep)
		req := genRequestID(inv)
		msg := fmt.Sprintf("%s\t%s\t%s\t%s\n", time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z"), req, word, strings.Join(ws, " "))
		row := logs.Row{
			Drain: "drn_bench", Account: "123456789012", Region: "eu-west-1",
			LogGroup: genGroup(s % genGroups), LogStream: genStream(s), EventID: fmt.Sprintf("%056d", i),
			Time: ms, Level: lvl, RequestID: req, Message: msg,
		}
		row.UID = sha256.Sum256([]byte(row.EventID))
		out = append(out, genLine{row: row, words: ws})
	}
	return out
}

// fillLogs stores lines [from, to) in deliveries of genPerBatch lines.
func fillLogs(tb testing.TB, ls *embedded.LogStore, from, to int) {
	tb.Helper()
	ctx := context.Background()
	for b := from; b < to; b += genPerBatch {
		lines := genRows(b, min(b+genPerBatch, to))
		rows := make([]logs.Row, len(lines))
		for i := range lines {
			rows[i] = lines[i].row
		}
		if _, err := ls.Put(ctx, rows); err != nil {
			tb.Fatal(err)
		}
	}
}

// benchQuery is one kind of search the benchmark asks.
type benchQuery struct {
	kind string
	make func(r *rand.Rand, n int) logs.Query
}

// benchQueries are the searches, each drawn at random over n stored lines.
var benchQueries = []benchQuery{
	{"latest", func(*rand.Rand, int) logs.Query { return logs.Query{} }},
	{"word-common", func(r *rand.Rand, _ int) logs.Query { return logs.Query{Text: genWords[r.IntN(5)]} }},
	{"word-mid", func(r *rand.Rand, _ int) logs.Query { return logs.Query{Text: genWords[100+r.IntN(100)]} }},
	{"word-rare", func(r *rand.Rand, _ int) logs.Query { return logs.Query{Text: genWords[3000+r.IntN(1000)]} }},
	{"two-words", func(r *rand.Rand, _ int) logs.Query {
		return logs.Query{Text: genWords[r.IntN(20)] + " " + genWords[200+r.IntN(200)]}
	}},
	{"prefix", func(r *rand.Rand, _ int) logs.Query { return logs.Query{Text: genWords[50+r.IntN(50)][:3] + "*"} }},
	{"request", func(r *rand.Rand, n int) logs.Query {
		return logs.Query{RequestID: genRequestID(r.IntN(max(n/genPerInv, 1)))}
	}},
	{"level-error", func(*rand.Rand, int) logs.Query { return logs.Query{Levels: []event.Level{event.Error}} }},
	{"level-fatal+word", func(r *rand.Rand, _ int) logs.Query {
		return logs.Query{Levels: []event.Level{event.Fatal}, Text: genWords[r.IntN(10)]}
	}},
	{"group", func(r *rand.Rand, _ int) logs.Query { return logs.Query{LogGroup: genGroup(r.IntN(genGroups))} }},
	{"stream+word", func(r *rand.Rand, _ int) logs.Query {
		s := r.IntN(genStreams)
		return logs.Query{LogGroup: genGroup(s % genGroups), Stream: genStream(s), Text: genWords[r.IntN(30)]}
	}},
	{"hour+word", func(r *rand.Rand, n int) logs.Query {
		t := genBase + r.Int64N(int64(max(n, 1))*genStep)
		return logs.Query{Since: time.UnixMilli(t), Until: time.UnixMilli(t + 3_600_000), Text: genWords[r.IntN(50)]}
	}},
	{"10min", func(r *rand.Rand, n int) logs.Query {
		t := genBase + r.Int64N(int64(max(n, 1))*genStep)
		return logs.Query{Since: time.UnixMilli(t), Until: time.UnixMilli(t + 600_000)}
	}},
}

// oracle answers q over the generated lines by brute force: the lines that match, newest
// first, at most limit.
func oracle(lines []genLine, q logs.Query, limit int) []string {
	var out []string
	for i := len(lines) - 1; i >= 0 && len(out) < limit; i-- {
		l := &lines[i]
		r := &l.row
		switch {
		case q.RequestID != "" && r.RequestID != q.RequestID,
			len(q.Levels) > 0 && !slices.Contains(q.Levels, r.Level),
			q.LogGroup != "" && r.LogGroup != q.LogGroup,
			q.Stream != "" && r.LogStream != q.Stream,
			!q.Since.IsZero() && r.Time < q.Since.UnixMilli(),
			!q.Until.IsZero() && r.Time > q.Until.UnixMilli():
			continue
		}
		if q.Text != "" && !oracleText(l, q.Text) {
			continue
		}
		out = append(out, r.EventID)
	}
	return out
}

// oracleText: every search word is one of the line's words (the generated words are the
// only letters of a message besides the level, which no search uses), word* a prefix.
func oracleText(l *genLine, text string) bool {
	for _, w := range strings.Fields(text) {
		p, prefix := strings.CutSuffix(w, "*")
		if !slices.ContainsFunc(l.words, func(x string) bool { return x == p || prefix && strings.HasPrefix(x, p) }) {
			return false
		}
	}
	return true
}

// The benchmark's data and queries at a small scale, checked against a brute-force oracle:
// every kind of search answers exactly the lines that match, newest first.
func TestLogSearchAgainstAnOracle(t *testing.T) {
	t.Parallel() // a store of its own
	// make test-long: the 20,000 lines.
	n := scale.N(t, 4_000, 20_000)
	st := openStore(t, t.TempDir(), embedded.WithLogRetention(100*365*24*time.Hour, 0))
	fillLogs(t, st.Logs(), 0, n)
	lines := genRows(0, n)
	r := rand.New(rand.NewPCG(7, 7))
	ctx := context.Background()
	answered := map[string]int{}
	for _, bq := range benchQueries {
		for range 8 {
			q := bq.make(r, n)
			q.Limit = 50
			p, err := st.Logs().Search(ctx, q)
			if err != nil {
				t.Fatalf("%s %+v: %v", bq.kind, q, err)
			}
			var got []string
			for _, l := range p.Logs {
				got = append(got, l.EventID)
			}
			if want := oracle(lines, q, 50); !slices.Equal(got, want) {
				t.Fatalf("%s %+v:\n got %d %v\nwant %d %v", bq.kind, q, len(got), got, len(want), want)
			}
			if len(got) > 0 {
				answered[bq.kind]++
			}
		}
	}
	// Not vacuous: every kind of search found lines most of the time.
	for _, bq := range benchQueries {
		if answered[bq.kind] < 4 {
			t.Errorf("%s found lines in %d of 8 searches", bq.kind, answered[bq.kind])
		}
	}
}
