package grouping

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkAnalyze fingerprints the corpus and the conformance examples, one
// message per iteration. msgs/s is messages per second of wall time;
// cpu-msgs/s is messages per second of the process's CPU time, which stays
// meaningful when the machine is shared and the benchmark does not get a
// whole core (0 where the platform cannot tell).
func BenchmarkAnalyze(b *testing.B) {
	entries := append(loadEntries(b, examplesPath), loadEntries(b, filepath.Join("testdata", "corpus.jsonl"))...)
	var bytes int64
	for _, e := range entries {
		bytes += int64(len(e.Message))
	}
	b.SetBytes(bytes / int64(len(entries)))
	b.ReportAllocs()
	cpu0 := processCPU()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		e := &entries[i%len(entries)]
		Analyze(e.Message, e.LogGroup)
	}
	reportRates(b, cpu0)
}

// reportRates reports messages per second of wall time and of CPU time.
func reportRates(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "cpu-msgs/s")
	}
}

// BenchmarkAnalyze8KB fingerprints one 8 KiB Java trace (Caused by, 80 frames).
func BenchmarkAnalyze8KB(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("2026-11-21 01:02:03.456 ERROR [http-nio-8080-exec-7] c.a.o.OrderController - request failed\n")
	sb.WriteString("org.springframework.web.util.NestedServletException: Request processing failed; nested exception is java.lang.IllegalStateException: order 42 has no lines\n")
	for i := 0; sb.Len() < 5<<10; i++ {
		fmt.Fprintf(&sb, "\tat org.springframework.web.servlet.FrameworkServlet.processRequest%d(FrameworkServlet.java:%d)\n", i, 1000+i)
	}
	sb.WriteString("Caused by: java.lang.IllegalStateException: order 42 has no lines\n")
	for i := 0; sb.Len() < 8<<10-64; i++ {
		fmt.Fprintf(&sb, "\tat com.acme.orders.OrderService.step%d(OrderService.java:%d)\n", i%7, 10+i)
	}
	sb.WriteString("\t... 80 more")
	msg := sb.String()
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		Analyze(msg, "/aws/lambda/orders")
	}
	reportRates(b, cpu0)
}

// BenchmarkAnalyzeKinds is BenchmarkAnalyze over the JSON messages and over the text
// ones apart (the JSON path cost three times the text one through encoding/json).
func BenchmarkAnalyzeKinds(b *testing.B) {
	all := append(loadEntries(b, examplesPath), loadEntries(b, filepath.Join("testdata", "corpus.jsonl"))...)
	for _, kind := range []string{"json", "text"} {
		var entries []corpusEntry
		for _, e := range all {
			if strings.HasPrefix(trimSpace(e.Message), "{") == (kind == "json") {
				entries = append(entries, e)
			}
		}
		b.Run(kind, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := processCPU()
			for i := 0; b.Loop(); i++ {
				e := &entries[i%len(entries)]
				Analyze(e.Message, e.LogGroup)
			}
			reportRates(b, cpu0)
		})
	}
}
