package otlplogs_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
	"github.com/aient/firehose-drain/pkg/dedup"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/ingest"
	"github.com/aient/firehose-drain/pkg/otlplogs"
)

// The benchmark of issue 10: the whole ingest handler over a ~5.5 MB Firehose delivery, with
// the export off and on (to a receiver that reads and discards), on one core:
//
//	go test -run '^$' -bench IngestExport -count 6 -cpu 1 ./pkg/otlplogs
//
// Paired runs off and on alternately in one loop and reports their ratio; the others report
// MB/s of request, events/s, allocated bytes per request (B/op) and wire bytes per event.

type benchAuth struct{ d drains.Drain }

func (a benchAuth) Authenticate(context.Context, string, string) (drains.Drain, error) {
	return a.d, nil
}

type benchBooks struct{}

func (benchBooks) RecordDelivery(context.Context, string, drains.Delivery) error { return nil }
func (benchBooks) RecordAuthFailure(context.Context, string, drains.Note, time.Duration) (bool, error) {
	return true, nil
}

type benchClaims struct{}

func (benchClaims) Claim(_ context.Context, keys []string) (*dedup.Batch, error) {
	o := make([]dedup.Outcome, len(keys))
	for i := range o {
		o[i] = dedup.Fresh
	}
	return &dedup.Batch{Token: "t", Keys: keys, Outcomes: o}, nil
}
func (benchClaims) Commit(context.Context, *dedup.Batch) error  { return nil }
func (benchClaims) Release(context.Context, *dedup.Batch) error { return nil }

type benchSender struct{}

func (benchSender) Send(context.Context, []event.Event) error { return nil }

// benchDelivery is the benchmarks' Firehose body of about size bytes
// (firehosetest.LambdaDelivery).
func benchDelivery(size int) (body []byte, events int) { return fht.LambdaDelivery(size) }

// discard is an OTLP receiver that reads every request and answers an empty success.
type discard struct {
	srv   *httptest.Server
	bytes atomic.Int64
	reqs  atomic.Int64
}

func newDiscard(b *testing.B) *discard {
	d := &discard{}
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		d.bytes.Add(n)
		d.reqs.Add(1)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	b.Cleanup(d.srv.Close)
	return d
}

func benchHandler(b *testing.B, x *otlplogs.Exporter) *ingest.Handler {
	cfg := ingest.Config{Workers: 1, Logger: slog.New(slog.DiscardHandler)}
	if x != nil {
		cfg.Export = x
	}
	return ingest.New(benchAuth{drains.Drain{ID: "drn_bench", Org: "acme", Env: "prod", State: drains.StateActive}},
		benchBooks{}, benchClaims{}, benchSender{}, cfg)
}

func benchRequest(body []byte) ingest.Request {
	h := map[string]string{
		"x-amz-firehose-request-id": fht.LambdaDeliveryRequestID, "x-amz-firehose-access-key": "k",
		"x-amz-firehose-source-arn": "arn:aws:firehose:us-east-2:366620023056:deliverystream/aient",
	}
	return ingest.Request{Method: http.MethodPost, Path: ingest.PathPrefix + "drn_bench", Header: func(n string) string { return h[n] }, Body: body}
}

func mustOK(b *testing.B, h *ingest.Handler, req ingest.Request) {
	resp := h.Handle(context.Background(), req)
	if resp.Status != http.StatusOK {
		var m map[string]any
		_ = json.Unmarshal(resp.Body, &m)
		b.Fatalf("status %d %v", resp.Status, m)
	}
}

func BenchmarkIngestExport(b *testing.B) {
	body, events := benchDelivery(5_500_000)
	req := benchRequest(body)
	variants := []struct {
		name string
		cfg  *otlplogs.Config // nil: export off
	}{
		{"off", nil},
		{"protobuf+gzip1", &otlplogs.Config{GzipLevel: 1}},
		{"protobuf+none", &otlplogs.Config{Compression: otlplogs.CompressionNone}},
		{"protobuf+huffman", &otlplogs.Config{GzipLevel: -2}},
		{"protobuf+gzip5", &otlplogs.Config{GzipLevel: 5}},
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			d := newDiscard(b)
			var x *otlplogs.Exporter
			if v.cfg != nil {
				c := *v.cfg
				c.Endpoint = d.srv.URL + "/v1/logs"
				var err error
				if x, err = otlplogs.New(c, nil, slog.New(slog.DiscardHandler)); err != nil {
					b.Fatal(err)
				}
			}
			h := benchHandler(b, x)
			mustOK(b, h, req) // warm the pools and the connections
			d.bytes.Store(0)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				mustOK(b, h, req)
			}
			b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			if x != nil {
				b.ReportMetric(float64(d.bytes.Load())/float64(events)/float64(b.N), "wireB/event")
			}
			b.ReportMetric(float64(len(body)), "request-B")
		})
	}
}

