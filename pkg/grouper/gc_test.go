package grouper_test

import (
	"runtime/debug"
	"testing"

	"github.com/aient/firehose-drain/pkg/grouper"
)

// TestTuneGC: the function's collector settings are set and restored; an operator's own
// GOGC and GOMEMLIMIT are kept.
func TestTuneGC(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	gcPercent := func() int { p := debug.SetGCPercent(100); debug.SetGCPercent(p); return p }
	before, limit := gcPercent(), debug.SetMemoryLimit(-1)

	restore := grouper.TuneGC(512, env(nil))
	if got := gcPercent(); got != grouper.GCPercent {
		t.Errorf("GC percent %d, want %d", got, grouper.GCPercent)
	}
	if got, want := debug.SetMemoryLimit(-1), int64(512*grouper.MemoryLimitShare*(1<<20)); got != want {
		t.Errorf("memory limit %d, want %d", got, want)
	}
	restore()
	if gcPercent() != before || debug.SetMemoryLimit(-1) != limit {
		t.Errorf("after restore: GC percent %d, limit %d; want %d, %d", gcPercent(), debug.SetMemoryLimit(-1), before, limit)
	}

	restore = grouper.TuneGC(512, env(map[string]string{"GOGC": "50", "GOMEMLIMIT": "100MiB"}))
	if gcPercent() != before || debug.SetMemoryLimit(-1) != limit {
		t.Errorf("with GOGC and GOMEMLIMIT set: GC percent %d, limit %d; want them untouched", gcPercent(), debug.SetMemoryLimit(-1))
	}
	restore()
	restore = grouper.TuneGC(0, env(nil))
	if debug.SetMemoryLimit(-1) != limit {
		t.Error("with the memory unknown, a memory limit was set")
	}
	restore()

	for v, want := range map[string]int{"1024": 1024, "": 0, "x": 0, "-1": 0} {
		if got := grouper.FunctionMemoryMB(env(map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": v})); got != want {
			t.Errorf("FunctionMemoryMB(%q) = %d, want %d", v, got, want)
		}
	}
}
