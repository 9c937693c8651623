package cwpayload

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// doneRecords is a Stamp.Done that zeroes each record it is given (as the ingest's Lambda
// loop discards its pages) and notes the order, checking that the record's Visitor has
// ended by then.
type doneRecords struct {
	mu      sync.Mutex
	records [][]byte
	vis     *seen
	count   map[int]int
	early   []int // records done before their Visitor's End
}

func (d *doneRecords) done(i int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.count == nil {
		d.count = map[int]int{}
	}
	d.count[i]++
	if d.vis != nil {
		d.vis.mu.Lock()
		if r := d.vis.recs[i]; r != nil && r.ends != 1 {
			d.early = append(d.early, i)
		}
		d.vis.mu.Unlock()
	}
	clear(d.records[i])
}

// summary is what the results say: each record's flags, counts, error and events.
func summary(rs []RecordResult) string {
	var b strings.Builder
	for i, r := range rs {
		var err string
		if r.Err != nil {
			err = r.Err.Error()
		}
		fmt.Fprintf(&b, "%d: control=%v data=%v events=%d err=%q\n", i, r.Control, r.Data, r.Events, err)
		for _, e := range r.Errors {
			fmt.Fprintf(&b, "  %+v\n", e)
		}
	}
	return b.String()
}

// Stamp.Done: once per record, good or bad, after its Visitor's End; the decoder reads
// nothing of a record after: with every record zeroed once done, the results are the
// same as without.
func TestStampDoneOncePerRecordAfterItsLastRead(t *testing.T) {
	g := generateRequest(5, 400<<10)
	records := func() [][]byte {
		rs := make([][]byte, 0, len(g.payloads)+2)
		for _, p := range g.payloads {
			rs = append(rs, []byte(base64.StdEncoding.EncodeToString(gzipAll(t, p))))
		}
		return append(rs, []byte("not base64!"), b64([]byte("not gzip, not JSON")))
	}
	d := NewDecoder(Limits{})
	ctx := context.Background()
	for _, workers := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			want := d.DecodeRecords(ctx, records(), &Stamp{Drain: "drn_d"}, workers)
			rs := records()
			dr := &doneRecords{records: rs, vis: &seen{}}
			got := d.DecodeRecords(ctx, rs, &Stamp{Drain: "drn_d", Visit: dr.vis.visit, Done: dr.done}, workers)
			if g, w := summary(got), summary(want); g != w {
				t.Errorf("results differ when each record is zeroed once done:\n%.600s\nwant\n%.600s", g, w)
			}
			for i := range rs {
				if dr.count[i] != 1 {
					t.Errorf("record %d: Done called %d times, want 1", i, dr.count[i])
				}
			}
			if len(dr.early) > 0 {
				t.Errorf("records %v done before their Visitor's End", dr.early)
			}
			if want[len(want)-1].Err == nil || want[len(want)-2].Err == nil {
				t.Fatal("the bad records decoded")
			}
		})
	}
	// A request past its deadline: no record is decoded, each is still done once.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	rs := records()
	dr := &doneRecords{records: rs}
	for i, r := range d.DecodeRecords(cctx, rs, &Stamp{Done: dr.done}, 2) {
		if r.Err == nil || dr.count[i] != 1 {
			t.Errorf("record %d after the deadline: %v, done %d times; want an error, done once", i, r.Err, dr.count[i])
		}
	}
	// Pooled, the same.
	rs = records()
	dr = &doneRecords{records: rs}
	x := d.DecodeRecordsPooled(ctx, rs, &Stamp{Drain: "drn_d", Done: dr.done}, 2)
	if len(dr.count) != len(rs) {
		t.Errorf("pooled: %d records done, want %d", len(dr.count), len(rs))
	}
	x.Release()
}
