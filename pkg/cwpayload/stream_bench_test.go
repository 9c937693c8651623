package cwpayload

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkStreamVsFirehose pairs, in one loop, the two ways the same CloudWatch payload
// arrives: as a Firehose Function URL event (the ingest's event path, one worker) and as
// the S3 object Firehose writes of the same records (their gzip members concatenated, read
// by DecodeStream). Both report MB/s of inflated payload per second of the thread's CPU
// time (the machine is shared); stream/firehose is their ratio.
func BenchmarkStreamVsFirehose(b *testing.B) {
	g := generateRequest(1, 5_500_000)
	var obj []byte
	for _, rec := range g.records {
		raw, _ := base64.StdEncoding.DecodeString(string(rec))
		obj = append(obj, raw...)
	}
	d := NewDecoder(DefaultLimits())
	buf := make([]byte, len(g.urlEvent))
	minFH, minS3 := time.Duration(1<<62), time.Duration(1<<62)
	startCPU(b) // both paths run on this thread; times are its CPU time
	for b.Loop() {
		t0 := threadCPU()
		copy(buf, g.urlEvent)
		if events, _ := eventPath(b, d, buf, true); events != g.events {
			b.Fatalf("firehose path decoded %d events, generated %d", events, g.events)
		}
		t1 := threadCPU()
		events := 0
		if _, err := d.DecodeStream(context.Background(), bytes.NewReader(obj), nil, func(r *DocResult) error {
			events += r.Result.Events
			if r.Err != nil {
				return r.Err
			}
			return nil
		}); err != nil || events != g.events {
			b.Fatalf("stream decoded %d events (%v), generated %d", events, err, g.events)
		}
		t2 := threadCPU()
		minFH, minS3 = min(minFH, t1-t0), min(minS3, t2-t1)
	}
	b.ReportMetric(float64(g.inflated)/minFH.Seconds()/1e6, "firehose-MB/s")
	b.ReportMetric(float64(g.inflated)/minS3.Seconds()/1e6, "stream-MB/s")
	b.ReportMetric(minFH.Seconds()/minS3.Seconds(), "stream/firehose")
}

// BenchmarkStream200MB streams a 200 MB (inflated) S3 object — gzip members generated on
// the fly, so the input is never in memory — and reports MB/s of inflated payload (per
// second of the thread's CPU time) and the
// process's peak RSS (VmHWM; run it alone: -bench Stream200MB -benchtime 1x).
func BenchmarkStream200MB(b *testing.B) {
	g := generateRequest(2, 1<<20)
	var members []byte
	for _, rec := range g.records {
		raw, _ := base64.StdEncoding.DecodeString(string(rec))
		members = append(members, raw...)
	}
	rounds := int64(200<<20) / g.inflated
	d := NewDecoder(DefaultLimits())
	var best time.Duration = 1 << 62
	startCPU(b)
	for b.Loop() {
		t0 := threadCPU()
		var inflated int64
		stats, err := d.DecodeStream(context.Background(), &repeatReader{docs: members, n: rounds * int64(len(members))}, nil, func(r *DocResult) error {
			if r.Err != nil {
				return r.Err
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		inflated = stats.Bytes
		if inflated != rounds*g.inflated {
			b.Fatalf("inflated %d bytes, want %d", inflated, rounds*g.inflated)
		}
		best = min(best, threadCPU()-t0)
	}
	b.ReportMetric(float64(rounds*g.inflated)/best.Seconds()/1e6, "inflated-MB/s")
	b.ReportMetric(float64(rounds*g.inflated)/1e6, "object-MB")
	if hwm := peakRSS(); hwm > 0 {
		b.ReportMetric(float64(hwm)/(1<<20), "peak-RSS-MiB")
	}
}

// peakRSS is the process's VmHWM in bytes (Linux), 0 elsewhere.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n << 10
		}
	}
	return 0
}
