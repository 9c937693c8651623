package grouping

import (
	"path/filepath"
	"reflect"
	"testing"
)

// sameChain reports whether Exceptions gave Analyze's chain (the frames' InApp aside:
// the rules decide it, Exceptions runs none).
func sameChain(got, want []Exception) bool {
	norm := func(c []Exception) []Exception {
		out := make([]Exception, len(c))
		for i, e := range c {
			fs := make([]Frame, len(e.Frames))
			copy(fs, e.Frames)
			for j := range fs {
				fs[j].InApp = false
			}
			e.Frames = fs
			out[i] = e
		}
		return out
	}
	return reflect.DeepEqual(norm(got), norm(want))
}

// TestExceptionsIsAnalyzesChain: over the examples and the corpus, Exceptions is the
// chain Analyze finds.
func TestExceptionsIsAnalyzesChain(t *testing.T) {
	n := 0
	for _, path := range []string{examplesPath, filepath.Join("testdata", "corpus.jsonl")} {
		for _, e := range loadEntries(t, path) {
			if want := Analyze(e.Message, e.LogGroup).Chain; !sameChain(Exceptions(e.Message), want) {
				t.Errorf("%s: Exceptions %+v, Analyze's chain %+v", e.ID, Exceptions(e.Message), want)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no message")
	}
}

// FuzzExceptions holds Exceptions to Analyze's chain on any message.
func FuzzExceptions(f *testing.F) {
	seedMessages(f)
	f.Fuzz(func(t *testing.T, msg, logGroup string) {
		if got, want := Exceptions(msg), Analyze(msg, logGroup).Chain; !sameChain(got, want) {
			t.Fatalf("%q: Exceptions %+v, Analyze's chain %+v", msg, got, want)
		}
	})
}
