package cwpayload

import (
	"testing"
	"time"
)

// BenchmarkStitchVsPlain runs the event path (in place) with stitching (what the ingest
// does) and without it alternately in one loop on the benchmark delivery, and reports the
// throughput of each from its fastest iteration and their ratio (stitched/plain, 1 when
// stitching costs nothing).
func BenchmarkStitchVsPlain(b *testing.B) {
	for _, sz := range benchSizes {
		g := generateRequest(1, sz.size)
		b.Run(sz.name, func(b *testing.B) {
			stitched := NewDecoder(DefaultLimits())
			plain := stitched.WithoutStitching()
			buf := make([]byte, len(g.urlEvent))
			minS, minP := time.Duration(1<<62), time.Duration(1<<62)
			b.SetBytes(2 * g.inflated)
			run := func(d *Decoder) time.Duration {
				copy(buf, g.urlEvent)
				t0 := time.Now()
				if events, _ := eventPath(b, d, buf, true); events != g.events {
					b.Fatalf("decoded %d events, generated %d", events, g.events)
				}
				return time.Since(t0)
			}
			for i := 0; b.Loop(); i++ {
				// Alternate which goes first, so neither always inherits the other's garbage.
				if i%2 == 0 {
					minP = min(minP, run(plain))
					minS = min(minS, run(stitched))
				} else {
					minS = min(minS, run(stitched))
					minP = min(minP, run(plain))
				}
			}
			b.ReportMetric(float64(g.inflated)/minS.Seconds()/1e6, "stitched-MB/s")
			b.ReportMetric(float64(g.inflated)/minP.Seconds()/1e6, "plain-MB/s")
			b.ReportMetric(minP.Seconds()/minS.Seconds(), "stitched/plain")
		})
	}
}
