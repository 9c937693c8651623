package stormsim_test

import (
	"flag"
	"testing"
	"time"

	"github.com/aient/firehose-drain/internal/testkit/stormsim"
	problemsddb "github.com/aient/firehose-drain/pkg/problems/ddb"
)

// stormSeconds is how long the storms last in virtual time: short in `make test`, the
// full 30 s with `make storm`.
var stormSeconds = flag.Float64("storm.seconds", 0, "virtual seconds of each simulated storm (make storm: 30; 0: the short storms of make test)")

func storm(bugs int, short time.Duration) stormsim.Storm {
	d := short
	if *stormSeconds > 0 {
		d = time.Duration(*stormSeconds * float64(time.Second))
	}
	return stormsim.Storm{
		EventsPerSecond:  20_000,
		Duration:         d,
		Bugs:             bugs,
		Invocations:      50,
		BatchSize:        100, // the template's GrouperBatchSize
		EventsPerMessage: 25,  // what sqsqueue packs into 25.6 KiB for ~1 KB events
		Visibility:       30 * time.Second,
		MaxReceives:      5, // the template's MaxReceiveCount
		Poll:             20 * time.Millisecond,
	}
}

func TestStorm(t *testing.T) {
	for _, c := range []struct {
		name  string
		bugs  int
		short time.Duration // in make test: 8000 and 2000 events
	}{
		{"one bug", 1, 400 * time.Millisecond},
		{"1000 distinct bugs at once", 1000, 100 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := storm(c.bugs, c.short)
			r := s.Run(t)
			t.Logf("%d events in %d messages, %d batches (%d messages named failed, redelivered), %d dead-lettered; virtual %v until empty (real %v), oldest message %v; calls %v; %d conflicts, %d throttles; at most %d calls of one batch in flight, %d problems in one transaction",
				r.Events, r.Messages, r.Batches, r.FailedMessages, r.DeadLetters, r.Elapsed, r.Real.Round(time.Millisecond), r.MaxAge, r.Calls, r.Conflicts, r.Throttles, r.MaxInFlight, r.MaxProblemsPerTransaction)
			if r.Events < 1000 || r.Batches == 0 {
				t.Fatalf("a storm of %d events in %d batches tests nothing", r.Events, r.Batches)
			}
			if r.DeadLetters != 0 {
				t.Errorf("%d messages dead-lettered, want none", r.DeadLetters)
			}
			// The store's own parallelism ran: with many problems a batch reads and writes
			// them at once, in transactions shared by several problems.
			if c.bugs > 1 && (r.MaxInFlight < 2 || r.MaxProblemsPerTransaction < 2) {
				t.Errorf("at most %d calls of a batch in flight and %d problems in one transaction: the store ran one call at a time", r.MaxInFlight, r.MaxProblemsPerTransaction)
			}
			if r.Occurrences != r.Events {
				t.Errorf("%d occurrence items for %d events", r.Occurrences, r.Events)
			}
			var sum int64
			for b, n := range r.Counted {
				want := int64(r.Events / c.bugs)
				if b < r.Events%c.bugs {
					want++
				}
				if n != want {
					t.Errorf("bug %d counted %d, want %d", b, n, want)
				}
				sum += n
			}
			if sum != int64(r.Events) {
				t.Errorf("counted %d occurrences in all, want %d: each exactly once", sum, r.Events)
			}
			worst := 0
			for _, w := range r.BatchWrites {
				// The storm's events fall in one hour: each write carries one hour item.
				// A batch writes the problem once per that many of its events (a redelivered
				// batch stores fewer occurrences than it has events, in as many writes).
				perWrite := problemsddb.OccurrencesPerWrite - 1
				allowed := (w.Events + perWrite - 1) / perWrite
				if w.Writes > allowed || w.Occurrences > w.Events {
					t.Errorf("batch %s wrote problem %s %d times storing %d occurrences for its %d events, want at most %d writes (once per %d)",
						w.Batch, w.Problem, w.Writes, w.Occurrences, w.Events, allowed, perWrite)
				}
				worst = max(worst, w.Writes)
			}
			t.Logf("counted %d of %d; the most writes of one problem item in one batch: %d", sum, r.Events, worst)
		})
	}
}
