// Package stormsim simulates an error storm against the grouper's real write path on a
// virtual clock: a DynamoDB-like store (Table) that serializes writes per item, cancels
// overlapping transactions on one item with TransactionConflict and throttles any item
// above a write rate, an SQS-like queue with visibility timeouts, redelivery and a
// dead-letter queue, and many concurrent grouper invocations. Virtual time only moves
// when every simulated actor waits (for a call to answer, a backoff, or a message), so a
// simulated half minute runs in seconds and the same seed gives the same storm.
package stormsim

import (
	"context"
	"sync"
	"time"
)

// Clock is a discrete-event scheduler: actors run one at a time, each with its own virtual
// time, and the waiting actor with the earliest wake-up time runs next. An actor makes at
// most one call at a time (the store runs with Parallel 1 in a simulation).
type Clock struct {
	mu      sync.Mutex
	now     time.Duration
	running int
	waiting map[*Actor]time.Duration
	seq     int
}

// Actor is one simulated thread of work (a grouper invocation loop).
type Actor struct {
	id   int
	t    time.Duration
	wake chan struct{}
}

// NewClock returns a clock at virtual time 0.
func NewClock() *Clock {
	return &Clock{waiting: map[*Actor]time.Duration{}}
}

type actorKey struct{}

// Go starts f as a new actor at the current virtual time, counted by wg.
func (c *Clock) Go(wg *sync.WaitGroup, f func(ctx context.Context)) {
	c.mu.Lock()
	c.seq++
	a := &Actor{id: c.seq, t: c.now, wake: make(chan struct{}, 1)}
	c.running++
	c.mu.Unlock()
	ctx := context.WithValue(context.Background(), actorKey{}, a)
	wg.Go(func() {
		defer func() {
			c.mu.Lock()
			c.running--
			c.wakeNext()
			c.mu.Unlock()
		}()
		c.WaitUntil(ctx, a.t) // start in time order with the others
		f(ctx)
	})
}

func actorOf(ctx context.Context) *Actor {
	a, _ := ctx.Value(actorKey{}).(*Actor)
	if a == nil {
		panic("stormsim: a call outside a simulated actor")
	}
	return a
}

// Now is the virtual time of the actor of ctx.
func (c *Clock) Now(ctx context.Context) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return actorOf(ctx).t
}

// Elapsed is the latest virtual time any actor reached.
func (c *Clock) Elapsed() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// WaitUntil blocks the actor of ctx until virtual time t (at least its own time): until
// no actor runs and it is the earliest waiting one.
func (c *Clock) WaitUntil(ctx context.Context, t time.Duration) {
	a := actorOf(ctx)
	c.mu.Lock()
	c.waiting[a] = max(t, a.t)
	c.running--
	c.wakeNext()
	c.mu.Unlock()
	<-a.wake
}

// Sleep is WaitUntil the actor's time plus d; it never fails (ctx has no deadline in a
// simulation).
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	c.WaitUntil(ctx, c.Now(ctx)+d)
	return nil
}

// wakeNext runs the earliest waiting actor when none runs. c.mu is held.
func (c *Clock) wakeNext() {
	if c.running > 0 || len(c.waiting) == 0 {
		return
	}
	var next *Actor
	for a, t := range c.waiting {
		if next == nil || t < c.waiting[next] || (t == c.waiting[next] && a.id < next.id) {
			next = a
		}
	}
	t := c.waiting[next]
	delete(c.waiting, next)
	c.running++
	c.now = max(c.now, t)
	next.t = t
	next.wake <- struct{}{}
}
