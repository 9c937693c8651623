package grouping

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// maxWork bounds the bytes Analyze visits on any input: the JSON parse of at
// most maxJSON bytes plus a fixed number of text scans of at most maxScan.
const maxWork = maxJSON + 48*maxScan

func checkResult(t *testing.T, msg string, r Result) {
	t.Helper()
	if !strings.HasPrefix(r.Fingerprint, "v"+Version+":") || len(r.Fingerprint) != len(fingerprintPrefix)+32 {
		t.Fatalf("%q: malformed fingerprint %q", msg, r.Fingerprint)
	}
	if !utf8.ValidString(r.Title) {
		t.Fatalf("%q: title not UTF-8: %q", msg, r.Title)
	}
	if n := utf8.RuneCountInString(r.Title); n > maxTitle+1 {
		t.Fatalf("%q: title has %d characters", msg, n)
	}
	if len(r.Chain) > maxChain {
		t.Fatalf("%q: chain of %d exceptions", msg, len(r.Chain))
	}
	for _, e := range r.Chain {
		if len(e.Frames) > maxFrames {
			t.Fatalf("%q: exception with %d frames", msg, len(e.Frames))
		}
	}
}

func seedMessages(f *testing.F) {
	for _, path := range []string{examplesPath, filepath.Join("testdata", "corpus.jsonl")} {
		for _, e := range loadEntries(f, path) {
			f.Add(e.Message, e.LogGroup)
		}
	}
	for _, s := range []string{"", "{", "[[[", `{"message":{"message":{}}}`, "at (", "File \"", "goroutine 1 [running]:\n", "#0 ", " ---> ", "Caused by: ", "\u00a0"} {
		f.Add(s, "")
	}
}

func FuzzAnalyze(f *testing.F) {
	seedMessages(f)
	f.Fuzz(func(t *testing.T, msg, logGroup string) {
		var work int
		r := Default().analyze(msg, logGroup, &work)
		checkResult(t, msg, r)
		if work > maxWork {
			t.Fatalf("visited %d bytes, bound %d", work, maxWork)
		}
		if again := Analyze(msg, logGroup); again.Fingerprint != r.Fingerprint || again.Title != r.Title {
			t.Fatalf("not deterministic: %s/%q vs %s/%q", r.Fingerprint, r.Title, again.Fingerprint, again.Title)
		}
	})
}

// TestByteClasses: the byte class table answers as the predicates it was made from.
func TestByteClasses(t *testing.T) {
	for i := range 256 {
		c := byte(i)
		typeByte := isIdentByteSlow(c) || c == '.' || c == '+' || c == '`' || c == '<' || c == '>' || c == '\\' || c == '-' || c >= 0x80
		if isIdentByte(c) != isIdentByteSlow(c) || isWordByte(c) != isWordByteSlow(c) || (byteClasses[c]&classType != 0) != typeByte {
			t.Fatalf("byte %#x: the class table and the predicates disagree", c)
		}
	}
}

