package dedup

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"golang.org/x/sync/errgroup"
)

// Adaptive claiming. A delivery's claims are independent conditional writes, one request
// per key, or per MaxBatchClaims keys when the store is a BatchStore; the time they take is
// requests × latency / concurrency. The claimer starts at Config.Concurrency calls
// in flight, measures the store's latency as answers come, and raises the concurrency to
// what finishing the remaining keys within half the time left to ctx's deadline needs (the
// other half is for sending and committing), up to Config.MaxConcurrency. A throttled call
// (ErrThrottled) halves the concurrency and is retried after a jittered backoff; growth is
// then one call at a time for a while. When a retry could not finish before the deadline,
// the claim fails with ErrUnavailable: the ingest answers 503 only then.

// throttleCalm is how long after a throttle the concurrency grows one call at a time.
const throttleCalm = time.Second

// maxThrottleRetries bounds the retries of one key when ctx has no deadline.
const maxThrottleRetries = 8

type claimDone struct {
	jb   job
	outs []Outcome
	err  error
	took time.Duration
}

// job is todo[lo:hi], claimed in one store call.
type job struct{ lo, hi, attempt int }

// claimAll claims todo (indexes into b.Keys) with adaptive concurrency. It fills
// b.Outcomes; on the first error that is not a throttle it stops and returns it.
func (c *Claimer) claimAll(ctx context.Context, b *Batch, todo []int, cl func(key string) Claim, now time.Time) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	deadline, hasDeadline := ctx.Deadline()

	size := 1
	bs, batched := c.store.(BatchStore)
	if batched {
		size = MaxBatchClaims
	}
	var queue []job
	for lo := 0; lo < len(todo); lo += size {
		queue = append(queue, job{lo: lo, hi: min(lo+size, len(todo))})
	}
	// The pool's goroutines (store calls, backoff timers) are the group's: Wait at the end
	// means none outlives claimAll. The limit is claimAll's own (target moves while calls
	// are in flight, which errgroup's SetLimit does not allow).
	var g errgroup.Group
	var (
		done      = make(chan claimDone)
		ready     = make(chan job)
		inflight  int
		waiting   int // throttled jobs waiting for their backoff
		target    = min(c.cfg.Concurrency, c.cfg.MaxConcurrency)
		latency   time.Duration
		calmUntil time.Time
		firstErr  error
	)
	launch := func(jb job) {
		inflight++
		g.Go(func() error {
			t0 := time.Now()
			var outs []Outcome
			var err error
			if batched {
				cls := make([]Claim, jb.hi-jb.lo)
				for k := range cls {
					cls[k] = cl(b.Keys[todo[jb.lo+k]])
				}
				outs, err = bs.ClaimBatch(ctx, cls, now)
				if err == nil && len(outs) != len(cls) {
					err = fmt.Errorf("the store answered %d outcomes for %d claims", len(outs), len(cls))
				}
			} else {
				var o Outcome
				o, err = c.store.Claim(ctx, cl(b.Keys[todo[jb.lo]]), now)
				outs = []Outcome{o}
			}
			done <- claimDone{jb: jb, outs: outs, err: err, took: time.Since(t0)}
			return nil
		})
	}
	for len(queue) > 0 || inflight > 0 || waiting > 0 {
		for firstErr == nil && inflight < target && len(queue) > 0 {
			launch(queue[0])
			queue = queue[1:]
		}
		if firstErr != nil && inflight == 0 {
			break // the waiting retries see the cancelled ctx and are dropped
		}
		select {
		case jb := <-ready:
			waiting--
			if firstErr == nil {
				queue = append(queue, jb)
			}
		case d := <-done:
			inflight--
			key := b.Keys[todo[d.jb.lo]]
			if d.jb.hi-d.jb.lo > 1 {
				key = fmt.Sprintf("%s and %d more", key, d.jb.hi-d.jb.lo-1)
			}
			switch {
			case d.err == nil:
				bad := false
				for k, o := range d.outs {
					if o != Fresh && o != Duplicate && o != Busy {
						firstErr = cmpErr(firstErr, fmt.Errorf("claim %s: the store answered an unknown outcome %d", b.Keys[todo[d.jb.lo+k]], o))
						bad = true
						break
					}
					b.Outcomes[todo[d.jb.lo+k]] = o
				}
				if bad {
					cancel()
					continue
				}
				latency = ewma(latency, d.took)
				if firstErr == nil {
					target = c.grow(target, latency, len(queue)+waiting+inflight, deadline, hasDeadline, calmUntil)
				}
			case errors.Is(d.err, ErrThrottled) && firstErr == nil:
				target = max(1, target/2)
				calmUntil = time.Now().Add(throttleCalm)
				wait := jitter(d.jb.attempt + 1)
				if !c.retryFits(d.jb.attempt, wait, latency, deadline, hasDeadline) {
					firstErr = fmt.Errorf("claim %s: throttled, and a retry would pass the deadline: %w", key, d.err)
					cancel()
					continue
				}
				waiting++
				next := d.jb
				next.attempt++
				g.Go(func() error {
					t := time.NewTimer(wait)
					defer t.Stop()
					select {
					case <-t.C:
					case <-ctx.Done():
					}
					ready <- next
					return nil
				})
			default:
				firstErr = cmpErr(firstErr, fmt.Errorf("claim %s: %w", key, d.err))
				cancel()
			}
		}
	}
	// Drain the waiting retries (their timers end with ctx).
	for waiting > 0 {
		<-ready
		waiting--
	}
	_ = g.Wait() // every goroutine has answered above; their results are in b or firstErr
	if firstErr == nil && ctx.Err() != nil {
		firstErr = fmt.Errorf("stopped before all %d keys were done: %w", len(todo), ctx.Err())
	}
	return firstErr
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// grow is the concurrency that finishes left keys at latency within half the time left,
// never less than target, at most MaxConcurrency; one more at a time while calm.
func (c *Claimer) grow(target int, latency time.Duration, left int, deadline time.Time, hasDeadline bool, calmUntil time.Time) int {
	if !hasDeadline || left == 0 || latency <= 0 {
		return target
	}
	now := time.Now() // ctx deadlines are wall-clock, whatever Config.Now says
	budget := deadline.Sub(now) / 2
	need := c.cfg.MaxConcurrency
	if budget > 0 {
		need = int(math.Ceil(float64(left) * float64(latency) / float64(budget)))
	}
	need = min(need, c.cfg.MaxConcurrency)
	if now.Before(calmUntil) {
		return min(max(target, min(need, target+1)), c.cfg.MaxConcurrency)
	}
	return max(target, need)
}

// retryFits reports whether a throttled key may be retried after wait: before the deadline
// with room for one more call, or, without a deadline, within maxThrottleRetries.
func (c *Claimer) retryFits(attempt int, wait, latency time.Duration, deadline time.Time, hasDeadline bool) bool {
	if !hasDeadline {
		return attempt < maxThrottleRetries
	}
	return time.Now().Add(wait + 2*latency).Before(deadline)
}

func ewma(avg, x time.Duration) time.Duration {
	if avg == 0 {
		return x
	}
	return (4*avg + x) / 5
}

// jitter is a full-jitter backoff before retry n (1-based): up to 25ms·2^n, at most 2s.
func jitter(n int) time.Duration {
	return rand.N(min(25*time.Millisecond<<n, 2*time.Second)) + time.Millisecond
}
