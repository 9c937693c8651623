package ingest

import (
	"cmp"
	"slices"

	"github.com/aient/firehose-drain/pkg/event"
)

// BreadcrumbBudget is how many bytes of breadcrumbs the events one call sends to the queue
// carry in all. Each error-class event may carry 8 KiB of the lines before it; in an
// error storm (half the events errors) that multiplied what a delivery queues tenfold —
// ~5 KB a message instead of ~0.5 — and with it the SQS sends and the grouper's work. The
// grouper keeps breadcrumbs only with a problem's sample (its newest occurrence) and its
// recent occurrences, so the newest events keep theirs first; older ones past the budget
// go without (their occurrences count the same).
const BreadcrumbBudget = 1 << 20

// trimBreadcrumbs spends budget bytes of breadcrumbs on evs, newest events first (a later
// event of the call wins a tie), and drops the breadcrumbs of the events it does not reach.
func trimBreadcrumbs(evs []event.Event, budget int) {
	total := 0
	for i := range evs {
		total += breadcrumbBytes(evs[i].Breadcrumbs)
	}
	if total <= budget {
		return
	}
	order := make([]int, len(evs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := cmp.Compare(evs[b].Timestamp, evs[a].Timestamp); c != 0 {
			return c
		}
		return cmp.Compare(b, a)
	})
	for _, i := range order {
		n := breadcrumbBytes(evs[i].Breadcrumbs)
		if n <= budget {
			budget -= n
			continue
		}
		evs[i].Breadcrumbs = nil
		budget = 0 // the rest go without: newer lines are never dropped for older ones
	}
}

// breadcrumbBytes is about what crumbs weigh in the queue's JSON.
func breadcrumbBytes(crumbs []event.Breadcrumb) int {
	n := 0
	for _, c := range crumbs {
		n += len(c.Message) + 64 // time, level, the member names
	}
	return n
}