// FuzzFrameParsers feeds one line to every frame parser.
func FuzzFrameParsers(f *testing.F) {
	for _, s := range []string{
		"    at getUser (/var/task/src/users.js:42:18)", "at file:///x.mjs:1:2", "at eval at f (x.js:1:1), <anonymous>:1:1",
		"\tat com.acme.A.b(A.java:3) ~[app.jar:1.2.0]", "at java.base/java.lang.Thread.run(Thread.java:833)",
		"at A.B.<C>d__4.MoveNext() in /s/B.cs:line 3", "at Shop.Repo`1.Get[T](Int32 id)",
		`  File "/var/task/app.py", line 3, in handler`, "app/a.rb:1:in `x'", "#0 /a.php(2): A->b()",
		"main.f(0x1)\n\t/app/main.go:5 +0x10", "System.Exception: a --->b ---> System.IO.IOException: c", "x ---> ---> >", "net/http.(*conn).serve.func1()\n\t/usr/local/go/src/net/http/server.go:1 +0x1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		// The hand-written scanners against what they stand for.
		if got, want := lastSpaceParen(line), strings.LastIndex(line, " ("); got != want {
			t.Fatalf("lastSpaceParen(%q) = %d, want %d", line, got, want)
		}
		if got, want := validUTF8(line), strings.ToValidUTF8(line, "\uFFFD"); got != want {
			t.Fatalf("validUTF8(%q) = %q, want %q", line, got, want)
		}
		if i := strings.LastIndexAny(line, `/\`); basename(line) != line[i+1:] {
			t.Fatalf("basename(%q) = %q, want %q", line, basename(line), line[i+1:])
		}
		if got, want := indexAnchored(line, " ---> ", 4), strings.Index(line, " ---> "); got != want {
			t.Fatalf("indexAnchored(%q) = %d, want %d", line, got, want)
		}
		ParseV8Frame(line)
		ParseJavaFrame(line)
		ParseDotnetFrame(line)
		ParsePythonFrame(line)
		ParseRubyFrame(line)
		ParsePHPFrame(line)
		fn, loc, _ := strings.Cut(line, "\n")
		ParseGoFrame(fn, loc)
		normalizeFunction(line)
		appendNormalizedMessage(nil, line)
		var work int
		for _, s := range []string{line, "at " + line, "\tat " + line + "\n" + line} {
			for _, parse := range []func(string, *scratch) []Exception{
				func(s string, sc *scratch) []Exception { return parseAtStyle(s, ParseV8Frame, sc) },
				func(s string, sc *scratch) []Exception { return parseAtStyle(s, ParseJavaFrame, sc) },
				parseDotnet, parsePython, parseGo, parseRuby, parsePHP, parseRust, parsePythonGroups,
			} {
				// Frames grown in an arena (a small one, so that it fills up) and compacted
				// are the frames grown on the heap.
				heap := parse(s, &scratch{work: &work})
				sc := &scratch{arena: make([]Frame, 0, 24)}
				arena := parse(s, sc)
				sc.compactFrames(arena)
				if !reflect.DeepEqual(heap, arena) {
					t.Fatalf("%q: on the heap %+v, in the arena %+v", s, heap, arena)
				}
			}
		}
	})
}

// TestPathologicalInputIsBounded: 1 MiB messages built to make scanners
// backtrack or recurse finish within the work bound.
func TestPathologicalInputIsBounded(t *testing.T) {
	const mb = 1 << 20
	fill := func(unit string) string { return strings.Repeat(unit, mb/len(unit)+1)[:mb] }
	bigStack := `{"errorType":"Error","errorMessage":"x","stack":[` + strings.Repeat(`"    at f (/var/task/a.js:1:1)",`, 30000) + `"end"]}`
	cases := map[string]string{
		"repeated at (":              fill("    at ("),
		"repeated at frames":         fill("    at f (/var/task/a.js:1:1)\n"),
		"repeated File quote":        fill(`File "`),
		"python frames":              fill("  File \"/a.py\", line 1, in f\n"),
		"deep JSON nesting":          fill("["),
		"deep JSON objects":          fill(`{"message":`),
		"huge JSON string":           `{"message":"` + fill(`a\n at x (`) + `"}`,
		"huge JSON stack array":      bigStack,
		"repeated Caused by":         fill("Caused by: java.lang.X: y\n"),
		"repeated java frames":       fill("\tat a.B.c(B.java:1)\n"),
		"goroutines":                 fill("goroutine 1 [running]:\nmain.f(\n\t/a.go:1 +0x1\n"),
		"ruby frames":                fill("a.rb:1:in `"),
		"php frames":                 fill("#0 /a.php(1): f()\n"),
		"dotnet arrows":              fill(" ---> System.X: y"),
		"dotnet end markers":         fill("--- End of inner exception stack trace ---\n   at A.B() in /a.cs:line 1\n"),
		"tracebacks":                 fill("Traceback (most recent call last):\n"),
		"one long line":              fill("a"),
		"quotes and equals":          fill(`'"=` + "`"),
		"no-break spaces":            fill("\u00a0"),
		"lambda prefix then garbage": "2026-11-21T01:00:00.000Z\tabc\tERROR\tInvoke Error \t" + fill("{"),
		"unterminated JSON string":   `{"stack":"` + fill(`\"`),
		"platform words":             fill("Task timed out after REPORT Memory Size: "),
		"headers without frames":     fill("TypeError: x\n"),
		"nested causes":              strings.Repeat(`{"errorType":"E","errorMessage":"m","cause":`, 5000) + "{}" + strings.Repeat("}", 5000),
	}
	for name, msg := range cases {
		t.Run(name, func(t *testing.T) {
			var work int
			r := Default().analyze(msg, "/aws/lambda/x", &work)
			t.Logf("%s: visited %d bytes", name, work)
			checkResult(t, msg, r)
			if work > maxWork {
				t.Errorf("visited %d bytes of a %d byte message, bound %d", work, len(msg), maxWork)
			}
		})
	}
}
