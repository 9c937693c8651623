package cwpayload

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/aient/firehose-drain/internal/testkit/scale"
	"github.com/aient/firehose-drain/pkg/event"
)

// streamed is what DecodeStream reported, flattened.
type streamed struct {
	events, docs int
	errors       []event.Event
	bad          []*DocError
	stats        StreamStats
}

func decodeStream(t testing.TB, d *Decoder, r io.Reader) streamed {
	t.Helper()
	var s streamed
	var err error
	s.stats, err = d.DecodeStream(context.Background(), r, &Stamp{Drain: "drn_s"}, func(r *DocResult) error {
		if r.Result.Err != nil {
			t.Fatalf("DocResult.Result.Err set: %v", r.Result.Err)
		}
		s.docs++
		s.events += r.Result.Events
		s.errors = append(s.errors, r.Result.Errors...)
		if r.Err != nil {
			s.bad = append(s.bad, r.Err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("DecodeStream: %v", err)
	}
	return s
}

func gzipAll(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func pretty(t testing.TB, doc []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, doc, "", "  "); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ids(evs []event.Event) string {
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(e.Identity() + string(e.Level) + e.Message + "|")
	}
	return b.String()
}

// TestDecodeStreamLayouts: every layout an S3 object can have gives the events of the same
// documents decoded one by one by DecodeData (the Firehose code path after base64), read
// whole and in short reads: on a ~1 MB request (16 documents of 60-90 KB, more than the
// reader's buffer), in reads of sizes that cycle from 1 byte to 4 KB; on a small request
// (4 documents cut to a few events, errors included), one byte at a time, so that every
// token, escape, delimiter, document and gzip member boundary falls between two reads.
func TestDecodeStreamLayouts(t *testing.T) {
	big := generateRequest(7, 200<<10)
	if len(big.payloads) < 8 {
		t.Fatalf("the big request has %d documents", len(big.payloads))
	}
	small := cutDocuments(t, big.payloads[:4], 6)
	whole := func(b []byte) io.Reader { return bytes.NewReader(b) }
	checkStreamLayouts(t, "big", big.payloads, map[string]func([]byte) io.Reader{
		"whole": whole, "reads of 1 byte to 4 KB": func(b []byte) io.Reader { return &cyclingReader{r: bytes.NewReader(b)} },
	})
	checkStreamLayouts(t, "small", small, map[string]func([]byte) io.Reader{
		"whole": whole, "a byte at a time": func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
	})
}

// cutDocuments returns payloads with each document's events cut to its first n and its
// first error-class event after them.
func cutDocuments(t *testing.T, payloads [][]byte, n int) [][]byte {
	t.Helper()
	var out [][]byte
	for _, p := range payloads {
		var doc genDoc
		if err := json.Unmarshal(p, &doc); err != nil {
			t.Fatal(err)
		}
		kept := doc.LogEvents[:n:n]
		for _, e := range doc.LogEvents[n:] {
			if strings.Contains(e.Message, "ERROR") {
				kept = append(kept, e)
				break
			}
		}
		doc.LogEvents = kept
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// checkStreamLayouts streams payloads in every layout and encoding through each reader
// and compares with the documents decoded one by one.
func checkStreamLayouts(t *testing.T, name string, payloads [][]byte, readers map[string]func([]byte) io.Reader) {
	t.Helper()
	d := NewDecoder(Limits{})
	want := d.DecodeData(context.Background(), payloads, &Stamp{Drain: "drn_s"}, 1)
	var wantEvents, events int
	var wantErrors []event.Event
	for i, r := range want {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		wantEvents += r.Events
		wantErrors = append(wantErrors, r.Errors...)
		var doc genDoc
		if err := json.Unmarshal(payloads[i], &doc); err != nil {
			t.Fatal(err)
		}
		events += len(doc.LogEvents)
	}
	if wantEvents != events || len(wantErrors) == 0 {
		t.Fatalf("%s: reference decode: %d events %d errors, the documents have %d events", name, wantEvents, len(wantErrors), events)
	}
	for _, layout := range []struct {
		name string
		doc  func([]byte) []byte
		sep  string
	}{
		{"compact, no delimiter", func(b []byte) []byte { return b }, ""},
		{"compact, newline-separated", func(b []byte) []byte { return b }, "\n"},
		{"pretty, no delimiter", func(b []byte) []byte { return pretty(t, b) }, ""},
		{"pretty, newline-separated", func(b []byte) []byte { return pretty(t, b) }, "\r\n"},
	} {
		var plain, members bytes.Buffer
		for _, p := range payloads {
			doc := append(layout.doc(p), layout.sep...)
			plain.Write(doc)
			members.Write(gzipAll(t, doc))
		}
		for _, enc := range []struct {
			name string
			b    []byte
		}{
			{"plain", plain.Bytes()},
			{"gzip", gzipAll(t, plain.Bytes())},
			{"gzip member per document", members.Bytes()},
		} {
			t.Run(name+", "+layout.name+", "+enc.name, func(t *testing.T) {
				for rd, reader := range readers {
					got := decodeStream(t, d, reader(enc.b))
					if len(got.bad) > 0 {
						t.Fatalf("%s: %v", rd, got.bad[0])
					}
					if got.docs != len(payloads) || got.events != wantEvents || ids(got.errors) != ids(wantErrors) {
						t.Fatalf("%s: %d docs %d events %d errors, want %d %d %d", rd, got.docs, got.events, len(got.errors), len(payloads), wantEvents, len(wantErrors))
					}
					if got.stats.Bytes != int64(plain.Len()) {
						t.Errorf("%s: stats.Bytes = %d, want the inflated %d", rd, got.stats.Bytes, plain.Len())
					}
				}
			})
		}
	}
}

// cyclingReader returns reads whose sizes cycle through the Fibonacci numbers from 1 to
// 4181: short reads all through the stream, a 1-, 2- and 3-byte read every 11 KB.
type cyclingReader struct {
	r    io.Reader
	a, b int
}

func (c *cyclingReader) Read(p []byte) (int, error) {
	if c.b == 0 || c.b > 4181 {
		c.a, c.b = 0, 1
	}
	if len(p) > c.b {
		p = p[:c.b]
	}
	c.a, c.b = c.b, c.a+c.b
	return c.r.Read(p)
}

// TestDecodeStreamBadDocuments: a truncated last document, junk between documents, a
// document that is not CloudWatch's: earlier documents still count and the error names the
// offset of the bad document.
func TestDecodeStreamBadDocuments(t *testing.T) {
	g := generateRequest(11, 60<<10)
	if len(g.payloads) < 3 {
		t.Fatalf("need 3 documents, have %d", len(g.payloads))
	}
	d := NewDecoder(Limits{})
	first := g.payloads[0]
	second := g.payloads[1]
	firstEvents := d.DecodeData(context.Background(), [][]byte{first}, nil, 1)[0].Events
	secondEvents := d.DecodeData(context.Background(), [][]byte{second}, nil, 1)[0].Events

	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, []byte("\n")) }
	// The events before the cut of a truncated document count, as the whole-buffer decoder
	// counts them.
	partial := d.DecodeData(context.Background(), [][]byte{cat(first, second[:len(second)/2])}, nil, 1)[0].Events
	if partial <= firstEvents {
		t.Fatalf("the cut document holds no events before the cut (%d <= %d)", partial, firstEvents)
	}
	notCWDoc := []byte(`{"hello":"world"}`)
	cases := []struct {
		name       string
		in         []byte
		events     int
		badOffset  int64
		badReason  string
		moreAfter  bool // the document after the bad one still decodes
		wantDocs   int
		inflated   bool
		gzipStream bool
	}{
		{
			name: "truncated last document", in: cat(first, second[:len(second)/2]), events: partial,
			badOffset: int64(len(first) + 1), badReason: "truncated document", wantDocs: 2,
		},
		{
			name: "text between documents", in: cat(first, []byte("garbage"), second), events: firstEvents,
			badOffset: int64(len(first) + 1), badReason: "text between documents", wantDocs: 2,
		},
		{
			name: "a document that is not CloudWatch Logs", in: cat(first, notCWDoc, second), events: firstEvents + secondEvents,
			badOffset: int64(len(first) + 1), badReason: "not a CloudWatch Logs document", wantDocs: 3,
		},
		{
			name: "gzip cut short", in: gzipAll(t, cat(first, second))[:len(gzipAll(t, cat(first, second)))-40], events: firstEvents,
			badOffset: int64(len(first) + 1), badReason: "truncated", wantDocs: 2, inflated: true,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := decodeStream(t, d, bytes.NewReader(c.in))
			if got.events != c.events || got.docs != c.wantDocs {
				t.Errorf("%d events in %d results, want %d in %d", got.events, got.docs, c.events, c.wantDocs)
			}
			if len(got.bad) != 1 {
				t.Fatalf("bad documents %v, want one", got.bad)
			}
			e := got.bad[0]
			if e.Offset != c.badOffset || !strings.Contains(e.Error(), c.badReason) || e.Inflated != c.inflated {
				t.Errorf("error %q (offset %d, inflated %v), want offset %d and %q", e, e.Offset, e.Inflated, c.badOffset, c.badReason)
			}
			if !strings.Contains(e.Error(), fmt.Sprintf("byte %d", c.badOffset)) {
				t.Errorf("error %q does not name the offset", e)
			}
		})
	}
	t.Run("a document over the cap", func(t *testing.T) {
		small := NewDecoder(Limits{MaxRecordInflated: int64(len(first) / 2)})
		got := decodeStream(t, small, bytes.NewReader(cat(first, second, first)))
		if len(got.bad) != 1 || !strings.Contains(got.bad[0].Reason, "over the") {
			t.Fatalf("bad %v, want one document over the cap", got.bad)
		}
	})
	t.Run("an empty object", func(t *testing.T) {
		got := decodeStream(t, d, bytes.NewReader(nil))
		if got.docs != 0 || len(got.bad) != 0 {
			t.Fatalf("%+v", got)
		}
	})
}

// repeatReader yields docs over and over until n bytes have been produced, cut at a
// document boundary, without holding more than one copy of docs.
type repeatReader struct {
	docs  []byte
	n     int64
	pos   int
	total int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.total >= r.n {
		return 0, io.EOF
	}
	k := copy(p, r.docs[r.pos:])
	r.pos += k
	r.total += int64(k)
	if r.pos == len(r.docs) {
		r.pos = 0
	}
	return k, nil
}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestDecodeStream200MB streams 200 MB of documents (plain; the repeated documents are
// generated once) and asserts that the live heap never grows past a bound far below the
// object's size: one document buffer plus the error events kept for the caller.
func TestDecodeStream200MB(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 200 MB")
	}
	g := generateRequest(3, 400<<10)
	docs := bytes.Join(g.payloads, []byte("\n"))
	docs = append(docs, '\n')
	// Twice the bound: a decoder that buffered the stream would pass it (make test-long: 200 MB).
	rounds := int64(scale.N(t, 96, 200)<<20) / int64(len(docs))
	size := rounds * int64(len(docs))
	d := NewDecoder(Limits{})

	runtime.GC()
	base := heapBytes()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tk := time.NewTicker(2 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				if h := heapBytes(); h > peak.Load() {
					peak.Store(h)
				}
			}
		}
	})
	var events, errs int
	n := 0
	stats, err := d.DecodeStream(context.Background(), &repeatReader{docs: docs, n: size}, nil, func(r *DocResult) error {
		if r.Err != nil {
			return r.Err
		}
		events += r.Result.Events
		errs += len(r.Result.Errors) // the caller forwards and forgets them
		if n++; n%512 == 0 {
			if h := heapBytes(); h > peak.Load() {
				peak.Store(h)
			}
		}
		return nil
	})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if stats.Bytes != size || events != int(rounds)*g.events || errs != int(rounds)*g.errors {
		t.Fatalf("read %d bytes, %d events, %d errors; want %d, %d, %d", stats.Bytes, events, errs, size, int(rounds)*g.events, int(rounds)*g.errors)
	}
	grew := int64(peak.Load()) - int64(base)
	const bound = 48 << 20
	t.Logf("%d MB streamed; live heap grew by at most %.1f MB (bound %d MB)", size>>20, float64(grew)/(1<<20), bound>>20)
	if grew > bound {
		t.Fatalf("live heap grew by %d bytes streaming %d bytes, over the %d bound", grew, size, bound)
	}
}

