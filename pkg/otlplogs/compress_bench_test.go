package otlplogs_test

import (
	"bytes"
	stdgzip "compress/gzip"
	"io"
	"log/slog"
	"strconv"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/aient/firehose-drain/pkg/otlplogs"
)

// BenchmarkCompressors compresses the http/protobuf batches of the benchmark's delivery
// (as the export sends them, uncompressed) with each gzip the export could use, one core:
//
//	go test -run '^$' -bench Compressors -count 6 -cpu 1 ./pkg/otlplogs
//
// MB/s is of uncompressed protobuf; wireB/event the gzip bytes per log record. The export's
// default (klauspost level 1, Config.GzipLevel) is chosen from it: see the README.
func BenchmarkCompressors(b *testing.B) {
	body, events := benchDelivery(5_500_000)
	c := newCapture(b)
	x, err := otlplogs.New(otlplogs.Config{Endpoint: c.srv.URL + "/v1/logs", Compression: otlplogs.CompressionNone}, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	mustOK(b, benchHandler(b, x), benchRequest(body))
	raw := 0
	for _, p := range c.bodies {
		raw += len(p)
	}
	type writer interface {
		io.WriteCloser
		Reset(io.Writer)
	}
	run := func(b *testing.B, zw writer) {
		var out bytes.Buffer
		b.SetBytes(int64(raw))
		n := 0
		for b.Loop() {
			n = 0
			for _, p := range c.bodies {
				out.Reset()
				zw.Reset(&out)
				if _, err := zw.Write(p); err != nil {
					b.Fatal(err)
				}
				if err := zw.Close(); err != nil {
					b.Fatal(err)
				}
				n += out.Len()
			}
		}
		b.ReportMetric(float64(n)/float64(events), "wireB/event")
		b.ReportMetric(float64(raw)/float64(events), "protobufB/event")
	}
	for _, level := range []int{gzip.StatelessCompression, gzip.HuffmanOnly, 1, 2, 3} {
		b.Run("klauspost/level="+strconv.Itoa(level), func(b *testing.B) {
			zw, err := gzip.NewWriterLevel(io.Discard, level)
			if err != nil {
				b.Fatal(err)
			}
			run(b, zw)
		})
	}
	b.Run("stdlib/level=1", func(b *testing.B) {
		zw, err := stdgzip.NewWriterLevel(io.Discard, stdgzip.BestSpeed)
		if err != nil {
			b.Fatal(err)
		}
		run(b, zw)
	})
}
