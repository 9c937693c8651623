package grouping

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aient/firehose-drain/internal/testkit/conformance"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/fingerprints.golden")

var examplesPath = filepath.Join(conformance.Dir(), "stacktraces", "examples.jsonl")

// loadEntries reads a JSONL file of {id, runtime, message, group_hint[, log_group]}.
func loadEntries(t testing.TB, path string) []corpusEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var e corpusEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if e.LogGroup == "" {
			e.LogGroup = "/aws/lambda/" + e.ID
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkGroups asserts: same group_hint -> same fingerprint, different
// group_hint -> different fingerprint.
func checkGroups(t *testing.T, entries []corpusEntry) {
	t.Helper()
	byHint := map[string]string{}  // hint -> fingerprint
	hintOf := map[string]string{}  // fingerprint -> hint
	firstID := map[string]string{} // hint -> id that set it
	for _, e := range entries {
		r := Analyze(e.Message, e.LogGroup)
		if !strings.HasPrefix(r.Fingerprint, "v"+Version+":") || len(r.Fingerprint) != len(fingerprintPrefix)+32 {
			t.Errorf("%s: malformed fingerprint %q", e.ID, r.Fingerprint)
		}
		if fp, ok := byHint[e.GroupHint]; ok {
			if fp != r.Fingerprint {
				t.Errorf("%s splits from %s (group %q): %s vs %s; title %q culprit %q",
					e.ID, firstID[e.GroupHint], e.GroupHint, r.Fingerprint, fp, r.Title, r.Culprit)
			}
			continue
		}
		if other, ok := hintOf[r.Fingerprint]; ok {
			t.Errorf("%s (group %q) merges with group %q: %s; title %q culprit %q",
				e.ID, e.GroupHint, other, r.Fingerprint, r.Title, r.Culprit)
		}
		byHint[e.GroupHint] = r.Fingerprint
		hintOf[r.Fingerprint] = e.GroupHint
		firstID[e.GroupHint] = e.ID
	}
}

func TestConformanceExamplesGroupByHint(t *testing.T) {
	entries := loadEntries(t, examplesPath)
	if len(entries) < 12 {
		t.Fatalf("only %d examples", len(entries))
	}
	checkGroups(t, entries)
}

func TestCorpusGroupsByHint(t *testing.T) {
	entries := loadEntries(t, filepath.Join("testdata", "corpus.jsonl"))
	if len(entries) < 400 {
		t.Fatalf("corpus has %d messages, want >= 400", len(entries))
	}
	// Every bug occurs at least three times.
	count := map[string]int{}
	for _, e := range entries {
		count[e.GroupHint]++
	}
	for h, n := range count {
		if n < 3 {
			t.Errorf("group %q has %d occurrences", h, n)
		}
	}
	checkGroups(t, entries)
}

// TestExamplesAndCorpusStayApart: no conformance example shares a
// fingerprint with a corpus bug of another hint.
func TestExamplesAndCorpusStayApart(t *testing.T) {
	all := append(loadEntries(t, examplesPath), loadEntries(t, filepath.Join("testdata", "corpus.jsonl"))...)
	checkGroups(t, all)
}

// TestGoldenFingerprints pins fingerprint, platform, culprit, title and the
// component list of every example and corpus message: a grouping change is a
// visible diff. Refresh with `go test ./pkg/grouping -update` (and bump
// Version when fingerprints change).
func TestGoldenFingerprints(t *testing.T) {
	all := append(loadEntries(t, examplesPath), loadEntries(t, filepath.Join("testdata", "corpus.jsonl"))...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	var b strings.Builder
	b.WriteString("# id\tfingerprint\tplatform\tculprit\ttitle\n#\t+|- component\tvalue\thint   (+ contributes)\n\n")
	for _, e := range all {
		r := Analyze(e.Message, e.LogGroup)
		b.WriteString(goldenBlock(e.ID, r))
	}
	path := filepath.Join("testdata", "golden", "fingerprints.golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got := b.String(); got != string(want) {
		gm, wm := goldenByID(got), goldenByID(string(want))
		for id, g := range gm {
			switch w, ok := wm[id]; {
			case !ok:
				t.Errorf("new: %s", g)
			case w != g:
				t.Errorf("changed:\n got  %s\n want %s", g, w)
			}
		}
		for id, w := range wm {
			if _, ok := gm[id]; !ok {
				t.Errorf("gone: %s", w)
			}
		}
		t.Fatalf("%s differs; if the change is deliberate, bump Version when fingerprints changed and rerun with -update", path)
	}
}

// goldenBlock prints one result: a header line, then one line per component.
func goldenBlock(id string, r Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%s\n", id, r.Fingerprint, r.Platform, r.Culprit, r.Title)
	if r.Ignored {
		fmt.Fprintf(&b, "\tignored by %s\n", r.IgnoredBy)
	}
	for _, c := range r.Components {
		mark := "-"
		if c.Contributes {
			mark = "+"
		}
		fmt.Fprintf(&b, "\t%s %s\t%q\t%s\n", mark, c.Name, c.Value, c.Hint)
	}
	b.WriteByte('\n')
	return b.String()
}

func goldenByID(s string) map[string]string {
	m := map[string]string{}
	for _, block := range strings.Split(s, "\n\n") {
		if block == "" || strings.HasPrefix(block, "#") {
			continue
		}
		id, _, _ := strings.Cut(block, "\t")
		m[id] = block
	}
	return m
}

func TestAnalyzeReadsAtAGlance(t *testing.T) {
	long := strings.Repeat("é", 300)
	tests := []struct {
		name, message, logGroup string
		title, culprit, plat    string
	}{
		{
			name:    "a Node stack gives Type: message and the top in-app frame",
			message: "TypeError: x is undefined\n    at node:internal/a:1:1\n    at handle (/var/task/src/h.js:10:5)\n    at run (/var/task/src/r.js:3:1)",
			title:   "TypeError: x is undefined", culprit: "handle (h.js)",
		},
		{
			name:    "the title is one line of the message",
			message: "java.lang.IllegalStateException: first line\nsecond line\n\tat com.acme.A.b(A.java:1)",
			title:   "java.lang.IllegalStateException: first line", culprit: "com.acme.A.b (A.java)",
		},
		{
			name:    "a long message is cut to 200 characters",
			message: "ValueError: " + long,
			title:   "ValueError: " + strings.Repeat("é", 200-len("ValueError: ")) + "…",
		},
		{
			name:     "a timeout names the function as culprit",
			message:  "2026-11-21T01:00:00.000Z 1b2c3d4e-0000-4000-a000-000000000000 Task timed out after 6.01 seconds",
			logGroup: "/aws/lambda/checkout", plat: PlatformTimeout,
			title: "Task timed out after 6.01 seconds", culprit: "checkout",
		},
		{
			name:    "a leading level word is not part of the title (the product's smoke test line)",
			message: "ERROR Aient Firehose smoke test error",
			title:   "Aient Firehose smoke test error",
		},
		{
			name:    "a lower-case level word that belongs to the message stays",
			message: "fatal error: concurrent map writes",
			title:   "fatal error: concurrent map writes",
		},
		{
			name:    "a plain line without type is its own title",
			message: "could not reach the payment provider",
			title:   "could not reach the payment provider",
		},
		{
			name:    "console.error with a message before the error finds the error",
			message: "2026-11-21T01:00:00.000Z\t6f1c7c0e-9f0b-4a3e-8c64-1c9d2d7c0a11\tERROR\tFailed to load config: Error: ENOENT\n    at load (/var/task/config.js:3:9)",
			title:   "Error: ENOENT", culprit: "load (config.js)",
		},
		{
			name:    "a Ruby Logger line keeps only the message",
			message: "E, [2026-11-21T01:02:03.123456 #1] ERROR -- app: undefined method `x' for nil (NoMethodError)\n/var/task/app.rb:4:in `run'",
			title:   "NoMethodError: undefined method `x' for nil", culprit: "run (app.rb)",
		},
		{
			name:    ".NET unhandled exception line",
			message: "Unhandled exception. System.InvalidOperationException: Sequence contains no elements\n   at System.Linq.ThrowHelper.ThrowNoElementsException()\n   at Shop.Cart.Total() in /src/Cart.cs:line 12",
			title:   "System.InvalidOperationException: Sequence contains no elements", culprit: "Shop.Cart.Total (Cart.cs)",
		},
		{
			name:    "only library frames give no culprit",
			message: "Error: socket hang up\n    at connResetException (node:internal/errors:787:14)\n    at TLSSocket.socketOnEnd (node:_http_client:519:23)",
			title:   "Error: socket hang up",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Analyze(tt.message, tt.logGroup)
			if r.Title != tt.title {
				t.Errorf("title %q, want %q", r.Title, tt.title)
			}
			if r.Culprit != tt.culprit {
				t.Errorf("culprit %q, want %q", r.Culprit, tt.culprit)
			}
			if r.Platform != tt.plat {
				t.Errorf("platform %q, want %q", r.Platform, tt.plat)
			}
			if !utf8.ValidString(r.Title) {
				t.Errorf("title is not valid UTF-8: %q", r.Title)
			}
		})
	}
}

func TestFingerprintIgnoresWhatChangesBetweenOccurrences(t *testing.T) {
	pairs := []struct{ name, a, b string }{
		{
			name: "line and column numbers",
			a:    "TypeError: boom\n    at f (/var/task/a.js:10:5)",
			b:    "TypeError: boom\n    at f (/var/task/a.js:99:1)",
		},
		{
			name: "deploy directories",
			a:    "Traceback (most recent call last):\n  File \"/srv/releases/20261120/app/x.py\", line 3, in f\n    g()\nKeyError: 'a'",
			b:    "Traceback (most recent call last):\n  File \"/srv/releases/20261121/app/x.py\", line 4, in f\n    g()\nKeyError: 'a'",
		},
		{
			name: "Java lambda and anonymous class numbers",
			a:    "java.lang.IllegalStateException: x\n\tat com.acme.W.lambda$run$0(W.java:5)\n\tat com.acme.W$$Lambda$12/0x0000000800c4b440.apply(Unknown Source)\n\tat com.acme.W$1.call(W.java:9)",
			b:    "java.lang.IllegalStateException: x\n\tat com.acme.W.lambda$run$3(W.java:6)\n\tat com.acme.W$$Lambda$97/0x0000000801aa0000.apply(Unknown Source)\n\tat com.acme.W$2.call(W.java:9)",
		},
		{
			name: "Go closure numbers, goroutine ids and offsets",
			a:    "panic: boom\n\ngoroutine 7 [running]:\nmain.run.func1()\n\t/app/main.go:10 +0x1d\nmain.run()\n\t/app/main.go:12 +0x2f",
			b:    "panic: boom\n\ngoroutine 91 [running]:\nmain.run.func3()\n\t/app/main.go:11 +0x5d\nmain.run()\n\t/app/main.go:14 +0x3f",
		},
		{
			name: "ids, ips, emails, urls and quoted values in a message without stack",
			a:    `could not sync user alice@example.org (id=42) from https://api.example.com/u/42 via 10.0.0.1: "tok_8fK2qL"`,
			b:    `could not sync user bob@example.com (id=977) from https://api.example.com/u/977 via 10.9.8.7: "tok_1xZ9mP"`,
		},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			a, b := Analyze(p.a, ""), Analyze(p.b, "")
			if a.Fingerprint != b.Fingerprint {
				t.Errorf("fingerprints differ: %s (%s / %s) vs %s (%s / %s)", a.Fingerprint, a.Title, a.Culprit, b.Fingerprint, b.Title, b.Culprit)
			}
		})
	}
}

