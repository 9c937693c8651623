package cwpayload

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// splitTraces are stack traces as they arrive when every line is its own CloudWatch
// event (container stdout through the awslogs driver, Fluent Bit without a multiline
// parser, Go panics on provided.al2023, Python printing line by line).
var splitTraces = map[string][]string{
	"java": {
		"2026-11-21 01:02:03.456 ERROR [main] c.a.o.OrderService - order failed",
		"java.lang.IllegalStateException: order 42 has no lines",
		"\tat com.acme.orders.OrderService.validate(OrderService.java:88)",
		"\tat com.acme.orders.Handler.handleRequest(Handler.java:31)",
		"Caused by: java.io.IOException: stream closed",
		"\tat com.acme.io.Reader.read(Reader.java:12)",
		"\t... 2 more",
	},
	"python": {
		"Traceback (most recent call last):",
		"  File \"/app/worker.py\", line 12, in handle",
		"    order = msg[\"order\"]",
		"KeyError: 'order'",
	},
	"go": {
		"panic: runtime error: invalid memory address or nil pointer dereference",
		"[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a2b3c]",
		"",
		"goroutine 1 [running]:",
		"main.(*api).getOrder(0x0, {0x6b1f40, 0xc000012345})",
		"\t/app/api.go:42 +0x1d",
		"main.main()",
		"\t/app/main.go:10 +0x5f",
	},
	"node": {
		"TypeError: Cannot read properties of undefined (reading 'id')",
		"    at getUser (/var/task/src/users.js:42:18)",
		"    at async Runtime.handler (/var/task/index.js:10:5)",
	},
}

// splitDoc is a DATA_MESSAGE of stream whose events are lines, one each, ids from id0.
func splitDoc(stream string, id0 int, lines []string) []byte {
	type ev struct {
		ID        string `json:"id"`
		Timestamp int64  `json:"timestamp"`
		Message   string `json:"message"`
	}
	doc := struct {
		MessageType string `json:"messageType"`
		Owner       string `json:"owner"`
		LogGroup    string `json:"logGroup"`
		LogStream   string `json:"logStream"`
		LogEvents   []ev   `json:"logEvents"`
	}{MessageType: "DATA_MESSAGE", Owner: "123456789012", LogGroup: "/ecs/orders", LogStream: stream}
	for i, l := range lines {
		doc.LogEvents = append(doc.LogEvents, ev{ID: fmt.Sprint(id0 + i), Timestamp: 1_763_700_000_000 + int64(i), Message: l})
	}
	b, _ := json.Marshal(doc)
	return b
}

// interleave puts an ordinary line between the trace's lines where every is > 0, the trace
// continuing after it (ordinary lines that are not continuations end a run).
func interleave(lines []string, every int) []string {
	var out []string
	for i, l := range lines {
		out = append(out, l)
		if every > 0 && i%every == every-1 {
			out = append(out, "INFO request served in 12 ms")
		}
	}
	return out
}

// splitSeed is a payload; stitches says the decoder joins a trace of it.
type splitSeed struct {
	payload  []byte
	stitches bool
}

// splitTraceSeedsOf are payloads of traces split one line per event: each runtime's alone,
// among ordinary lines, two streams in one record (two documents), and near-misses
// interleaved with ordinary lines (which end a run), so that the differential fuzzers
// explore the stitching.
func splitTraceSeedsOf() []splitSeed {
	var out []splitSeed
	names := []string{"go", "java", "node", "python"}
	for _, name := range names {
		lines := splitTraces[name]
		out = append(out,
			splitSeed{splitDoc("web/1", 1, lines), true},
			splitSeed{splitDoc("web/1", 1, append(append([]string{"INFO starting"}, lines...), "INFO done")), true},
			splitSeed{splitDoc("web/1", 1, interleave(lines, 2)), false},
		)
	}
	for i, name := range names {
		other := names[(i+1)%len(names)]
		two := append(splitDoc("web/1", 1, splitTraces[name]), '\n')
		out = append(out, splitSeed{append(two, splitDoc("web/2", 100, splitTraces[other])...), true})
	}
	return out
}

// splitTraceSeeds are the payloads of splitTraceSeedsOf.
func splitTraceSeeds() [][]byte {
	var out [][]byte
	for _, s := range splitTraceSeedsOf() {
		out = append(out, s.payload)
	}
	return out
}

// TestSplitTraceSeedsStitch: every seed stitches (so the fuzzers start from stitched
// records), and the decoder agrees with the reference on them.
func TestSplitTraceSeedsStitch(t *testing.T) {
	d := NewDecoder(oracleLimits)
	for i, seed := range splitTraceSeedsOf() {
		p := seed.payload
		got := d.DecodeRecords(context.Background(), [][]byte{b64(p)}, oracleStamp, 1)[0]
		if got.Err != nil {
			t.Fatalf("seed %d: %v", i, got.Err)
		}
		stitched := 0
		for _, e := range got.Errors {
			if strings.Count(e.Message, "\n") >= 2 {
				stitched++
			}
		}
		if seed.stitches && stitched == 0 {
			t.Errorf("seed %d: no stitched event in %d errors: %q", i, len(got.Errors), p)
		}
		compareWithReference(t, p, got, refRecord(b64(p), oracleStamp, oracleLimits))
	}
}
