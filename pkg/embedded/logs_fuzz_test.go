package embedded_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/logs"
)

// FuzzLogSearchText: the words of a search are untrusted text turned into an FTS5
// expression. Oracle, a round trip: a line whose message is the search text itself is
// found by that search (every word, phrase and prefix of it occurs in it, in order), and a
// line of other words is not; any other answer is a bad query, never a store error.
func FuzzLogSearchText(f *testing.F) {
	for _, s := range []string{
		"card", "card expired", `"order 42"`, "invent*", "user:42", `a "b c`, `NOT x`, `x AND y OR z`,
		`NEAR(a b)`, `message : x`, `tags : l4`, `"`, `""`, `*`, `-`, `a"b`, `^x`, `{message}: y`, `x*y`, "café",
		"\x00", "a\tb\nc", `"a""b"`,
	} {
		f.Add(s)
	}
	st, err := embedded.Open(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = st.Close() })
	ls := st.Logs()
	ctx := context.Background()
	base := time.Now().Add(-time.Hour).UnixMilli()
	other := logs.Row{Drain: "d", LogGroup: "g", LogStream: "s", EventID: "other", Time: base, Level: event.Info, Message: "zzqqxx"}
	other.UID = sha256.Sum256([]byte("other"))
	if _, err := ls.Put(ctx, []logs.Row{other}); err != nil {
		f.Fatal(err)
	}
	n := 0
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) || strings.TrimSpace(text) == "" || strings.Contains(text, "zzqqxx") {
			return
		}
		n++
		id := "line-" + strings.Repeat("x", n%7) + string(rune('a'+n%26)) + text
		r := logs.Row{Drain: "d", LogGroup: "g", LogStream: "s", EventID: id, Time: base + int64(n), Level: event.Info, Message: text}
		r.UID = sha256.Sum256([]byte(id))
		if _, err := ls.Put(ctx, []logs.Row{r}); err != nil {
			t.Fatal(err)
		}
		p, err := ls.Search(ctx, logs.Query{Text: text, Since: timeMS(r.Time), Until: timeMS(r.Time), Limit: logs.MaxLimit})
		if err != nil {
			if !errors.Is(err, logs.ErrBadQuery) {
				t.Fatalf("search %q: %v, want a result or ErrBadQuery", text, err)
			}
			return
		}
		if len(p.Logs) != 1 || p.Logs[0].EventID != id {
			t.Fatalf("search %q does not find the line %q itself: %+v", text, text, p.Logs)
		}
		if strings.Contains(text, "*") {
			return // a prefix may match the other line's word
		}
		p, err = ls.Search(ctx, logs.Query{Text: text, Until: timeMS(other.Time)})
		if err != nil || len(p.Logs) != 0 {
			t.Fatalf("search %q finds the line of other words: %+v, %v", text, p.Logs, err)
		}
	})
}

func timeMS(ms int64) time.Time { return time.UnixMilli(ms) }
