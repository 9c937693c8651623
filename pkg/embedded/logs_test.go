package embedded_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aient/firehose-drain/internal/testkit/scale"
	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/logs"
)

// logRow is line n of a stream: one second apart from 1_800_000_000_000 ms.
func logRow(n int, stream string, lvl event.Level, msg string) logs.Row {
	r := logs.Row{
		Drain: "drn_test", Account: "123456789012", Region: "eu-west-1", LogGroup: "/aws/lambda/checkout",
		LogStream: stream, EventID: fmt.Sprintf("%056d", n), Time: 1_800_000_000_000 + int64(n)*1000,
		Level: lvl, Message: msg,
	}
	r.UID = sha256.Sum256([]byte(stream + r.EventID))
	return r
}

func messages(p logs.Page) []string {
	var out []string
	for _, l := range p.Logs {
		out = append(out, l.Message)
	}
	return out
}

func search(t *testing.T, ls *embedded.LogStore, q logs.Query) []string {
	t.Helper()
	p, err := ls.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("Search(%+v): %v", q, err)
	}
	return messages(p)
}

func TestLogSearch(t *testing.T) {
	clk := newClock()
	clk.Advance(time.Hour)
	st := openStore(t, t.TempDir(), embedded.WithClock(clk.Now))
	ls := st.Logs()
	ctx := context.Background()
	rows := []logs.Row{
		logRow(1, "s1", event.Info, "START RequestId: 6f1c2a52-9f0e-4d43-8f3e-0a1b2c3d4e5f Version: $LATEST"),
		logRow(2, "s1", event.Info, "2026-11-21T10:00:02.000Z\t6f1c2a52-9f0e-4d43-8f3e-0a1b2c3d4e5f\tINFO\tcharging card for order 42"),
		logRow(3, "s1", event.Error, "2026-11-21T10:00:03.000Z\t6f1c2a52-9f0e-4d43-8f3e-0a1b2c3d4e5f\tERROR\tPaymentDeclined: card expired"),
		logRow(4, "s2", event.Warn, `{"level":"warn","message":"slow downstream: inventory took 2300 ms"}`),
		logRow(5, "s2", event.Debug, "cache miss for key user:42"),
		logRow(6, "s2", event.Unknown, "naïve café résumé"),
	}
	rows[0].RequestID, rows[1].RequestID, rows[2].RequestID = "6f1c2a52-9f0e-4d43-8f3e-0a1b2c3d4e5f", "6f1c2a52-9f0e-4d43-8f3e-0a1b2c3d4e5f", "6f1c2a52-9f0e-4d43-8f3e-0a1b2c3d4e5f"
	rows[3].LogGroup = "/aws/lambda/inventory"
	rows[4].LogGroup, rows[5].LogGroup = "/aws/lambda/inventory", "/aws/lambda/inventory"
	if n, err := ls.Put(ctx, rows); err != nil || n != len(rows) {
		t.Fatalf("Put: %d, %v", n, err)
	}
	msg := func(i int) string { return rows[i-1].Message }
	for _, c := range []struct {
		name string
		q    logs.Query
		want []string
	}{
		{"everything, newest first", logs.Query{}, []string{msg(6), msg(5), msg(4), msg(3), msg(2), msg(1)}},
		{"a word", logs.Query{Text: "card"}, []string{msg(3), msg(2)}},
		{"words are case-insensitive, all must occur", logs.Query{Text: "CARD expired"}, []string{msg(3)}},
		{"a phrase", logs.Query{Text: `"order 42"`}, []string{msg(2)}},
		{"a phrase in the wrong order", logs.Query{Text: `"42 order"`}, nil},
		{"a prefix", logs.Query{Text: "invent*"}, []string{msg(4)}},
		{"punctuation inside a word", logs.Query{Text: "user:42"}, []string{msg(5)}},
		{"diacritics folded", logs.Query{Text: "cafe"}, []string{msg(6)}},
		{"a part of a word is not a word", logs.Query{Text: "xpired"}, nil},
		{"the Lambda runtime's timestamp is the line's time, not words", logs.Query{Text: "2026-11-21T10:00:02.000Z"}, nil},
		{"a request id as words", logs.Query{Text: "6f1c2a52-9f0e-4d43-8f3e-0a1b2c3d4e5f"}, []string{msg(3), msg(2), msg(1)}},
		{"FTS5 syntax is plain text", logs.Query{Text: `card NOT expired`}, nil},
		{"request id", logs.Query{RequestID: "6f1c2a52-9f0e-4d43-8f3e-0a1b2c3d4e5f"}, []string{msg(3), msg(2), msg(1)}},
		{"request id and text", logs.Query{RequestID: "6f1c2a52-9f0e-4d43-8f3e-0a1b2c3d4e5f", Text: "card"}, []string{msg(3), msg(2)}},
		{"level", logs.Query{Levels: []event.Level{event.Error}}, []string{msg(3)}},
		{"levels", logs.Query{Levels: []event.Level{event.Warn, event.Unknown}}, []string{msg(6), msg(4)}},
		{"level and text", logs.Query{Levels: []event.Level{event.Info}, Text: "card"}, []string{msg(2)}},
		{"since", logs.Query{Since: time.UnixMilli(1_800_000_005_000)}, []string{msg(6), msg(5)}},
		{"until", logs.Query{Until: time.UnixMilli(1_800_000_002_000)}, []string{msg(2), msg(1)}},
		{"since and until", logs.Query{Since: time.UnixMilli(1_800_000_002_000), Until: time.UnixMilli(1_800_000_003_999)}, []string{msg(3), msg(2)}},
		{"time and text", logs.Query{Since: time.UnixMilli(1_800_000_003_000), Text: "card"}, []string{msg(3)}},
		{"log group", logs.Query{LogGroup: "/aws/lambda/inventory"}, []string{msg(6), msg(5), msg(4)}},
		{"stream", logs.Query{Stream: "s1"}, []string{msg(3), msg(2), msg(1)}},
		{"drain", logs.Query{Drain: "drn_test", Stream: "s2", Text: "cache"}, []string{msg(5)}},
		{"another drain", logs.Query{Drain: "drn_other"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := search(t, ls, c.q); !slices.Equal(got, c.want) {
				t.Errorf("got %q\nwant %q", got, c.want)
			}
		})
	}

	// The shape of a line.
	p, err := ls.Search(ctx, logs.Query{Levels: []event.Level{event.Error}})
	if err != nil {
		t.Fatal(err)
	}
	want := logs.Line{
		Time: time.UnixMilli(1_800_000_003_000).UTC(), Level: "error", LogGroup: "/aws/lambda/checkout", LogStream: "s1",
		EventID: rows[2].EventID, RequestID: rows[2].RequestID, Message: msg(3),
	}
	if len(p.Logs) != 1 || p.Logs[0] != want || p.Next != "" {
		t.Errorf("line %+v, next %q; want %+v", p.Logs, p.Next, want)
	}

	// Pages: the cursor continues where the page ended, the last page has none.
	var all []string
	q := logs.Query{Limit: 4}
	for range 3 {
		p, err := ls.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, messages(p)...)
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if want := search(t, ls, logs.Query{}); !slices.Equal(all, want) {
		t.Errorf("paged %q, want %q", all, want)
	}

	for _, q := range []logs.Query{{Text: `" - "`}, {Cursor: "!!"}, {Limit: logs.MaxLimit + 1}} {
		if _, err := ls.Search(ctx, q); !errors.Is(err, logs.ErrBadQuery) {
			t.Errorf("Search(%+v): %v, want ErrBadQuery", q, err)
		}
	}
}

