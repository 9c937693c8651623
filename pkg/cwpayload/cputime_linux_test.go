package cwpayload

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// cpuMeter reports the benchmark's throughput in CPU time of its thread (cpu-MB/s), which
// a machine shared with other processes disturbs far less than wall time.
type cpuMeter struct{ start time.Duration }

func startCPU(b *testing.B) *cpuMeter {
	runtime.LockOSThread()
	b.Cleanup(runtime.UnlockOSThread)
	return &cpuMeter{start: threadCPU()}
}

func (m *cpuMeter) report(b *testing.B, bytesPerOp int64) {
	if d := threadCPU() - m.start; d > 0 && b.N > 0 {
		b.ReportMetric(float64(bytesPerOp)*float64(b.N)/d.Seconds()/1e6, "cpu-MB/s")
	}
}

func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
