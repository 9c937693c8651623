package grouping

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// genCorpus rewrites testdata/corpus.jsonl from the bug templates below.
var genCorpus = flag.Bool("gencorpus", false, "rewrite testdata/corpus.jsonl from corpusBugs")

// corpusEntry is one line of testdata/corpus.jsonl (the shape of the
// conformance examples, plus the log group the event came from).
type corpusEntry struct {
	ID        string `json:"id"`
	Runtime   string `json:"runtime"`
	Message   string `json:"message"`
	GroupHint string `json:"group_hint"`
	LogGroup  string `json:"log_group,omitempty"`
}

// corpusBug is one bug: a message template whose placeholders change between
// occurrences the way they do in real life. Placeholders: {L} a line number
// (each occurrence of {L} independently), {REQ} a request id, {TS} an ISO
// timestamp, {EPOCH} epoch millis, {GID} a goroutine id, {HEX} an address,
// {DEP} a deploy directory, {ID} an id in a message, {IP} an IPv4 address,
// {EMAIL} an email, {N} a small number, {UUID} a UUID, {GODATE} the Go logger's date. In text templates
// \n, \t and \u00a0 are the characters; {NL} is a literal backslash-n.
type corpusBug struct {
	id       string // id prefix when several templates share one hint; the hint otherwise
	hint     string
	runtime  string
	logGroup string
	text     bool
	n        int // occurrences; 3 when zero
	tmpl     string
}

func (b corpusBug) render(k int) string {
	h := fnv.New64a()
	h.Write([]byte(b.id + b.hint))
	rng := rand.New(rand.NewPCG(h.Sum64(), uint64(k)+1))
	s := b.tmpl
	if b.text {
		s = strings.NewReplacer(`\n`, "\n", `\t`, "\t", `\u00a0`, "\u00a0").Replace(s)
	}
	s = strings.ReplaceAll(s, "{NL}", `\n`)
	hexs := func(n int) string {
		const digits = "0123456789abcdef"
		var sb strings.Builder
		for range n {
			sb.WriteByte(digits[rng.IntN(16)])
		}
		return sb.String()
	}
	uuid := func() string {
		return hexs(8) + "-" + hexs(4) + "-4" + hexs(3) + "-a" + hexs(3) + "-" + hexs(12)
	}
	// Values fixed per occurrence: one request, one deploy, one client.
	fixed := map[string]string{
		"{REQ}":    uuid(),
		"{TS}":     fmt.Sprintf("2026-11-%02dT%02d:%02d:%02d.%03dZ", 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60), rng.IntN(1000)),
		"{EPOCH}":  fmt.Sprint(1790000000000 + rng.Int64N(10000000000)),
		"{GID}":    fmt.Sprint(1 + rng.IntN(900)),
		"{DEP}":    hexs(10),
		"{ID}":     fmt.Sprint(1000 + rng.IntN(9000000)),
		"{IP}":     fmt.Sprintf("10.%d.%d.%d", rng.IntN(256), rng.IntN(256), 1+rng.IntN(254)),
		"{EMAIL}":  []string{"alice.smith", "bob", "carol.jones", "dave99"}[rng.IntN(4)] + "@example.org",
		"{UUID}":   uuid(),
		"{TNAME}":  []string{"main", "tokio-runtime-worker", "<unnamed>"}[rng.IntN(3)],
		"{GODATE}": fmt.Sprintf("2026/11/%02d %02d:%02d:%02d", 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60)),
	}
	for k, v := range fixed {
		s = strings.ReplaceAll(s, k, v)
	}
	var out strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			out.WriteString(s)
			break
		}
		out.WriteString(s[:i])
		s = s[i:]
		switch {
		case strings.HasPrefix(s, "{L}"):
			fmt.Fprint(&out, 10+rng.IntN(480))
			s = s[3:]
		case strings.HasPrefix(s, "{N}"):
			fmt.Fprint(&out, 2+rng.IntN(60))
			s = s[3:]
		case strings.HasPrefix(s, "{HEX}"):
			out.WriteString("0xc" + hexs(9))
			s = s[5:]
		default:
			out.WriteByte('{')
			s = s[1:]
		}
	}
	return out.String()
}

func generateCorpus() []corpusEntry {
	var out []corpusEntry
	for _, b := range append(corpusBugs(), corpusBugsV2()...) {
		n := b.n
		if n == 0 {
			n = 3
		}
		id := b.id
		if id == "" {
			id = b.hint
		}
		for k := range n {
			lg := b.logGroup
			if lg == "" {
				lg = "/aws/lambda/" + strings.SplitN(b.hint, "-", 2)[0] + "-fn"
			}
			out = append(out, corpusEntry{
				ID:        fmt.Sprintf("%s-%d", id, k+1),
				Runtime:   b.runtime,
				Message:   b.render(k),
				GroupHint: b.hint,
				LogGroup:  lg,
			})
		}
	}
	return out
}

// TestCorpusIsGenerated pins testdata/corpus.jsonl to the templates: run
// `go test ./pkg/grouping -run TestCorpusIsGenerated -gencorpus` after
// editing corpusBugs.
func TestCorpusIsGenerated(t *testing.T) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, e := range generateCorpus() {
		if err := enc.Encode(e); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join("testdata", "corpus.jsonl")
	if *genCorpus {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, buf.Bytes()) {
		t.Fatalf("%s is stale: rerun with -gencorpus", path)
	}
}
