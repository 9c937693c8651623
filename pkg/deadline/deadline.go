// Package deadline splits an invocation's time so that it always answers before its
// deadline. The work (authenticate, decode, claim, send, record) runs under a context that
// ends Margin before the deadline; what must still happen once the work has stopped
// (commit or release claims, book the delivery, answer) runs under Finish contexts, detached
// from the work's end but bounded, ending before the deadline too; and every attempt of an
// AWS SDK call gets a timeout derived from what is left (PerAttempt), so one stalled call
// is cut off in time for the SDK to retry it instead of eating the whole budget.
//
// The ingest (pkg/ingest: the Firehose handler and the sources' pipeline) and the grouper
// (pkg/grouper) share it.
package deadline

import (
	"context"
	"time"
)

// Margin defaults.
const (
	// MinMargin is the least margin kept before the deadline.
	MinMargin = 2 * time.Second
	// MarginFraction is the margin as a fraction of the budget (1/10).
	MarginFraction = 10
	// FinishTimeout bounds a Finish context when the invocation has no deadline (the local
	// server's HTTP requests).
	FinishTimeout = 10 * time.Second
)

// Margin is the time kept before the deadline out of a budget: a tenth of it, at least
// MinMargin, but never more than half the budget (a short budget still gets work done).
func Margin(budget time.Duration) time.Duration {
	return min(max(budget/MarginFraction, MinMargin), budget/2)
}

// Budget is one invocation's time: its deadline and the margin kept before it.
type Budget struct {
	deadline time.Time
	margin   time.Duration
	has      bool
}

// budgetKey marks a work context with the Budget it was split from.
type budgetKey struct{}

// Split returns the work context — ctx ending Margin(budget) before ctx's deadline, where
// the budget is what is left at now; ctx itself (with a cancel) when it has no deadline —
// and the Budget that Finish contexts are cut from. Split of a work context keeps the
// budget it was split from (no margin within the margin): a handler that reads its input
// under the work context (an S3 object's body) hands the same context on.
func Split(ctx context.Context, now time.Time) (context.Context, Budget, context.CancelFunc) {
	if b, ok := ctx.Value(budgetKey{}).(Budget); ok {
		work, cancel := context.WithCancel(ctx)
		return work, b, cancel
	}
	d, ok := ctx.Deadline()
	if !ok {
		work, cancel := context.WithCancel(ctx)
		return context.WithValue(work, budgetKey{}, Budget{}), Budget{}, cancel
	}
	b := Budget{deadline: d, margin: Margin(d.Sub(now)), has: true}
	work, cancel := context.WithDeadline(ctx, d.Add(-b.margin))
	return context.WithValue(work, budgetKey{}, b), b, cancel
}

// Margin is the budget's margin (0 without a deadline).
func (b Budget) Margin() time.Duration { return b.margin }

// Finish returns a context for one step that must run after the work stopped: ctx's values
// without its cancellation, ending half the margin before the deadline (the other half is
// the answer's), or after FinishTimeout without a deadline. Each step gets its own, so a
// stalled commit or release still leaves the answer its time.
func (b Budget) Finish(ctx context.Context) (context.Context, context.CancelFunc) {
	detached := context.WithoutCancel(ctx)
	if !b.has {
		return context.WithTimeout(detached, FinishTimeout)
	}
	return context.WithDeadline(detached, b.deadline.Add(-b.margin/2))
}
