package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aient/firehose-drain/cmd/aient/cli"
	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
	"github.com/aient/firehose-drain/pkg/embedded"
)

// benchServer is the local server's wiring (cli.NewLocal, as aient serve) over a fresh store.
type benchServer struct {
	http    *httptest.Server
	id, key string
}

func newBenchServer(b *testing.B, noLogs bool) *benchServer {
	b.Helper()
	st, err := embedded.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	srv := cli.NewLocal(st, cli.LocalConfig{NoLogStore: noLogs, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	d, key, err := srv.Drains().Create(context.Background(), "acme", "prod")
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	b.Cleanup(func() { hs.Close(); _ = st.Close() })
	return &benchServer{http: hs, id: d.ID, key: key}
}

// benchWords make the lines' text.
var benchWords = []string{"charge", "card", "order", "inventory", "cache", "miss", "timeout", "retry", "user", "session", "token", "queue", "worker", "shipped", "declined"}

// serveDelivery is delivery n: records × perRecord Lambda text lines, 1 % of them errors,
// each invocation 10 lines, all within the last minute and new.
func serveDelivery(n, records, perRecord int) []byte {
	at := time.Now().Add(-time.Minute).UnixMilli()
	data := make([]string, records)
	for r := range records {
		evs := make([]fht.LogEvent, perRecord)
		for k := range evs {
			i := (n*records+r)*perRecord + k
			lvl := "INFO"
			if i%100 == 0 {
				lvl = "ERROR"
			}
			req := fmt.Sprintf("%08x-0000-4000-8000-%012x", i/10, n)
			evs[k] = fht.LogEvent{
				ID: fmt.Sprintf("%056d", i), Timestamp: at + int64(k),
				Message: fmt.Sprintf("%s\t%s\t%s\t%s %s %d for %s %s\n", time.UnixMilli(at+int64(k)).UTC().Format("2006-01-02T15:04:05.000Z"),
					req, lvl, benchWords[i%len(benchWords)], benchWords[(i/7)%len(benchWords)], i, benchWords[(i/13)%len(benchWords)], benchWords[(i/3)%len(benchWords)]),
			}
		}
		data[r] = fht.Record(fmt.Sprintf("/aws/lambda/fn-%d", r%5), fmt.Sprintf("2026/12/01/[$LATEST]%d", r), evs...)
	}
	return fht.Body(fmt.Sprintf("req-%d", n), data...)
}

// processCPU is the CPU time (user and system) the process used so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (s *benchServer) post(b *testing.B, body []byte, requestID string) time.Duration {
	b.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.http.URL+"/aws/firehose/"+s.id, bytes.NewReader(body))
	req.Header.Set("X-Amz-Firehose-Request-Id", requestID)
	req.Header.Set("X-Amz-Firehose-Access-Key", s.key)
	t0 := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(t0)
	if resp.StatusCode != 200 {
		b.Fatalf("delivery answered %d", resp.StatusCode)
	}
	return d
}

// BenchmarkServeLogStore: the local server ingesting deliveries of 10,000 lines while a
// searcher asks GET /api/logs back to back (words, a level, a request id, a log group), paired
// in each iteration with a server without the log store taking the same delivery. Reports
// events/s of each (wall time of the request), their ratio, and the searches' p50/p99.
func BenchmarkServeLogStore(b *testing.B) {
	const records, perRecord = 10, 1000
	on, off := newBenchServer(b, false), newBenchServer(b, true)
	ctx, stop := context.WithCancel(context.Background())
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		qs := []url.Values{
			{"q": {"declined"}},
			{"q": {"card timeout"}},
			{"level": {"error"}},
			{"logGroup": {"/aws/lambda/fn-3"}, "q": {"retry"}},
			{"requestId": {"00000010-0000-4000-8000-000000000001"}},
			{},
			{"q": {"ship*"}, "since": {"10m"}},
		}
		for i := 0; ctx.Err() == nil; i++ {
			t0 := time.Now()
			resp, err := http.Get(on.http.URL + "/api/logs?limit=50&" + qs[i%len(qs)].Encode())
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			d := time.Since(t0)
			if resp.StatusCode != 200 {
				b.Errorf("search answered %d", resp.StatusCode)
				return
			}
			mu.Lock()
			lat = append(lat, d)
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	var tOn, tOff, cpuOn, cpuOff time.Duration
	events := 0
	for n := 0; b.Loop(); n++ {
		body := serveDelivery(n, records, perRecord)
		rid := fmt.Sprintf("req-%d", n)
		postOn := func() {
			c := processCPU(b)
			tOn += on.post(b, body, rid)
			cpuOn += processCPU(b) - c
		}
		postOff := func() {
			c := processCPU(b)
			tOff += off.post(b, body, rid)
			cpuOff += processCPU(b) - c
		}
		if n%2 == 0 {
			postOn()
			postOff()
		} else {
			postOff()
			postOn()
		}
		events += records * perRecord
	}
	b.StopTimer()
	stop()
	wg.Wait()
	b.ReportMetric(float64(events)/tOn.Seconds(), "store-events/s")
	b.ReportMetric(float64(events)/tOff.Seconds(), "nostore-events/s")
	b.ReportMetric(tOff.Seconds()/tOn.Seconds(), "store/nostore")
	// The process's CPU time while each server took its deliveries (the searcher runs during
	// both): the difference is what the log store costs a line.
	b.ReportMetric(float64((cpuOn-cpuOff).Nanoseconds())/float64(events), "store-cpu-ns/line")
	b.ReportMetric(float64(cpuOff.Nanoseconds())/float64(events), "nostore-cpu-ns/line")
	if len(lat) > 0 {
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "search-p50-ms")
		b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "search-p99-ms")
		b.ReportMetric(float64(len(lat)), "searches")
	}
}
