//go:build unix

package grouper_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/grouper"
	"github.com/aient/firehose-drain/pkg/problems"
	"github.com/aient/firehose-drain/pkg/problems/problemstest"
)

// countOnly is the store without states: the in-memory store's counting (PlanBatch, Merge)
// and nothing else, the write path as it was before problems had a lifecycle.
type countOnly struct {
	mu   sync.Mutex
	seen map[string]bool
	m    map[string]problems.Problem
}

func (s *countOnly) RecordBatch(ctx context.Context, occs []problems.Occurrence) []problems.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return problems.PlanBatch(occs).Run(ctx, 1, func(_ context.Context, g problems.Group) []problems.Result {
		out := make([]problems.Result, len(g.Occurrences))
		var fresh []problems.Occurrence
		for i, o := range g.Occurrences {
			if !s.seen[o.Identity] {
				s.seen[o.Identity] = true
				out[i].Recorded = true
				fresh = append(fresh, o)
			}
		}
		if len(fresh) > 0 {
			p, ok := s.m[g.ID]
			s.m[g.ID] = problems.Merge(p, ok, problems.AggregateOf(fresh))
		}
		return out
	})
}

// benchBatch is an SQS batch of n messages over 20 problems (20 error types and
// functions), event times spread over the last minutes, fresh identities per call.
func benchBatch(b *testing.B, round, n int, now time.Time) events.SQSEvent {
	evs := make([]event.Event, 0, n)
	for i := range n {
		k := i % 20
		e := event.Event{
			Drain: "drn_bench", Org: "acme", Env: "prod", Account: "123456789012", Region: "eu-west-1",
			LogGroup: fmt.Sprintf("/aws/lambda/fn%d", k), LogStream: "2026/12/01/[$LATEST]abc",
			ID: fmt.Sprintf("%012d%06d", round, i), Timestamp: now.Add(-time.Duration(i) * time.Second).UnixMilli(),
			Message: fmt.Sprintf(`{"level":"ERROR","message":"charge failed for order %d","error":"PaymentError%d",`+
				`"stack":"PaymentError%d: charge failed for order %d\n    at charge%d (/var/task/src/pay.js:%d:5)\n    at handler (/var/task/src/index.js:12:3)"}`, i, k, k, i, k, 10+i),
			Level: event.Error,
		}
		evs = append(evs, e)
	}
	return batchOf(b, evs)
}

// BenchmarkGrouperStates is the grouper on one core over batches of 100 messages (20
// problems) against the in-memory store, with the lifecycle (states, transitions, hourly
// buckets, notices) and without it, in one binary so that the ratio is measured in one run:
//
//	go test -run '^$' -bench GrouperStates -count 6 -cpu 1 ./pkg/grouper/
func BenchmarkGrouperStates(b *testing.B) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, v := range []struct {
		name string
		rec  func() grouper.Recorder
	}{
		{"count-only", func() grouper.Recorder {
			return &countOnly{seen: map[string]bool{}, m: map[string]problems.Problem{}}
		}},
		{"with-states", func() grouper.Recorder { return problemstest.NewMemStore() }},
	} {
		b.Run(v.name, func(b *testing.B) {
			g := grouper.New(v.rec(), quiet)
			now := time.Now()
			const n = 100
			b.ReportAllocs()
			round := 0
			var cpu time.Duration // the process's CPU time in HandleSQS: the machine is shared
			for b.Loop() {
				b.StopTimer()
				batch := benchBatch(b, round, n, now)
				round++
				b.StartTimer()
				c0 := cpuTime()
				resp, err := g.HandleSQS(context.Background(), batch)
				cpu += cpuTime() - c0
				if err != nil || len(resp.BatchItemFailures) > 0 {
					b.Fatalf("%v %+v", err, resp)
				}
			}
			b.ReportMetric(float64(b.N*n)/cpu.Seconds(), "msgs/cpu-s")
		})
	}
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
