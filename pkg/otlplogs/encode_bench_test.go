package otlplogs

import (
	"context"
	"log/slog"
	"sync"
	"syscall"
	"testing"
	"time"

	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
	"github.com/aient/firehose-drain/pkg/cwpayload"
	"github.com/aient/firehose-drain/pkg/firehose"
)

// BenchmarkEncodeWire is the http/protobuf encoder alone over the events of the export
// benchmarks' ~5.5 MB delivery (firehosetest.LambdaDelivery), decoded once beforehand:
// what the export adds to the decoding before any compression or posting,
//
//	go test -run '^$' -bench EncodeWire -count 6 -cpu 1 ./pkg/otlplogs
//
// It reports the process's CPU time per event (the machine is shared: wall time is noisy)
// and protobuf bytes per event; BenchmarkCompressors prices the
// compression of the same batches.
func BenchmarkEncodeWire(b *testing.B) {
	body, _ := fht.LambdaDelivery(5_500_000)
	views := decodedViews(b, body)
	x, err := New(Config{Endpoint: "http://127.0.0.1:9/v1/logs", Compression: CompressionNone}, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	// Batches of the default bounds, flushed here rather than posted: the encoder's own
	// bounds are set past them, so that its flush (which posts) never runs.
	maxRecords, maxBytes := x.cfg.MaxBatchRecords, x.cfg.MaxBatchBytes
	x.cfg.MaxBatchRecords, x.cfg.MaxBatchBytes = 2*maxRecords, 2*maxBytes
	s := x.Begin(context.Background(), Delivery{Drain: "drn_bench", Org: "acme", Env: "prod", Observed: time.Unix(1_700_000_000, 0)})
	e := newEncoder()
	e.s = s
	size := 0
	flush := func() {
		buf := e.flushWire()
		size += len(buf)
		e.reset()
		x.putBuf(buf)
	}
	c0 := processCPU()
	for b.Loop() {
		size = 0
		for i := range views {
			if e.nrec >= maxRecords || e.size >= maxBytes {
				flush()
			}
			e.Visit(&views[i])
		}
		flush()
	}
	b.ReportMetric(float64(processCPU()-c0)/float64(b.N)/float64(len(views)), "cpu-ns/event")
	b.ReportMetric(float64(size)/float64(len(views)), "protobufB/event")
}

// decodedViews decodes a Firehose body and returns a copy of every View its records gave.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func decodedViews(b *testing.B, body []byte) []cwpayload.View {
	fb, err := firehose.ParseBody(body)
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	var views []cwpayload.View
	st := &cwpayload.Stamp{Drain: "drn_bench", Org: "acme", Env: "prod", Region: "us-east-2", Visit: func(int) cwpayload.Visitor {
		return copyViews{&mu, &views}
	}}
	d := cwpayload.NewDecoder(cwpayload.Limits{})
	d.DecodeRecordsPooled(context.Background(), fb.Records, st, 1).Release()
	if len(views) == 0 {
		b.Fatal("no events")
	}
	return views
}

type copyViews struct {
	mu    *sync.Mutex
	views *[]cwpayload.View
}

func (c copyViews) Visit(v *cwpayload.View) {
	w := *v
	w.ID, w.Message = append([]byte(nil), v.ID...), append([]byte(nil), v.Message...)
	if v.RequestID != nil {
		w.RequestID = append([]byte(nil), v.RequestID...)
	}
	c.mu.Lock()
	*c.views = append(*c.views, w)
	c.mu.Unlock()
}

func (copyViews) End() {}
