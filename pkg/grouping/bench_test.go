package grouping

import (
	"path/filepath"
	"testing"
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
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "cpu-msgs/s")
	}
}