func TestLogLinesOfOneMillisecondKeepTheirOrder(t *testing.T) {
	clk := newClock()
	st := openStore(t, t.TempDir(), embedded.WithClock(clk.Now))
	ctx := context.Background()
	var rows []logs.Row
	for i := range 10 {
		r := logRow(i, "s", event.Info, fmt.Sprintf("line %d", i))
		r.Time = 1_800_000_000_000
		rows = append(rows, r)
	}
	// Two deliveries of the same millisecond: the second's lines come after the first's.
	for _, part := range [][]logs.Row{rows[:5], rows[5:]} {
		if _, err := st.Logs().Put(ctx, part); err != nil {
			t.Fatal(err)
		}
	}
	got := search(t, st.Logs(), logs.Query{})
	for i, m := range got {
		if want := fmt.Sprintf("line %d", 9-i); m != want {
			t.Fatalf("line %d is %q, want %q (all %q)", i, m, want, got)
		}
	}
}

func TestLogRedeliveryStoresEachLineOnce(t *testing.T) {
	clk := newClock()
	st := openStore(t, t.TempDir(), embedded.WithClock(clk.Now))
	ctx := context.Background()
	var rows []logs.Row
	for i := range 300 {
		rows = append(rows, logRow(i, "s", event.Info, fmt.Sprintf("line %d", i)))
	}
	rows = append(rows, rows[7]) // the same event twice in one delivery
	n, err := st.Logs().Put(ctx, rows)
	if err != nil || n != 300 {
		t.Fatalf("first delivery: %d new, %v; want 300", n, err)
	}
	if n, err := st.Logs().Put(ctx, rows); err != nil || n != 0 {
		t.Fatalf("redelivery: %d new, %v; want 0", n, err)
	}
	// Concurrent deliveries overlapping the stored ones and each other.
	more := slices.Clone(rows[250:300])
	for i := 300; i < 400; i++ {
		more = append(more, logRow(i, "s", event.Info, fmt.Sprintf("line %d", i)))
	}
	var wg sync.WaitGroup
	counts := make([]int, 4)
	for g := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := st.Logs().Put(ctx, more)
			if err != nil {
				t.Error(err)
			}
			counts[g] = n
		}()
	}
	wg.Wait()
	if total := counts[0] + counts[1] + counts[2] + counts[3]; total != 100 {
		t.Errorf("concurrent deliveries stored %v new lines, want 100 in all", counts)
	}
	p, err := st.Logs().Search(ctx, logs.Query{Limit: logs.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, l := range p.Logs {
		seen[l.Message]++
	}
	if len(p.Logs) != 400 || len(seen) != 400 {
		t.Errorf("%d lines stored, %d distinct; want 400", len(p.Logs), len(seen))
	}
	// The same event id on another stream is another event.
	other := logRow(7, "other", event.Info, "line 7")
	if n, err := st.Logs().Put(ctx, []logs.Row{other}); err != nil || n != 1 {
		t.Errorf("same id, other stream: %d new, %v", n, err)
	}
}

func TestLogRetentionByAge(t *testing.T) {
	clk := newClock() // 1_800_000_000_000
	clk.Advance(10 * 24 * time.Hour)
	st := openStore(t, t.TempDir(), embedded.WithClock(clk.Now), embedded.WithLogRetention(7*24*time.Hour, 0))
	ctx := context.Background()
	day := int64(24 * 3600 * 1000)
	var rows []logs.Row
	for d := range 10 {
		r := logRow(d, "s", event.Info, fmt.Sprintf("day %d", d))
		r.Time = 1_800_000_000_000 + int64(d)*day + 1
		rows = append(rows, r)
	}
	// Lines older than the retention are not stored at all.
	if n, err := st.Logs().Put(ctx, rows); err != nil || n != 7 {
		t.Fatalf("Put: %d, %v; want the 7 days within the retention", n, err)
	}
	clk.Advance(2 * 24 * time.Hour)
	dropped, err := st.Logs().Prune(ctx)
	if err != nil || dropped != 2 {
		t.Fatalf("Prune two days later: dropped %d, %v; want 2", dropped, err)
	}
	got := search(t, st.Logs(), logs.Query{})
	if want := []string{"day 9", "day 8", "day 7", "day 6", "day 5"}; !slices.Equal(got, want) {
		t.Errorf("kept %q, want %q", got, want)
	}
}

func TestLogRetentionBySizeDropsTheOldest(t *testing.T) {
	t.Parallel() // a store of its own
	clk := newClock()
	clk.Advance(time.Hour)
	// The lines take four times the cap (make test-long: 500 KiB and 6,000 lines).
	lcap, per := int64(scale.N(t, 128, 512))<<10, scale.N(t, 125, 500)
	st := openStore(t, t.TempDir(), embedded.WithClock(clk.Now), embedded.WithLogRetention(0, lcap))
	ls := st.Logs()
	ctx := context.Background()
	// Out of time order across deliveries: the oldest by event time go first, not the
	// first stored.
	const deliveries = 12
	for d := range deliveries {
		var rows []logs.Row
		for i := range per {
			n := d*per + i
			if d%2 == 1 {
				n = (deliveries-d)*per + i // the odd deliveries carry older lines
			}
			rows = append(rows, logRow(n, "s", event.Info, fmt.Sprintf("line %06d lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore", n)))
		}
		if _, err := ls.Put(ctx, rows); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-ls.Over():
	default:
		t.Fatal("the store went over its cap without a signal")
	}
	before, err := ls.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if before <= lcap {
		t.Fatalf("the test's lines take %d bytes, not over the %d cap", before, lcap)
	}
	dropped, err := ls.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	after, err := ls.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after > lcap || dropped == 0 {
		t.Fatalf("after Prune: %d bytes (cap %d), %d lines dropped", after, lcap, dropped)
	}
	p, err := ls.Search(ctx, logs.Query{Limit: logs.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	var kept []int
	for q := (logs.Query{Limit: logs.MaxLimit}); ; {
		p, err := ls.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range p.Logs {
			var n int
			if _, err := fmt.Sscanf(l.Message, "line %d", &n); err != nil {
				t.Fatal(err)
			}
			kept = append(kept, n)
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	total := per * deliveries
	if int64(len(kept))+dropped != int64(total) {
		t.Fatalf("%d kept + %d dropped != %d stored", len(kept), dropped, total)
	}
	// Exactly the newest lines are kept.
	for i, n := range kept {
		if want := total - 1 - i; n != want {
			t.Fatalf("line %d kept is %d, want %d: not the newest first", i, n, want)
		}
	}
	if len(p.Logs) == 0 {
		t.Fatal("nothing kept")
	}
	// Searching still finds what is kept, and not what was dropped.
	if got := search(t, ls, logs.Query{Text: fmt.Sprintf(`"line %06d"`, total-1)}); len(got) != 1 {
		t.Errorf("the newest line: %q", got)
	}
	if got := search(t, ls, logs.Query{Text: `"line 000000"`}); len(got) != 0 {
		t.Errorf("the oldest line is still found: %q", got)
	}
}

func TestLogFollowInArrivalOrder(t *testing.T) {
	clk := newClock()
	clk.Advance(time.Hour)
	st := openStore(t, t.TempDir(), embedded.WithClock(clk.Now))
	ls := st.Logs()
	ctx := context.Background()
	start, err := ls.LastBatch(ctx)
	if err != nil || start != 0 {
		t.Fatalf("LastBatch of an empty store: %d, %v", start, err)
	}
	a := []logs.Row{logRow(10, "s", event.Info, "newer a"), logRow(11, "s", event.Error, "newer b")}
	b := []logs.Row{logRow(1, "s", event.Info, "late c"), logRow(2, "s", event.Error, "late d")} // older, arriving after
	for _, part := range [][]logs.Row{a, b, a} {
		if _, err := ls.Put(ctx, part); err != nil {
			t.Fatal(err)
		}
	}
	lines, last, err := ls.Follow(ctx, logs.Query{}, start)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range lines {
		got = append(got, l.Message)
	}
	if want := []string{"newer a", "newer b", "late c", "late d"}; !slices.Equal(got, want) {
		t.Errorf("followed %q, want %q (arrival order; the redelivery adds nothing)", got, want)
	}
	lines, last2, err := ls.Follow(ctx, logs.Query{Levels: []event.Level{event.Error}}, start)
	if err != nil || len(lines) != 2 || lines[0].Message != "newer b" || lines[1].Message != "late d" || last2 != last {
		t.Errorf("followed errors: %+v, %d, %v", lines, last2, err)
	}
	if lines, again, err := ls.Follow(ctx, logs.Query{}, last); err != nil || len(lines) != 0 || again != last {
		t.Errorf("nothing new: %+v, %d, %v", lines, again, err)
	}
}

// A log database of an earlier schema (on main for an hour, never released) is rebuilt.
func TestLogStoreRebuildsAnEarlierSchema(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, embedded.LogsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DROP TABLE logs", "CREATE TABLE logs (id INTEGER PRIMARY KEY, uid BLOB)", "PRAGMA user_version = 2"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	st = openStore(t, dir, embedded.WithClock(clk.Now))
	if n, err := st.Logs().Put(context.Background(), []logs.Row{logRow(1, "s", event.Info, "after the rebuild")}); err != nil || n != 1 {
		t.Fatalf("Put after the rebuild: %d, %v", n, err)
	}
	if got := search(t, st.Logs(), logs.Query{Text: "rebuild"}); len(got) != 1 {
		t.Errorf("search after the rebuild: %q", got)
	}
}
