// Package stormsim simulates an error storm against the grouper's real write path on
// virtual time: a DynamoDB-like store (Table) that serializes writes per item, cancels
// overlapping transactions on one item with TransactionConflict and throttles any item
// above a write rate, an SQS-like queue with visibility timeouts, redelivery and a
// dead-letter queue, and many concurrent grouper invocations, each with its own store (as
// each Lambda instance has) writing with the store's real parallelism: its problems at
// once, their shared transactions, its reads beside its writes.
//
// The storm runs in a testing/synctest bubble: every goroutine of every invocation (the
// store's writers, its shared-transaction senders, their linger timers, backoffs) runs on
// the bubble's clock, which advances only when every goroutine of the bubble is blocked
// (in time.Sleep, on a channel, a WaitGroup) or done. A call to the table takes its
// latency in virtual time and the CPU work between calls takes none, so a simulated half
// minute runs in seconds.
package stormsim

import (
	"container/heap"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/grouper"
	"github.com/aient/firehose-drain/pkg/problems"
	problemsddb "github.com/aient/firehose-drain/pkg/problems/ddb"
)

// Storm is one simulated storm.
type Storm struct {
	// EventsPerSecond of error events arrive for Duration of virtual time.
	EventsPerSecond int
	Duration        time.Duration
	// Bugs is how many distinct bugs the events spread over (round robin).
	Bugs int
	// Invocations is how many grouper invocations run at once.
	Invocations int
	// BatchSize is the most messages per invocation; EventsPerMessage how many events
	// the ingest packs into one message.
	BatchSize, EventsPerMessage int
	// Visibility is the queue's visibility timeout; MaxReceives moves a message to the
	// dead-letter queue after that many failed receives.
	Visibility  time.Duration
	MaxReceives int
	// Poll is how long an invocation waits when the queue has nothing visible.
	Poll  time.Duration
	Table TableConfig
}

// Result is what a storm did.
type Result struct {
	Events, Messages int
	// Counted is each problem item's count by bug index.
	Counted []int64
	// Occurrences is how many occurrence items the table holds.
	Occurrences int
	DeadLetters int
	// Batches is how many batches the invocations handled; FailedMessages how many
	// messages they named as failed (and SQS redelivered).
	Batches, FailedMessages int
	// BatchWrites are the problem writes of each batch.
	BatchWrites []BatchWrite
	Calls       map[string]int
	Conflicts   int
	Throttles   int
	// MaxInFlight and MaxProblemsPerTransaction are the table's (Table).
	MaxInFlight, MaxProblemsPerTransaction int
	// Elapsed is the virtual time until the queue was empty; Real the wall time the
	// simulation took.
	Elapsed, Real time.Duration
	// MaxAge is the longest a message waited from its arrival to its acknowledgement.
	MaxAge time.Duration
}

// message is one queue message: a range of the storm's events.
type message struct {
	id         int
	first, n   int
	enqueuedAt time.Duration
	visibleAt  time.Duration
	receives   int
}

// retryHeap orders messages waiting to be visible again.
type retryHeap []*message

func (h retryHeap) Len() int           { return len(h) }
func (h retryHeap) Less(i, j int) bool { return h[i].visibleAt < h[j].visibleAt }
func (h retryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *retryHeap) Push(x any)        { m, _ := x.(*message); *h = append(*h, m) }
func (h *retryHeap) Pop() any {
	old := *h
	m := old[len(old)-1]
	*h = old[:len(old)-1]
	return m
}

// queue is the SQS-like queue: messages arrive at their enqueue time, a received message
// is invisible for the visibility timeout, a failed one is visible again after it.
type queue struct {
	mu       sync.Mutex
	all      []*message // in arrival order
	next     int        // the first never received
	retry    retryHeap
	inflight int
	dead     int
	maxAge   time.Duration
	s        *Storm
}

func (q *queue) receive(now time.Duration, max int) []*message {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []*message
	for len(out) < max && q.retry.Len() > 0 && q.retry[0].visibleAt <= now {
		m, _ := heap.Pop(&q.retry).(*message)
		out = append(out, m)
	}
	for len(out) < max && q.next < len(q.all) && q.all[q.next].enqueuedAt <= now {
		out = append(out, q.all[q.next])
		q.next++
	}
	for _, m := range out {
		m.receives++
		m.visibleAt = now + q.s.Visibility
	}
	q.inflight += len(out)
	return out
}

// settle acknowledges m (ok) or makes it visible again after the visibility timeout, or
// dead-letters it after MaxReceives.
func (q *queue) settle(m *message, ok bool, now time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.inflight--
	switch {
	case ok:
		q.maxAge = max(q.maxAge, now-m.enqueuedAt)
	case m.receives >= q.s.MaxReceives:
		q.dead++
	default:
		heap.Push(&q.retry, m)
	}
}

// idle reports whether nothing is left, and when the next message becomes visible.
func (q *queue) idle(_ time.Duration) (done bool, nextAt time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	nextAt = -1
	if q.next < len(q.all) {
		nextAt = q.all[q.next].enqueuedAt
	}
	if q.retry.Len() > 0 && (nextAt < 0 || q.retry[0].visibleAt < nextAt) {
		nextAt = q.retry[0].visibleAt
	}
	return nextAt < 0 && q.inflight == 0, nextAt
}

