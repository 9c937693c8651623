package grouper

import (
	"runtime/debug"
	"strconv"
)

// How the grouper function runs Go's garbage collector (TuneGC). A batch of 100 messages
// allocates ~3 MB, most of it the AWS SDK's encoding of the transactions, over a live heap
// of a few MB: with the default GOGC=100 the collector ran about once a batch, and
// BenchmarkGrouperBatch spent ~40 % less CPU per cold batch at GCPercent (paired, GOGC=100
// against 400). At GCPercent the heap may grow to five times the live heap between
// collections; the soft memory limit, a share of the function's memory, makes the
// collector run sooner before that could matter (a batch's payload is at most 6 MB).
const (
	GCPercent = 400
	// MemoryLimitShare is the share of the function's memory the soft limit is set to.
	MemoryLimitShare = 0.75
)

// TuneGC sets the collector as the grouper function runs it: GCPercent, and a soft memory
// limit of MemoryLimitShare of memoryMB (none when memoryMB <= 0). getenv reads the
// process's environment: an operator's own GOGC or GOMEMLIMIT is kept. It returns what
// restores the settings it changed (for benchmarks, which run the grouper as the function
// does).
func TuneGC(memoryMB int, getenv func(string) string) (restore func()) {
	var undo []func()
	if getenv("GOGC") == "" {
		old := debug.SetGCPercent(GCPercent)
		undo = append(undo, func() { debug.SetGCPercent(old) })
	}
	if getenv("GOMEMLIMIT") == "" && memoryMB > 0 {
		old := debug.SetMemoryLimit(int64(float64(memoryMB) * MemoryLimitShare * (1 << 20)))
		undo = append(undo, func() { debug.SetMemoryLimit(old) })
	}
	return func() {
		for _, u := range undo {
			u()
		}
	}
}

// FunctionMemoryMB is the function's memory as Lambda tells it
// (AWS_LAMBDA_FUNCTION_MEMORY_SIZE), 0 when unknown.
func FunctionMemoryMB(getenv func(string) string) int {
	n, err := strconv.Atoi(getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"))
	if err != nil || n < 0 {
		return 0
	}
	return n
}