// BenchmarkIngestExportPaired runs the delivery with the export off, on (protobuf + gzip
// level 1, the default) and on uncompressed, alternately in one loop, and reports as
// process CPU time (the machine is shared: wall time is noisy; with -cpu 1 it is the
// handler's, the receiver's and the GC's):
//
//   - throughput-ratio(cpu): on/off throughput (the goal: >= 0.5), and -none: the same
//     uncompressed;
//   - MB/s-off, MB/s-on (of request) and events/s-on;
//   - encode-share: the part of the export's CPU (on - off) that is not gzip (none - off,
//     the encoding, the batching and the posting), the rest being the compression;
//   - alloc-on-x and alloc-off-x: bytes allocated per request, as multiples of the
//     request's size (the goal: on <= 2);
//   - wireB/event: gzip bytes sent per log record.
func BenchmarkIngestExportPaired(b *testing.B) {
	body, events := benchDelivery(5_500_000)
	req := benchRequest(body)
	d := newDiscard(b)
	log := slog.New(slog.DiscardHandler)
	x, err := otlplogs.New(otlplogs.Config{Endpoint: d.srv.URL + "/v1/logs"}, nil, log)
	if err != nil {
		b.Fatal(err)
	}
	dn := newDiscard(b)
	xn, err := otlplogs.New(otlplogs.Config{Endpoint: dn.srv.URL + "/v1/logs", Compression: otlplogs.CompressionNone}, nil, log)
	if err != nil {
		b.Fatal(err)
	}
	off, on, none := benchHandler(b, nil), benchHandler(b, x), benchHandler(b, xn)
	// Warm the pools, the free lists and the connections: a run of -count is often one
	// iteration, and the allocations are to be the steady state's.
	for range 2 {
		for _, h := range []*ingest.Handler{off, on, none} {
			mustOK(b, h, req)
		}
	}
	d.bytes.Store(0)
	var cOff, cOn, cNone time.Duration
	var aOff, aOn uint64
	var ms runtime.MemStats
	alloc := func() uint64 { runtime.ReadMemStats(&ms); return ms.TotalAlloc }
	b.SetBytes(3 * int64(len(body)))
	for b.Loop() {
		a0, c0 := alloc(), cpuTime()
		mustOK(b, off, req)
		c1, a1 := cpuTime(), alloc()
		mustOK(b, on, req)
		c2, a2 := cpuTime(), alloc()
		mustOK(b, none, req)
		c3 := cpuTime()
		cOff, cOn, cNone = cOff+c1-c0, cOn+c2-c1, cNone+c3-c2
		aOff, aOn = aOff+a1-a0, aOn+a2-a1
	}
	n, size := float64(b.N), float64(len(body))
	b.ReportMetric(float64(cOff)/float64(cOn), "throughput-ratio(cpu)")
	b.ReportMetric(float64(cOff)/float64(cNone), "throughput-ratio-none(cpu)")
	b.ReportMetric(size*n/cOff.Seconds()/1e6, "MB/s-off(cpu)")
	b.ReportMetric(size*n/cOn.Seconds()/1e6, "MB/s-on(cpu)")
	b.ReportMetric(float64(events)*n/cOn.Seconds(), "events/s-on(cpu)")
	if cOn > cOff {
		b.ReportMetric(float64(cNone-cOff)/float64(cOn-cOff), "encode-share")
	}
	b.ReportMetric(float64(aOff)/n/size, "alloc-off-x")
	b.ReportMetric(float64(aOn)/n/size, "alloc-on-x")
	b.ReportMetric(float64(d.bytes.Load())/float64(events)/n, "wireB/event")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
