package cwpayload

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aient/firehose-drain/pkg/invocation"
)

// seen is a Visitor factory that records every visited event by record, and how many
// times each record's End was called.
type seen struct {
	mu   sync.Mutex
	recs map[int]*seenRecord
}

type seenRecord struct {
	events []string
	ends   int
	wrong  []string // events whose View.RequestID is not what pkg/invocation reads
}

func (s *seen) visit(i int) Visitor {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.recs == nil {
		s.recs = map[int]*seenRecord{}
	}
	if s.recs[i] != nil {
		panic(fmt.Sprintf("record %d visited twice", i))
	}
	r := &seenRecord{}
	s.recs[i] = r
	return r
}

func (r *seenRecord) Visit(v *View) {
	// The request id is the one pkg/invocation reads from the message as encoding/json
	// decodes it (bytes that are not UTF-8 as U+FFFD).
	if want := invocation.RequestID([]byte(strings.ToValidUTF8(string(v.Message), "\uFFFD"))); !bytes.Equal(v.RequestID, want) {
		r.wrong = append(r.wrong, fmt.Sprintf("%q: RequestID %q, want %q", v.Message, v.RequestID, want))
	}
	r.events = append(r.events, fmt.Sprintf("%s|%s|%s|%d|%s|%s", v.LogGroup, v.LogStream, v.ID, v.Timestamp, v.Level, v.Message))
}
func (r *seenRecord) End() { r.ends++ }

func (s *seen) all(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	if len(s.recs) != n {
		t.Fatalf("%d records visited, want %d", len(s.recs), n)
	}
	for i := range n {
		r := s.recs[i]
		if r == nil || r.ends != 1 {
			t.Fatalf("record %d: visitor %v, want one End", i, r)
		}
		for _, w := range r.wrong {
			t.Errorf("record %d: %s", i, w)
		}
		for _, e := range r.events {
			b.WriteString(e + "\n")
		}
	}
	return b.String()
}

// TestVisitorOnEveryPath: DecodeData (Kinesis) and DecodeStream (S3) visit the same events,
// in the same order, as DecodeRecords (Firehose) does for the same documents, and every
// event of the generated request is visited once.
func TestVisitorOnEveryPath(t *testing.T) {
	g := generateRequest(11, 300<<10)
	d := NewDecoder(Limits{})
	ctx := context.Background()

	var ref seen
	b64 := make([][]byte, len(g.payloads))
	for i, p := range g.payloads {
		b64[i] = []byte(base64.StdEncoding.EncodeToString(gzipAll(t, p)))
	}
	for _, r := range d.DecodeRecords(ctx, b64, &Stamp{Drain: "drn_v", Visit: ref.visit}, 2) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	want := ref.all(t, len(g.payloads))
	n := 0
	for _, r := range ref.recs {
		n += len(r.events)
	}
	if n != g.events {
		t.Fatalf("DecodeRecords visited %d events, generated %d", n, g.events)
	}

	var data seen
	for _, r := range d.DecodeData(ctx, g.payloads, &Stamp{Drain: "drn_v", Visit: data.visit}, 2) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	if got := data.all(t, len(g.payloads)); got != want {
		t.Errorf("DecodeData visited other events than DecodeRecords")
	}

	var stream seen
	var obj bytes.Buffer
	for _, p := range g.payloads {
		obj.Write(p)
		obj.WriteByte('\n')
	}
	if _, err := d.DecodeStream(ctx, bytes.NewReader(gzipAll(t, obj.Bytes())), &Stamp{Drain: "drn_v", Visit: stream.visit}, func(r *DocResult) error {
		if r.Err != nil {
			return r.Err
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := stream.all(t, len(g.payloads)); got != want {
		t.Errorf("DecodeStream visited other events than DecodeRecords")
	}
}

// TestVisitorRequestIDOfOddMessages: View.RequestID on messages that are escaped, not
// UTF-8, or name no request id is what pkg/invocation reads from their decoded text (seen
// checks each), and the breadcrumbs, which read the same ids, take the invocation's lines.
func TestVisitorRequestIDOfOddMessages(t *testing.T) {
	const rid = "8f3c2a10-1b2c-4d5e-8f90-0123456789ab"
	msgs := []string{
		`START RequestId: ` + rid + ` Version: $LATEST\n`,
		`{\"level\":\"info\",\"requestId\":\"` + rid + `\",\"msg\":\"escaped\"}`,
		"2026-11-20T10:00:00.000Z\\t" + rid + "\\tINFO\\tnot UTF-8: \xff\xfe",
		"\xff\xff\xff 2026-11-20T10:00:00.000Z\\t" + rid + "\\tINFO\\tinvalid first",
		`no request id here`,
		"2026-11-20T10:00:00.000Z\\t" + rid + "\\tERROR\\tboom \xff",
	}
	var doc strings.Builder
	doc.WriteString(`{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/lambda/f","logStream":"s","subscriptionFilters":["f"],"logEvents":[`)
	for i, m := range msgs {
		if i > 0 {
			doc.WriteByte(',')
		}
		fmt.Fprintf(&doc, `{"id":"%d","timestamp":%d,"message":"%s"}`, i+1, 1763640000000+int64(i), m)
	}
	doc.WriteString(`]}`)
	var s seen
	res := NewDecoder(Limits{}).DecodeData(context.Background(), [][]byte{[]byte(doc.String())}, &Stamp{Drain: "drn_v", Visit: s.visit}, 1)
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	if s.all(t, 1); len(s.recs[0].events) != len(msgs) {
		t.Fatalf("%d events visited, want %d", len(s.recs[0].events), len(msgs))
	}
	// The lines of the invocation: START, the escaped JSON line and the text line that is
	// not UTF-8; not the line whose first field is not a timestamp, nor the one naming none.
	if len(res[0].Errors) != 1 || len(res[0].Errors[0].Breadcrumbs) != 3 {
		t.Fatalf("errors %d, breadcrumbs of the error %v: want 1 error with 3 lines", len(res[0].Errors), res[0].Errors)
	}
}
