package cwpayload

import (
	"encoding/json"
	"testing"

	"github.com/aient/firehose-drain/pkg/level"
)

func BenchmarkLevelMix(b *testing.B) {
	g := generateRequest(1, 1<<20)
	var msgs [][]byte
	for _, pl := range g.payloads {
		var d genDoc
		json.Unmarshal(pl, &d)
		for _, e := range d.LogEvents {
			msgs = append(msgs, []byte(e.Message))
		}
	}
	b.SetBytes(g.inflated)
	cpu := startCPU(b)
	defer cpu.report(b, g.inflated)
	for b.Loop() {
		for _, m := range msgs {
			level.Of(m)
		}
	}
}
