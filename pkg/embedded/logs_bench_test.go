package embedded_test

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the bench reads how far the generation got

	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/logs"
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

// BenchmarkLogPut: storing the generated lines through Put in deliveries of genPerBatch
// lines (one iteration a delivery), into a store that holds the lines of the iterations
// before. Reports lines/s and the database's bytes a line.
func BenchmarkLogPut(b *testing.B) {
	st := openBenchStore(b)
	ls := st.Logs()
	ctx := context.Background()
	var batches [][]logs.Row
	next := 0
	var cpu time.Duration
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		if len(batches) == 0 {
			// Generate ahead, outside the timer: 20 deliveries at a time.
			for range 20 {
				lines := genRows(next, next+genPerBatch)
				rows := make([]logs.Row, len(lines))
				for i := range lines {
					rows[i] = lines[i].row
				}
				batches = append(batches, rows)
				next += genPerBatch
			}
		}
		rows := batches[0]
		batches = batches[1:]
		c0 := processCPU(b)
		b.StartTimer()
		if _, err := ls.Put(ctx, rows); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += processCPU(b) - c0
		b.StartTimer()
	}
	b.StopTimer()
	size, err := ls.Size(ctx)
	if err != nil {
		b.Fatal(err)
	}
	stored := b.N * genPerBatch
	b.ReportMetric(float64(stored)/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(stored), "ns/line")
	b.ReportMetric(float64(size)/float64(stored), "bytes/line")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(stored), "cpu-ns/line")
}

// processCPU is the CPU time (user and system) the process used so far: on a shared
// machine, the figure a wall time hides.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func openBenchStore(b *testing.B) *embedded.Store {
	b.Helper()
	st, err := embedded.Open(b.TempDir(), embedded.WithLogRetention(100*365*24*time.Hour, 1<<50))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	return st
}
