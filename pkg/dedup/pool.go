package dedup

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Adaptive claiming. A delivery's claims are independent conditional writes, so the time
// they take is keys × latency / concurrency. The claimer starts at Config.Concurrency calls
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
	j       int
	attempt int
	o       Outcome
	err     error
	took    time.Duration
}

// claimAll claims todo (indexes into b.Keys) with adaptive concurrency. It fills
// b.Outcomes; on the first error that is not a throttle it stops and returns it.
func (c *Claimer) claimAll(ctx context.Context, b *Batch, todo []int, cl func(key string) Claim, now time.Time) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	deadline, hasDeadline := ctx.Deadline()

	type job struct{ j, attempt int }
	queue := make([]job, len(todo))
	for j := range todo {
		queue[j] = job{j: j}
	}
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
		i := todo[jb.j]
		go func() {
			t0 := time.Now()
			o, err := c.store.Claim(ctx, cl(b.Keys[i]), now)
			done <- claimDone{j: jb.j, attempt: jb.attempt, o: o, err: err, took: time.Since(t0)}
		}()
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
			i := todo[d.j]
			switch {
			case d.err == nil:
				if d.o != Fresh && d.o != Duplicate && d.o != Busy {
					firstErr = cmpErr(firstErr, fmt.Errorf("claim %s: the store answered an unknown outcome %d", b.Keys[i], d.o))
					cancel()
					continue
				}
				b.Outcomes[i] = d.o
				latency = ewma(latency, d.took)
				if firstErr == nil {
					target = c.grow(target, latency, len(queue)+waiting+inflight, deadline, hasDeadline, calmUntil)
				}
			case errors.Is(d.err, ErrThrottled) && firstErr == nil:
				target = max(1, target/2)
				calmUntil = time.Now().Add(throttleCalm)
				wait := jitter(d.attempt + 1)
				if !c.retryFits(d.attempt, wait, latency, deadline, hasDeadline) {
					firstErr = fmt.Errorf("claim %s: throttled, and a retry would pass the deadline: %w", b.Keys[i], d.err)
					cancel()
					continue
				}
				waiting++
				go func(jb job) {
					t := time.NewTimer(wait)
					defer t.Stop()
					select {
					case <-t.C:
					case <-ctx.Done():
					}
					ready <- jb
				}(job{j: d.j, attempt: d.attempt + 1})
			default:
				firstErr = cmpErr(firstErr, fmt.Errorf("claim %s: %w", b.Keys[i], d.err))
				cancel()
			}
		}
	}
	// Drain the waiting retries (their timers end with ctx).
	for waiting > 0 {
		<-ready
		waiting--
	}
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
