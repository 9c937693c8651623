package cwpayload

import (
	"bytes"
	stdgzip "compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/aient/firehose-drain/pkg/firehose"
)

// benchSizes are the Firehose body sizes of issue 2: a ~1 MiB and a ~5.5 MB request.
var benchSizes = []struct {
	name string
	size int
}{
	{"1MiB", 1 << 20},
	{"5.5MB", 5_500_000},
}

// eventPath runs the ingest's decode path on one Function URL event: parse the event,
// decode the content, parse the body, decode every record with one worker.
func eventPath(b *testing.B, d *Decoder, payload []byte, inPlace bool) (events, errs int) {
	parse := firehose.ParseURLEvent
	if inPlace {
		parse = firehose.ParseURLEventInPlace
	}
	req, err := parse(payload)
	if err != nil {
		b.Fatal(err)
	}
	content, err := firehose.DecodeContent(req.Body, req.Headers[firehose.HeaderContentEncoding], DefaultMaxRequestInflated)
	if err != nil {
		b.Fatal(err)
	}
	body, err := firehose.ParseBody(content)
	if err != nil {
		b.Fatal(err)
	}
	region, _ := firehose.ParseSourceARN(req.Headers[firehose.HeaderSourceARN])
	st := &Stamp{Drain: "drn_bench", Org: "acme", Env: "prod", Region: region, RequestID: body.RequestID}
	for _, r := range d.DecodeRecords(context.Background(), body.Records, st, 1) {
		if r.Err != nil {
			b.Fatal(r.Err)
		}
		events += r.Events
		errs += len(r.Errors)
	}
	return events, errs
}

// BenchmarkEventPath measures Function URL event bytes -> classified, stamped events on one
// worker, in MB/s of inflated CloudWatch payload. /copy uses ParseURLEvent (the body is
// copied out of the event), /inplace ParseURLEventInPlace on a fresh copy of the event per
// iteration (what the Lambda runtime hands the handler); the copy is timed.
func BenchmarkEventPath(b *testing.B) {
	for _, sz := range benchSizes {
		g := generateRequest(1, sz.size)
		for _, mode := range []string{"copy", "inplace"} {
			b.Run(sz.name+"/"+mode, func(b *testing.B) {
				d := NewDecoder(DefaultLimits())
				buf := make([]byte, len(g.urlEvent))
				b.SetBytes(g.inflated)
				b.ReportAllocs()
				total := 0
				cpu := startCPU(b)
				for b.Loop() {
					payload := g.urlEvent
					if mode == "inplace" {
						copy(buf, g.urlEvent)
						payload = buf
					}
					events, errs := eventPath(b, d, payload, mode == "inplace")
					if events != g.events || errs != g.errors {
						b.Fatalf("decoded %d events, %d errors; generated %d, %d", events, errs, g.events, g.errors)
					}
					total += events
				}
				cpu.report(b, g.inflated)
				b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "events/s")
				b.ReportMetric(float64(len(g.urlEvent)), "request-B")
			})
		}
	}
}

type floorDoc struct {
	MessageType         string   `json:"messageType"`
	Owner               string   `json:"owner"`
	LogGroup            string   `json:"logGroup"`
	LogStream           string   `json:"logStream"`
	SubscriptionFilters []string `json:"subscriptionFilters"`
	LogEvents           []struct {
		ID        string `json:"id"`
		Timestamp int64  `json:"timestamp"`
		Message   string `json:"message"`
	} `json:"logEvents"`
}

// BenchmarkStdlibFloor is the reference of issue 2: std base64 + compress/gzip +
// encoding/json into plain structs, over the same records.
func BenchmarkStdlibFloor(b *testing.B) {
	for _, sz := range benchSizes {
		g := generateRequest(1, sz.size)
		b.Run(sz.name, func(b *testing.B) {
			b.SetBytes(g.inflated)
			b.ReportAllocs()
			cpu := startCPU(b)
			defer cpu.report(b, g.inflated)
			for b.Loop() {
				events := 0
				for _, rec := range g.records {
					raw, err := base64.StdEncoding.DecodeString(string(rec))
					if err != nil {
						b.Fatal(err)
					}
					zr, err := stdgzip.NewReader(bytes.NewReader(raw))
					if err != nil {
						b.Fatal(err)
					}
					dec := json.NewDecoder(zr)
					for {
						var doc floorDoc
						if err := dec.Decode(&doc); err == io.EOF {
							break
						} else if err != nil {
							b.Fatal(err)
						}
						events += len(doc.LogEvents)
					}
				}
				if events != g.events {
					b.Fatalf("decoded %d events, generated %d", events, g.events)
				}
			}
		})
	}
}