// bugEvent is event i of a storm: bug i % bugs, a stack with a per-bug in-app frame.
func bugEvent(i, bugs int) event.Event {
	b := i % bugs
	return event.Event{
		Drain: "drn_storm", Org: "acme", Env: "prod", Account: "123456789012", Region: "eu-west-1",
		LogGroup: "/aws/lambda/checkout", LogStream: fmt.Sprintf("2026/11/21/[$LATEST]%08d", i/1000),
		ID:        fmt.Sprintf("%056d", i),
		Timestamp: 1_763_700_000_000 + int64(i%5000), // out of order within each 5 s
		Level:     event.Error,
		Message: fmt.Sprintf("TypeError: Cannot read properties of undefined (reading 'id')\n"+
			"    at chargeCard%d (/var/task/src/pay%d.js:%d:17)\n    at processTicksAndRejections (node:internal/process/task_queues:95:5)", b, b, 10+i%7),
	}
}

func (m *message) body(bugs int) string {
	evs := make([]event.Event, m.n)
	for k := range evs {
		evs[k] = bugEvent(m.first+k, bugs)
	}
	var v any = grouper.Packed{Events: evs}
	if m.n == 1 {
		v = evs[0]
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

type batchKey struct{}

// Run runs the storm to the end, in a synctest bubble of t: until every message is
// acknowledged or dead-lettered.
func (s Storm) Run(t *testing.T) Result {
	t.Helper()
	var r Result
	began := time.Now()
	synctest.Test(t, func(*testing.T) { r = s.run() })
	r.Real = time.Since(began)
	return r
}

// run is the storm on the clock of the bubble it runs in.
func (s Storm) run() Result {
	start := time.Now()
	since := func() time.Duration { return time.Since(start) }
	table := NewTable(s.Table, func(ctx context.Context) string {
		b, _ := ctx.Value(batchKey{}).(string)
		return b
	})
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))

	total := int(int64(s.EventsPerSecond) * int64(s.Duration) / int64(time.Second))
	q := &queue{s: &s}
	for first, id := 0, 0; first < total; first, id = first+s.EventsPerMessage, id+1 {
		n := min(s.EventsPerMessage, total-first)
		at := time.Duration(int64(first) * int64(time.Second) / int64(s.EventsPerSecond))
		q.all = append(q.all, &message{id: id, first: first, n: n, enqueuedAt: at})
	}

	// The problem item of each bug, and each batch's events by bug.
	bugOf := make(map[string]int, s.Bugs)
	for b := range s.Bugs {
		o := grouper.Occurrence(ptr(bugEvent(b, s.Bugs)))
		bugOf["problem#"+problemID(o.Org, o.Env, o.Fingerprint)] = b
	}
	var (
		wg               sync.WaitGroup
		mu               sync.Mutex
		batches, failedN int
		batchEvents      = map[string]map[int]int{} // batch key -> bug -> events
	)
	for inv := range s.Invocations {
		// Each invocation is a Lambda instance: its own store, with the store's defaults
		// (Parallel, the seen cache the grouper function turns on), on the table's clock.
		store := problemsddb.NewFromAPI(table, "problems", problemsddb.Options{
			Now: func() time.Time { return time.UnixMilli(1_763_700_000_000) },
		}).WithSeenCache(0)
		g := grouper.New(store, log)
		wg.Go(func() {
			ctx := context.Background()
			for n := 0; ; n++ {
				now := since()
				msgs := q.receive(now, s.BatchSize)
				if len(msgs) == 0 {
					done, nextAt := q.idle(now)
					if done {
						return
					}
					time.Sleep(max(nextAt, now+s.Poll) - now)
					continue
				}
				ev := events.SQSEvent{Records: make([]events.SQSMessage, len(msgs))}
				for i, m := range msgs {
					ev.Records[i] = events.SQSMessage{MessageId: fmt.Sprint(m.id), Body: m.body(s.Bugs)}
				}
				key := fmt.Sprintf("%d/%d", inv, n)
				perBug := map[int]int{}
				for _, m := range msgs {
					for i := m.first; i < m.first+m.n; i++ {
						perBug[i%s.Bugs]++
					}
				}
				mu.Lock()
				batchEvents[key] = perBug
				mu.Unlock()
				bctx := context.WithValue(ctx, batchKey{}, key)
				resp, err := g.HandleSQS(bctx, ev)
				if err != nil {
					panic(err)
				}
				failed := map[string]bool{}
				for _, f := range resp.BatchItemFailures {
					failed[f.ItemIdentifier] = true
				}
				end := since()
				for _, m := range msgs {
					q.settle(m, !failed[fmt.Sprint(m.id)], end)
				}
				mu.Lock()
				batches++
				failedN += len(failed)
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	r := Result{
		Events: total, Messages: len(q.all), DeadLetters: q.dead, Batches: batches, FailedMessages: failedN,
		BatchWrites: table.BatchWrites(), Calls: table.Calls, Conflicts: table.Conflicts, Throttles: table.Throttles,
		MaxInFlight: table.MaxInFlight, MaxProblemsPerTransaction: table.MaxProblemsPerTransaction,
		Elapsed: since(), MaxAge: q.maxAge, Occurrences: len(table.Keys("occurrence#")),
		Counted: make([]int64, s.Bugs),
	}
	for pk, b := range bugOf {
		if it := table.Item(pk); it != nil {
			r.Counted[b] = count(it)
		}
	}
	for i, w := range r.BatchWrites {
		if b, ok := bugOf[w.Problem]; ok {
			r.BatchWrites[i].Events = batchEvents[w.Batch][b]
		}
	}
	return r
}

func ptr[T any](v T) *T { return &v }

func problemID(org, env, fp string) string { return problems.ID(org, env, fp) }

func count(item map[string]types.AttributeValue) int64 {
	n, ok := item["count"].(*types.AttributeValueMemberN)
	if !ok {
		return -1
	}
	return mustInt(n.Value)
}
