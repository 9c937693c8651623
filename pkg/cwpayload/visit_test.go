package cwpayload

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
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
