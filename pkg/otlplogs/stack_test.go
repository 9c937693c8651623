package otlplogs

import (
	"strings"
	"testing"

	"github.com/aient/firehose-drain/pkg/grouping"
)

// stackText is exception.stacktrace as the export wrote it before appendStack, with
// grouping.Frame.String: the oracle.
func stackText(chain []grouping.Exception) string {
	var b strings.Builder
	for i, e := range chain {
		if i > 0 {
			b.WriteString("Caused by: ")
		}
		b.WriteString(e.Type)
		if e.Message != "" {
			if e.Type != "" {
				b.WriteString(": ")
			}
			b.WriteString(e.Message)
		}
		b.WriteByte('\n')
		for _, f := range e.Frames {
			b.WriteString("    at ")
			b.WriteString(f.String())
			b.WriteByte('\n')
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// TestAppendStackIsTheFramesText: appendStack writes what Frame.String and the chain's
// text make, into a reused buffer.
func TestAppendStackIsTheFramesText(t *testing.T) {
	frames := []grouping.Frame{
		{},
		{Function: "f"},
		{File: "a.js"},
		{File: "a.js", Line: 3},
		{Line: 7},
		{Function: "f", Line: 7},
		{Function: "f", Module: "m"},
		{Module: "m", Line: 2},
		{Function: "Runtime.handler", File: "/var/task/index.js", Module: "m", Line: 12, Column: 4},
	}
	for _, f := range frames {
		if got := string(appendFrame([]byte("x"), &f)); got != "x"+f.String() {
			t.Errorf("%+v: %q, Frame.String %q", f, got, f.String())
		}
	}
	for _, chain := range [][]grouping.Exception{
		nil,
		{{Type: "TypeError", Message: "boom", Frames: frames}},
		{{Type: "A", Message: "x", Frames: frames[:2]}, {Message: "y"}, {Type: "C", Frames: frames[3:4]}, {}},
	} {
		if got, want := string(appendStack([]byte("x"), chain)), "x"+stackText(chain); got != want {
			t.Errorf("%+v:\n%q, want\n%q", chain, got, want)
		}
	}
}