// FuzzDecodeStream checks the streaming reader against the whole-buffer decoder: for the
// same bytes, read in chunks of any size, a clean whole-buffer decode means a clean stream
// with the same events; a failing one means the stream reports an error, with the same
// events before it.
func FuzzDecodeStream(f *testing.F) {
	g := generateRequest(5, 8<<10)
	f.Add(bytes.Join(g.payloads, nil), uint8(0), false)
	f.Add(bytes.Join(g.payloads, []byte("\n")), uint8(7), true)
	f.Add([]byte(`{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":1,"message":"ERROR {\"x\":\"}\"}"}]}{"messageType":"CONTROL_MESSAGE","logEvents":[]}`), uint8(3), false)
	f.Add([]byte(`{"a":"\\"}`+"\n"+`{`), uint8(1), false)
	f.Add([]byte(` [] `), uint8(0), true)
	for i, p := range splitTraceSeeds() {
		f.Add(p, uint8(i%9), i%2 == 1)
	}
	d := NewDecoder(Limits{MaxRecordInflated: 1 << 20})
	f.Fuzz(func(t *testing.T, b []byte, chunk uint8, gz bool) {
		whole := d.DecodeData(context.Background(), [][]byte{b}, &Stamp{Drain: "drn_f"}, 1)[0]
		if len(bytes.TrimSpace(b)) == 0 || (len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
			return // DecodeData: an empty record, or a gzip record: not the same contract
		}
		in := b
		if gz {
			in = gzipAll(t, b)
		}
		var r io.Reader = bytes.NewReader(in)
		if chunk > 0 {
			r = &chunkReader{r: r, n: int(chunk)}
		}
		var events int
		var errs []event.Event
		var bad *DocError
		_, err := d.DecodeStream(context.Background(), r, &Stamp{Drain: "drn_f"}, func(r *DocResult) error {
			if bad == nil {
				events += r.Result.Events
				errs = append(errs, r.Result.Errors...)
				bad = r.Err
			}
			return nil
		})
		if err != nil {
			t.Fatalf("DecodeStream over bytes: %v", err)
		}
		switch {
		case whole.Err == nil && bad != nil:
			t.Fatalf("the whole buffer decodes, the stream reports %v", bad)
		case whole.Err != nil && bad == nil && !errors.Is(whole.Err, errRecordCap):
			t.Fatalf("the whole buffer fails (%v), the stream reports nothing", whole.Err)
		case whole.Err == nil && (events != whole.Events || ids(errs) != ids(whole.Errors)):
			t.Fatalf("stream %d events %d errors, whole buffer %d %d", events, len(errs), whole.Events, len(whole.Errors))
		case whole.Err != nil && bad != nil && (events != whole.Events || ids(errs) != ids(whole.Errors)):
			t.Fatalf("before the first error: stream %d events %d errors, whole buffer %d %d (%v / %v)", events, len(errs), whole.Events, len(whole.Errors), bad, whole.Err)
		}
	})
}

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(p) > c.n {
		p = p[:c.n]
	}
	return c.r.Read(p)
}
