package embedded_test

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the bench reads how far the generation got

	"github.com/aient/firehose-drain/pkg/embedded"
)

// EnvLogsBenchDir and EnvLogsBenchLines run BenchmarkLogSearch over a store of that many
// lines (make bench-logs: 10 million), generated once into the dir and kept there; without
// them it runs over 100,000 lines in a temporary dir.
const (
	EnvLogsBenchDir   = "AIENT_LOGS_BENCH_DIR"
	EnvLogsBenchLines = "AIENT_LOGS_BENCH_LINES"
)

// logBenchStore opens the benchmark's store of n generated lines, generating what is
// missing (resumably: a generation cut short continues from the last line stored).
func logBenchStore(b *testing.B) (*embedded.Store, int) {
	b.Helper()
	n := 100_000
	if s := os.Getenv(EnvLogsBenchLines); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("%s=%q: a number of lines", EnvLogsBenchLines, s)
		}
		n = v
	}
	dir := b.TempDir()
	if d := os.Getenv(EnvLogsBenchDir); d != "" {
		dir = filepath.Join(d, strconv.Itoa(n))
	}
	st, err := embedded.Open(dir, embedded.WithLogRetention(100*365*24*time.Hour, 1<<50))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	have := storedLines(b, dir)
	if have < n {
		b.Logf("generating lines %d to %d in %s", have, n, dir)
		start := time.Now()
		fillLogs(b, st.Logs(), have, n)
		el := time.Since(start)
		b.Logf("stored %d lines in %s (%.0f lines/s, deliveries of %d)", n-have, el.Round(time.Second), float64(n-have)/el.Seconds(), genPerBatch)
	}
	size, err := st.Logs().Size(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d lines, %d MiB", n, size>>20)
	return st, n
}

// storedLines is how many of the generated lines the store in dir holds: the lines are
// stored in order, so one past the newest.
func storedLines(b *testing.B, dir string) int {
	b.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, embedded.LogsFile)+"?mode=ro")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var top sql.NullInt64
	if err := db.QueryRow(`SELECT max(id) FROM logs`).Scan(&top); err != nil {
		b.Fatal(err)
	}
	if !top.Valid {
		return 0
	}
	return int((top.Int64>>20-genBase)/genStep) + 1
}

// BenchmarkLogSearch: the latency of each kind of search (benchQueries, in turn, 50 lines a
// page) over the generated store, as p50 and p99 in ms, and the p99 of all.
func BenchmarkLogSearch(b *testing.B) {
	st, n := logBenchStore(b)
	ls := st.Logs()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	byKind := map[string][]time.Duration{}
	var all []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		bq := benchQueries[i%len(benchQueries)]
		q := bq.make(r, n)
		q.Limit = 50
		t0 := time.Now()
		if _, err := ls.Search(ctx, q); err != nil {
			b.Fatal(err)
		}
		d := time.Since(t0)
		byKind[bq.kind] = append(byKind[bq.kind], d)
		all = append(all, d)
	}
	b.StopTimer()
	pct := func(ds []time.Duration, p float64) float64 {
		s := slices.Clone(ds)
		slices.Sort(s)
		return float64(s[min(len(s)-1, int(p*float64(len(s))))].Microseconds()) / 1000
	}
	for _, bq := range benchQueries {
		if ds := byKind[bq.kind]; len(ds) > 0 {
			b.ReportMetric(pct(ds, 0.50), bq.kind+"-p50-ms")
			b.ReportMetric(pct(ds, 0.99), bq.kind+"-p99-ms")
		}
	}
	if len(all) > 0 {
		b.ReportMetric(pct(all, 0.50), "all-p50-ms")
		b.ReportMetric(pct(all, 0.99), "all-p99-ms")
	}
	b.ReportMetric(float64(n), "lines")
}
