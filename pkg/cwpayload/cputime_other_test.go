//go:build !linux

package cwpayload

import "testing"

type cpuMeter struct{}

func startCPU(*testing.B) *cpuMeter        { return &cpuMeter{} }
func (*cpuMeter) report(*testing.B, int64) {}
