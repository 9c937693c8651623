package console_test

import (
	"context"
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
	benchProblems    = 10_000
	benchOccurrences = 1_000_000
)

// benchNow is the store's "now": occurrences spread over the 14 days before it.
var benchNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

var benchWords = []string{"timeout", "refused", "undefined", "declined", "throttled", "missing", "invalid", "overflow"}

// benchStore opens (generating on first use) the benchmark's store. Problem i's weight is
// 1/(i+1) (a few hot problems, a long tail); its title names one word of benchWords, so a
// search for a word matches an eighth of them; occurrences come from 3 accounts, 4 regions
// and 50 log groups.
func benchStore(b *testing.B) *embedded.Store {
	b.Helper()
	dir := os.Getenv(EnvConsoleBench)
	if dir == "" {
		b.Skipf("set %s to a data dir (make bench-console) to run the console benchmark", EnvConsoleBench)
	}
	done := filepath.Join(dir, "generated")
	st, err := embedded.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(done); err == nil {
		return st
	}
	b.Logf("generating %d problems and %d occurrences in %s (once)", benchProblems, benchOccurrences, dir)
	rng := rand.New(rand.NewPCG(1, 2))
	weights := make([]float64, benchProblems)
	var total float64
	for i := range weights {
		weights[i] = 1 / float64(i+1)
		total += weights[i]
	}
	cum := make([]float64, benchProblems)
	var acc float64
	for i, w := range weights {
		acc += w / total
		cum[i] = acc
	}
	pick := func() int {
		i, _ := slices.BinarySearch(cum, rng.Float64())
		return min(i, benchProblems-1)
	}
	ctx := context.Background()
	rec := st.Problems().(interface {
		RecordBatch(context.Context, []problems.Occurrence) []problems.Result
	})
	// Every problem occurs at least once; the rest follow the weights.
	const batch = 2000
	occs := make([]problems.Occurrence, 0, batch)
	flush := func() {
		for _, r := range rec.RecordBatch(ctx, occs) {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
		occs = occs[:0]
	}
	for n := range benchOccurrences {
		p := n
		if n >= benchProblems {
			p = pick()
		}
		at := benchNow.Add(-time.Duration(rng.Int64N(int64(14 * 24 * time.Hour))))
		group := fmt.Sprintf("/aws/lambda/svc-%02d", (p+n)%50)
		occs = append(occs, problems.Occurrence{
			Identity: event.Identity("drn_bench", "", group, "s", fmt.Sprint(n)),
			Org:      "acme", Env: []string{"prod", "staging"}[p%2], Fingerprint: fmt.Sprintf("fp-%05d", p),
			Title:   fmt.Sprintf("Error%05d: request %s after retries", p, benchWords[p%len(benchWords)]),
			Culprit: fmt.Sprintf("handler%05d (src/svc.js)", p), Level: "error", At: at,
			Sample: problems.Sample{
				Account:  []string{"111111111111", "222222222222", "333333333333"}[n%3],
				Region:   []string{"eu-west-1", "us-east-1", "us-west-2", "ap-south-1"}[n%4],
				LogGroup: group, LogStream: "2026/12/01/[$LATEST]abcdef", EventID: fmt.Sprint(n), Timestamp: at.UnixMilli(),
				RequestID: fmt.Sprintf("%08x-0000-4000-8000-%012x", n, p),
				Message:   fmt.Sprintf("Error%05d: request %s after retries\n    at handler (/var/task/src/svc.js:%d:7)", p, benchWords[p%len(benchWords)], p%300),
				Frames:    []problems.Frame{{Function: "handler", File: "/var/task/src/svc.js", Line: p % 300, InApp: true}},
			},
		})
		if len(occs) == batch {
			flush()
		}
	}
	flush()
	if err := os.WriteFile(done, nil, 0o600); err != nil {
		b.Fatal(err)
	}
	return st
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
