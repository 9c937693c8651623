package ingest

import (
	"strings"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/event"
)

func crumbs(n, size int) []event.Breadcrumb {
	out := make([]event.Breadcrumb, n)
	for i := range out {
		out[i] = event.Breadcrumb{Time: time.Unix(0, 0), Level: event.Info, Message: strings.Repeat("x", size)}
	}
	return out
}

func TestBreadcrumbsWithinTheBudgetAreKept(t *testing.T) {
	evs := []event.Event{{Timestamp: 1, Breadcrumbs: crumbs(3, 100)}, {Timestamp: 2, Breadcrumbs: crumbs(2, 100)}}
	trimBreadcrumbs(evs, 10_000)
	if len(evs[0].Breadcrumbs) != 3 || len(evs[1].Breadcrumbs) != 2 {
		t.Errorf("breadcrumbs trimmed under the budget: %d, %d", len(evs[0].Breadcrumbs), len(evs[1].Breadcrumbs))
	}
}

// In a storm the newest events keep their breadcrumbs and the total stays in the budget.
func TestTheNewestEventsKeepTheirBreadcrumbs(t *testing.T) {
	const budget = 1 << 20
	evs := make([]event.Event, 500)
	for i := range evs {
		evs[i] = event.Event{Timestamp: int64(1000 + (i*7)%500), Breadcrumbs: crumbs(20, 400)} // ~9 KB each, out of order
	}
	trimBreadcrumbs(evs, budget)
	total, kept := 0, 0
	oldestKept, newestDropped := int64(1<<62), int64(-1)
	for _, e := range evs {
		if n := breadcrumbBytes(e.Breadcrumbs); n > 0 {
			total += n
			kept++
			oldestKept = min(oldestKept, e.Timestamp)
		} else {
			newestDropped = max(newestDropped, e.Timestamp)
		}
	}
	if total > budget || kept == 0 || kept == len(evs) {
		t.Fatalf("kept %d of %d events' breadcrumbs, %d bytes (budget %d)", kept, len(evs), total, budget)
	}
	if newestDropped >= oldestKept {
		t.Errorf("an event at %d lost its breadcrumbs while one at %d kept them", newestDropped, oldestKept)
	}
	if want := budget / breadcrumbBytes(crumbs(20, 400)); kept != want {
		t.Errorf("kept %d events' breadcrumbs, want %d (as many as fit)", kept, want)
	}
}
