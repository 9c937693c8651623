package problemstest

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/problems"
)

// crumbs are n breadcrumbs of the invocation of eventID, the last one just before t.
func crumbs(eventID string, t time.Time, n int) []problems.Breadcrumb {
	out := make([]problems.Breadcrumb, n)
	for i := range out {
		out[i] = problems.Breadcrumb{
			Time:    t.Add(time.Duration(i-n) * time.Millisecond),
			Level:   []event.Level{event.Info, event.Warn, event.Unknown}[i%3],
			Message: fmt.Sprintf("%s: step %d \"quoted\" é\n", eventID, i),
		}
	}
	return out
}

// testSampleBreadcrumbs: the sample carries the newest occurrence's breadcrumbs; a
// redelivery of an older one with others changes nothing. (Every store.)
func testSampleBreadcrumbs(t *testing.T, s problems.Store) {
	older := occ("acme", "prod", "fp-crumbs", "e1", at(0))
	older.Sample.Breadcrumbs = crumbs("e1", at(0), 3)
	newer := occ("acme", "prod", "fp-crumbs", "e2", at(time.Minute))
	newer.Sample.Breadcrumbs = crumbs("e2", at(time.Minute), 20)
	mustRecord(t, s, older)
	mustRecord(t, s, newer)
	again := older
	again.Sample.Breadcrumbs = crumbs("other", at(0), 1)
	if fresh, err := s.Record(t.Context(), again); err != nil || fresh {
		t.Fatalf("redelivery: %v %v", fresh, err)
	}
	p, err := s.Get(t.Context(), problems.ID("acme", "prod", "fp-crumbs"))
	if err != nil {
		t.Fatal(err)
	}
	if !sameCrumbs(p.Sample.Breadcrumbs, newer.Sample.Breadcrumbs) {
		t.Errorf("sample breadcrumbs %+v, want the newest occurrence's %+v", p.Sample.Breadcrumbs, newer.Sample.Breadcrumbs)
	}
}

func sameCrumbs(got, want []problems.Breadcrumb) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !got[i].Time.Equal(want[i].Time) || got[i].Level != want[i].Level || got[i].Message != want[i].Message {
			return false
		}
	}
	return true
}

// testRecentBreadcrumbs: each recent occurrence of a Detail carries its own breadcrumbs,
// an occurrence recorded without any has none, and concurrent redeliveries write them
// once. (The readers.)
func testRecentBreadcrumbs(t *testing.T, s ReadStore) {
	const fp = "fp-recent-crumbs"
	var occs []problems.Occurrence
	for i := range problems.RecentOccurrences + 5 {
		o := occAt("acme", fp, fmt.Sprintf("r%02d", i), at(time.Duration(i)*time.Second), here)
		if i%4 != 3 {
			o.Sample.Breadcrumbs = crumbs(o.Sample.EventID, o.At, 1+i%20)
		}
		occs = append(occs, o)
	}
	// Each occurrence delivered three times at once, in batches.
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for _, r := range s.RecordBatch(t.Context(), occs) {
				if r.Err != nil {
					t.Errorf("RecordBatch: %v", r.Err)
				}
			}
		})
	}
	wg.Wait()
	d, err := s.Detail(t.Context(), problems.ID("acme", "prod", fp), at(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if d.Count != int64(len(occs)) || len(d.Recent) != problems.RecentOccurrences {
		t.Fatalf("count %d, %d recent; want %d and %d", d.Count, len(d.Recent), len(occs), problems.RecentOccurrences)
	}
	byID := map[string]problems.Occurrence{}
	for _, o := range occs {
		byID[o.Sample.EventID] = o
	}
	for _, r := range d.Recent {
		want := byID[r.EventID].Sample.Breadcrumbs
		if !sameCrumbs(r.Breadcrumbs, want) {
			t.Errorf("recent occurrence %s: breadcrumbs %d, want its own %d", r.EventID, len(r.Breadcrumbs), len(want))
		}
	}
	newest := occs[len(occs)-1]
	if !sameCrumbs(d.Sample.Breadcrumbs, newest.Sample.Breadcrumbs) && !reflect.DeepEqual(d.Sample.Breadcrumbs, newest.Sample.Breadcrumbs) {
		t.Errorf("the sample's breadcrumbs are not the newest occurrence's")
	}
}
