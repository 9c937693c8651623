package console_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aient/firehose-drain/internal/testkit/scale"
	"github.com/aient/firehose-drain/pkg/console"
	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/problems"
)

// EnvConsoleBench names the data dir of the console benchmark's store (10,000 problems,
// 1,000,000 occurrences); it is generated there once (minutes) and reused. Unset, the
// benchmark is skipped: it is run by `make bench-console`, not by `make test` or `make bench`.
const EnvConsoleBench = "AIENT_CONSOLE_BENCH_DIR"

const (
	benchProblems = 10_000
	benchTotal    = 1_000_000
)

// benchNow is the store's "now": occurrences spread over the 14 days before it.
var benchNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

var benchWords = []string{"timeout", "refused", "undefined", "declined", "throttled", "missing", "invalid", "overflow"}

// benchStore opens (generating on first use) the benchmark's store. Problem i's weight is
// 1/(i+1) (a few hot problems, a long tail); its title names one word of benchWords, so a
// search for a word matches an eighth of them; occurrences come from 3 accounts, 4 regions
// and 50 log groups, over the 14 days before benchNow. The rows are written straight into
// the store's tables, as RecordBatch would have left them (one transaction: a million
// RecordBatch calls would take an hour on a shared machine); TestBenchStoreMatchesRecord
// checks that a small store written this way reads the same as one written by RecordBatch.
func benchStore(b *testing.B) *embedded.Store {
	b.Helper()
	dir := os.Getenv(EnvConsoleBench)
	if dir == "" {
		b.Skipf("set %s to a data dir (make bench-console) to run the console benchmark", EnvConsoleBench)
	}
	done := filepath.Join(dir, "generated")
	if _, err := os.Stat(done); err != nil {
		b.Logf("generating %d problems and %d occurrences in %s (once)", benchProblems, benchTotal, dir)
		if err := writeBenchStore(dir, benchTotal, benchProblems); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(done, nil, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	st, err := embedded.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// benchOccurrence is occurrence n of the benchmark's store, of problem p.
func benchOccurrence(n, p int, at time.Time) problems.Occurrence {
	group := fmt.Sprintf("/aws/lambda/svc-%02d", (p+n)%50)
	word := benchWords[p%len(benchWords)]
	return problems.Occurrence{
		Identity: event.Identity("drn_bench", "", group, "s", fmt.Sprint(n)),
		Org:      "acme", Env: []string{"prod", "staging"}[p%2], Fingerprint: fmt.Sprintf("fp-%05d", p),
		Title:   fmt.Sprintf("Error%05d: request %s after retries", p, word),
		Culprit: fmt.Sprintf("handler%05d (src/svc.js)", p), Level: "error", At: at.UTC().Truncate(time.Millisecond),
		Sample: problems.Sample{
			Account:  []string{"111111111111", "222222222222", "333333333333"}[n%3],
			Region:   []string{"eu-west-1", "us-east-1", "us-west-2", "ap-south-1"}[n%4],
			LogGroup: group, LogStream: "2026/12/01/[$LATEST]abcdef", EventID: fmt.Sprint(n), Timestamp: at.UnixMilli(),
			RequestID: fmt.Sprintf("%08x-0000-4000-8000-%012x", n, p),
			Message:   fmt.Sprintf("Error%05d: request %s after retries\n    at handler (/var/task/src/svc.js:%d:7)", p, word, p%300),
			Frames:    []problems.Frame{{Function: "handler", File: "/var/task/src/svc.js", Line: p % 300, InApp: true}},
		},
	}
}

// benchOccurrences lists the store's occurrences: every problem once, the rest by weight.
func benchOccurrences(total, nProblems int) []problems.Occurrence {
	rng := rand.New(rand.NewPCG(1, 2))
	cum := make([]float64, nProblems)
	var sum float64
	for i := range cum {
		sum += 1 / float64(i+1)
		cum[i] = sum
	}
	out := make([]problems.Occurrence, 0, total)
	for n := range total {
		p := n
		if n >= nProblems {
			i, _ := slices.BinarySearch(cum, rng.Float64()*sum)
			p = min(i, nProblems-1)
		}
		at := benchNow.Add(-time.Duration(rng.Int64N(int64(14 * 24 * time.Hour))))
		out = append(out, benchOccurrence(n, p, at))
	}
	return out
}

// writeBenchStore creates the store in dir and writes the occurrences' rows and their
// problems' aggregates in one transaction.
func writeBenchStore(dir string, total, nProblems int) error {
	st, err := embedded.Open(dir)
	if err != nil {
		return err
	}
	if err := st.Close(); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, embedded.DBFile)+"?_pragma=busy_timeout(10000)&_pragma=synchronous(OFF)")
	if err != nil {
		return err
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
	type agg struct {
		count       int64
		first, last int64
		newest      problems.Occurrence
		groups      map[string]bool
	}
	probs := map[string]*agg{}
	hours := map[[2]string]int64{}
	affected := map[[3]string]int64{}
	ins, err := tx.Prepare(`INSERT INTO occurrences (identity, problem_id, at, account, region, log_group, log_stream, event_id, request_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for _, o := range benchOccurrences(total, nProblems) {
		id := problems.ID(o.Org, o.Env, o.Fingerprint)
		at := o.At.UnixMilli()
		sm := o.Sample
		if _, err := ins.Exec(o.Identity, id, at, sm.Account, sm.Region, sm.LogGroup, sm.LogStream, sm.EventID, sm.RequestID); err != nil {
			return err
		}
		a := probs[id]
		if a == nil {
			a = &agg{first: at, last: at, newest: o, groups: map[string]bool{}}
			probs[id] = a
		}
		a.count++
		a.first = min(a.first, at)
		if at >= a.last {
			a.last, a.newest = at, o
		}
		a.groups[sm.LogGroup] = true
		hours[[2]string{id, fmt.Sprint(at - at%3_600_000)}]++
		for kind, v := range map[string]string{"account": sm.Account, "region": sm.Region, "logGroup": sm.LogGroup} {
			affected[[3]string{id, kind, v}]++
		}
	}
	for id, a := range probs {
		groups := make([]string, 0, len(a.groups))
		for g := range a.groups {
			groups = append(groups, g)
		}
		slices.Sort(groups)
		gj, _ := json.Marshal(groups)
		sj, err := json.Marshal(a.newest.Sample)
		if err != nil {
			return err
		}
		o := a.newest
		if _, err := tx.Exec(`INSERT INTO problems (id, org, env, fingerprint, title, culprit, level, count, first_seen, last_seen, log_groups, sample, search)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, o.Org, o.Env, o.Fingerprint, o.Title, o.Culprit, o.Level,
			a.count, a.first, a.last, string(gj), string(sj), problems.SearchText(o.Title, o.Culprit, o.Sample.Message)); err != nil {
			return err
		}
	}
	for k, n := range hours {
		if _, err := tx.Exec(`INSERT INTO problem_hours (problem_id, hour, count) VALUES (?, ?, ?)`, k[0], k[1], n); err != nil {
			return err
		}
	}
	for k, n := range affected {
		if _, err := tx.Exec(`INSERT INTO problem_affected (problem_id, kind, value, count) VALUES (?, ?, ?, ?)`, k[0], k[1], k[2], n); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// The benchmark's generator writes what RecordBatch writes: a small store generated both
// ways answers every console read the same.
func TestBenchStoreMatchesRecord(t *testing.T) {
	direct, viaRecord := t.TempDir(), t.TempDir()
	occs := scale.N(t, 800, 3000) // make test-long: 3,000 occurrences
	if err := writeBenchStore(direct, occs, 40); err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open(viaRecord)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	batcher, ok := st.Problems().(interface {
		RecordBatch(context.Context, []problems.Occurrence) []problems.Result
	})
	if !ok {
		t.Fatal("the embedded problem store has no RecordBatch")
	}
	for _, r := range batcher.RecordBatch(t.Context(), benchOccurrences(occs, 40)) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	gen, err := embedded.Open(direct)
	if err != nil {
		t.Fatal(err)
	}
	defer gen.Close()
	var a problems.Page
	for _, q := range []problems.Query{
		{Sort: problems.SortRecent, Now: benchNow},
		{Sort: problems.SortRecent, Text: benchWords[1], Limit: 10, Now: benchNow}, // the search column too
	} {
		pa, err := gen.Reader().Query(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		pb, err := st.Reader().Query(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		// The problems' lifecycle (state, substate) is the alerts' and not generated.
		for _, l := range [][]problems.Summary{pa.Problems, pb.Problems} {
			for i := range l {
				l[i].State, l[i].Substate = "", ""
			}
		}
		if ja, jb := mustMarshal(t, pa), mustMarshal(t, pb); ja != jb || len(pa.Problems) == 0 {
			t.Fatalf("the lists of %+v differ (or are empty):\n%s\n%s", q, ja, jb)
		}
		if q.Text == "" {
			a = pa
		}
	}
	for _, p := range a.Problems[:5] {
		da, err := gen.Reader().Detail(t.Context(), p.ID, benchNow)
		if err != nil {
			t.Fatal(err)
		}
		db, err := st.Reader().Detail(t.Context(), p.ID, benchNow)
		if err != nil {
			t.Fatal(err)
		}
		read := func(d problems.Detail) any {
			return []any{d.Count, d.FirstSeen, d.LastSeen, d.LogGroups, d.Sample, d.Hourly, d.Daily, d.Affected, d.Recent}
		}
		if ja, jb := mustMarshal(t, read(da)), mustMarshal(t, read(db)); ja != jb {
			t.Fatalf("problem %s differs:\n%s\n%s", p.ID, ja, jb)
		}
	}
}

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// latencies runs get n times and reports the p50 and p99 of its wall time.
func latencies(b *testing.B, get func(i int)) {
	b.Helper()
	d := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		get(i)
		d = append(d, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(d[min(len(d)-1, len(d)*99/100)].Microseconds())/1000, "p99-ms")
}

func fetch(b *testing.B, url string) {
	resp, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || n == 0 {
		b.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
}

// BenchmarkConsole measures the console's answers over 10,000 problems and 1,000,000
// occurrences on the embedded store, over real HTTP: the searched, recent-sorted list page
// of the API, and a problem's page (hot and tail problems alternately).
func BenchmarkConsole(b *testing.B) {
	st := benchStore(b)
	defer st.Close()
	srv := httptest.NewServer(console.New(console.Backend{Problems: st.Reader(), Drains: st.Drains()},
		console.Config{Now: func() time.Time { return benchNow }}).Handler())
	defer srv.Close()
	b.Run("api-list-q-recent-50", func(b *testing.B) {
		latencies(b, func(i int) {
			fetch(b, srv.URL+"/api/problems?q="+benchWords[i%len(benchWords)]+"&sort=recent&limit=50")
		})
	})
	// The text filter's two plans, paired in one binary over the same database: the list
	// query as it was (lower() and json_extract of every problem's sample) and as it is
	// (the search column, schema v6).
	db, err := sql.Open("sqlite", "file:"+filepath.Join(os.Getenv(EnvConsoleBench), embedded.DBFile)+"?_query_only=1")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	since := problems.HourStart(benchNow).Add(-(problems.TrendHours - 1) * time.Hour).UnixMilli()
	for _, plan := range []struct{ name, where string }{
		{"json_extract", `instr(lower(p.title), ?1) > 0 OR instr(lower(p.culprit), ?1) > 0
			OR instr(lower(json_extract(p.sample, '$.message')), ?1) > 0`},
		{"column", `instr(p.search, ?1) > 0`},
	} {
		query := `SELECT p.id, p.title, p.count,
			coalesce((SELECT sum(h.count) FROM problem_hours h WHERE h.problem_id = p.id AND h.hour >= ?2), 0) AS recent
			FROM problems p WHERE ` + plan.where + ` ORDER BY recent DESC, p.last_seen DESC, p.id LIMIT 51`
		b.Run("sql-q-recent-50/"+plan.name, func(b *testing.B) {
			latencies(b, func(i int) {
				rows, err := db.Query(query, benchWords[i%len(benchWords)], since)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for rows.Next() {
					n++
				}
				if err := rows.Err(); err != nil || n != 51 {
					b.Fatalf("%d rows, %v", n, err)
				}
				rows.Close()
			})
		})
	}
	b.Run("problem-page", func(b *testing.B) {
		latencies(b, func(i int) {
			p := i % 20 // the hottest problems hold ~10% of all occurrences
			if i%2 == 1 {
				p = benchProblems - 1 - i%5000
			}
			fetch(b, srv.URL+"/problems/"+problems.ID("acme", []string{"prod", "staging"}[p%2], fmt.Sprintf("fp-%05d", p)))
		})
	})
}
