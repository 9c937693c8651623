package v1

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aient/firehose-drain/internal/testkit/conformance"
)

// TestFrozen: version 1 gives, for the corpus and examples of its time, exactly the
// fingerprints its golden file pinned when it was current.
func TestFrozen(t *testing.T) {
	msgs := map[string][2]string{} // id -> message, log group
	for _, path := range []string{filepath.Join("testdata", "corpus.jsonl"), filepath.Join(conformance.Dir(), "stacktraces", "examples.jsonl")} {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			var e struct{ ID, Message, LogGroup string }
			var raw map[string]string
			if json.Unmarshal(sc.Bytes(), &raw) != nil {
				continue
			}
			e.ID, e.Message, e.LogGroup = raw["id"], raw["message"], raw["log_group"]
			if e.LogGroup == "" {
				e.LogGroup = "/aws/lambda/" + e.ID
			}
			msgs[e.ID] = [2]string{e.Message, e.LogGroup}
		}
		f.Close()
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "fingerprints.golden"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(golden), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		m, ok := msgs[f[0]]
		if !ok {
			continue // an example that changed since
		}
		n++
		if got := Analyze(m[0], m[1]).Fingerprint; got != f[1] {
			t.Errorf("%s: %s, pinned %s", f[0], got, f[1])
		}
	}
	if n < 150 {
		t.Fatalf("only %d pinned fingerprints checked", n)
	}
}
