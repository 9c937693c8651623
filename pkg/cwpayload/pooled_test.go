package cwpayload

import (
	"context"
	"reflect"
	"testing"

	"github.com/aient/firehose-drain/pkg/event"
)

// flat copies out the error-class events of results, in record order.
func flat(results []RecordResult) []event.Event {
	var out []event.Event
	for i := range results {
		out = append(out, results[i].Errors...)
	}
	return out
}

func TestPooledDecodeIsDecodeAndReusesNoEventOfAnother(t *testing.T) {
	d := NewDecoder(Limits{})
	ctx := context.Background()
	// Different requests back to back in the pooled memory: each decodes as DecodeRecords
	// does, and the events copied out of one (strings, breadcrumbs) are intact after the
	// others reused its chunks.
	var kept [][]event.Event
	var want [][]event.Event
	for round, seed := range []uint64{3, 4, 5, 3} {
		g := generateRequest(seed, 80_000+int(seed)*20_000)
		ref := d.DecodeRecords(ctx, g.records, &Stamp{Drain: "d", RequestID: "r"}, 2)
		x := d.DecodeRecordsPooled(ctx, g.records, &Stamp{Drain: "d", RequestID: "r"}, 2)
		if len(x.Results) != len(ref) {
			t.Fatalf("round %d: %d results, want %d", round, len(x.Results), len(ref))
		}
		for i := range ref {
			r, p := ref[i], x.Results[i]
			if r.Events != p.Events || r.Control != p.Control || r.Data != p.Data || (r.Err == nil) != (p.Err == nil) || (r.Err != nil && r.Err.Error() != p.Err.Error()) {
				t.Fatalf("round %d record %d: %+v, want %+v", round, i, p, r)
			}
			if !reflect.DeepEqual(r.Errors, p.Errors) {
				t.Fatalf("round %d record %d: the pooled decode's events differ", round, i)
			}
			if len(p.Errors) != cap(p.Errors) {
				t.Fatalf("round %d record %d: Errors of capacity %d for %d events: an append would reach the next record's", round, i, cap(p.Errors), len(p.Errors))
			}
		}
		got := flat(x.Results)
		if len(got) == 0 {
			t.Fatalf("round %d: no error-class events to compare", round)
		}
		x.Release()
		kept, want = append(kept, got), append(want, flat(ref))
		for k := range kept {
			if !reflect.DeepEqual(kept[k], want[k]) {
				t.Fatalf("after round %d: the events of round %d changed", round, k)
			}
		}
	}
}