func TestFingerprintIsVersioned(t *testing.T) {
	r := Analyze("TypeError: boom\n    at f (/var/task/a.js:10:5)", "")
	if !strings.HasPrefix(r.Fingerprint, "v"+Version+":") {
		t.Fatalf("fingerprint %q lacks version prefix", r.Fingerprint)
	}
}

func TestPlatformFailuresAreFixedPerKindAndFunction(t *testing.T) {
	kinds := map[string]string{
		PlatformTimeout:     "2026-11-21T01:00:00.000Z 6f1c7c0e-9f0b-4a3e-8c64-1c9d2d7c0a11 Task timed out after 3.00 seconds",
		PlatformRuntimeExit: "RequestId: 6f1c7c0e-9f0b-4a3e-8c64-1c9d2d7c0a11 Error: Runtime exited with error: exit status 1\nRuntime.ExitError",
		PlatformOutOfMemory: "REPORT RequestId: 6f1c7c0e-9f0b-4a3e-8c64-1c9d2d7c0a11\tDuration: 812.12 ms\tBilled Duration: 813 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\tStatus: error\tError Type: Runtime.ExitError",
		PlatformInitError:   "INIT_REPORT Init Duration: 1022.45 ms\tPhase: init\tStatus: error\tError Type: Runtime.Unknown",
	}
	seen := map[string]string{}
	for kind, msg := range kinds {
		for _, fn := range []string{"a", "b"} {
			r := Analyze(msg, "/aws/lambda/"+fn)
			if r.Platform != kind {
				t.Errorf("%s: platform %q, want %q", kind, r.Platform, kind)
			}
			if r.Culprit != fn {
				t.Errorf("%s: culprit %q, want %q", kind, r.Culprit, fn)
			}
			key := kind + "/" + fn
			for k, fp := range seen {
				if fp == r.Fingerprint {
					t.Errorf("%s and %s share %s", key, k, fp)
				}
			}
			seen[key] = r.Fingerprint
		}
	}
	// An application's own words are no platform failure.
	if r := Analyze("ERROR Task timed out after 5 retries: upstream busy", "/aws/lambda/a"); r.Platform != "" {
		t.Errorf("application message read as platform failure %q", r.Platform)
	}
	// An ordinary REPORT line is no failure.
	r := Analyze("REPORT RequestId: 6f1c7c0e-9f0b-4a3e-8c64-1c9d2d7c0a11\tDuration: 12.12 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 64 MB", "/aws/lambda/a")
	if r.Platform != "" {
		t.Errorf("healthy REPORT line read as platform failure %q", r.Platform)
	}
}