// BenchmarkInflateOnly is the other reference: klauspost gunzip of the same records
// (already base64-decoded), output discarded.
func BenchmarkInflateOnly(b *testing.B) {
	for _, sz := range benchSizes {
		g := generateRequest(1, sz.size)
		raws := make([][]byte, len(g.records))
		for i, rec := range g.records {
			raws[i], _ = base64.StdEncoding.DecodeString(string(rec))
		}
		b.Run(sz.name, func(b *testing.B) {
			b.SetBytes(g.inflated)
			b.ReportAllocs()
			var zr gzip.Reader
			br := bytes.NewReader(nil)
			cpu := startCPU(b)
			defer cpu.report(b, g.inflated)
			for b.Loop() {
				for _, raw := range raws {
					br.Reset(raw)
					if err := zr.Reset(br); err != nil {
						b.Fatal(err)
					}
					if _, err := io.Copy(io.Discard, &zr); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkParseOnly isolates the tokenizer and level classification: the inflated
// CloudWatch documents of the 1 MiB request, already in memory.
func BenchmarkParseOnly(b *testing.B) {
	g := generateRequest(1, 1<<20)
	b.SetBytes(g.inflated)
	b.ReportAllocs()
	var p parser
	st := &Stamp{Drain: "d"}
	cpu := startCPU(b)
	defer cpu.report(b, g.inflated)
	for b.Loop() {
		for _, pl := range g.payloads {
			var res RecordResult
			if err := p.parseRecord(pl, st, &res); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkPathVsInflate runs the event path (in place) and inflate-only alternately in one
// loop, so both see the same load on a shared machine, and reports their throughput from the
// fastest iteration of each (the least disturbed) and the ratio of the two: the issue's
// event path / inflate-alone figure, less noisy than dividing two separate benchmarks.
func BenchmarkPathVsInflate(b *testing.B) {
	for _, sz := range benchSizes {
		g := generateRequest(1, sz.size)
		raws := make([][]byte, len(g.records))
		for i, rec := range g.records {
			raws[i], _ = base64.StdEncoding.DecodeString(string(rec))
		}
		b.Run(sz.name, func(b *testing.B) {
			d := NewDecoder(DefaultLimits())
			buf := make([]byte, len(g.urlEvent))
			var zr gzip.Reader
			br := bytes.NewReader(nil)
			minPath, minInflate := time.Duration(1<<62), time.Duration(1<<62)
			b.SetBytes(2 * g.inflated)
			for b.Loop() {
				t0 := time.Now()
				for _, raw := range raws {
					br.Reset(raw)
					if err := zr.Reset(br); err != nil {
						b.Fatal(err)
					}
					if _, err := io.Copy(io.Discard, &zr); err != nil {
						b.Fatal(err)
					}
				}
				t1 := time.Now()
				copy(buf, g.urlEvent)
				if events, _ := eventPath(b, d, buf, true); events != g.events {
					b.Fatalf("decoded %d events, generated %d", events, g.events)
				}
				t2 := time.Now()
				minInflate = min(minInflate, t1.Sub(t0))
				minPath = min(minPath, t2.Sub(t1))
			}
			b.ReportMetric(float64(g.inflated)/minPath.Seconds()/1e6, "path-MB/s")
			b.ReportMetric(float64(g.inflated)/minInflate.Seconds()/1e6, "inflate-MB/s")
			b.ReportMetric(minInflate.Seconds()/minPath.Seconds(), "path/inflate")
		})
	}
}

// BenchmarkFirstRequest decodes the 5.5 MB request with a new Decoder each time (a cold
// Lambda, or the first request after the pool dropped its buffers), with the inflate
// buffers sized from each record's gzip trailer (presize) and grown by appending (grow):
// allocated bytes per request and the ratio to the request size.
func BenchmarkFirstRequest(b *testing.B) {
	g := generateRequest(1, 5_500_000)
	for _, mode := range []string{"presize", "grow"} {
		b.Run(mode, func(b *testing.B) {
			buf := make([]byte, len(g.urlEvent))
			b.SetBytes(g.inflated)
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				d := NewDecoder(DefaultLimits())
				d.noPresize = mode == "grow"
				copy(buf, g.urlEvent)
				if events, _ := eventPath(b, d, buf, true); events != g.events {
					b.Fatalf("decoded %d events, want %d", events, g.events)
				}
			}
			runtime.ReadMemStats(&after)
			perReq := float64(after.TotalAlloc-before.TotalAlloc) / float64(b.N)
			b.ReportMetric(perReq/float64(len(g.urlEvent)), "alloc/request-size")
		})
	}
}
