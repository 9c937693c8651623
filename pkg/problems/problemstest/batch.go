package problemstest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/problems"
)

// runBatch is the part of the contract about RecordBatch.
func runBatch(t *testing.T, newStore func(t *testing.T) problems.Store) {
	RunBatch(t, newStore, nil)
}

// RunBatch runs the part of the contract about RecordBatch alone (Get is the only reader
// it needs): for write paths over a simulation of the backend that has only the calls
// the write path makes. in, when not nil, runs each case, e.g. synctest.Test, so that
// the simulation's latency and the store's waits run on a virtual clock; nil runs each
// case as it is.
func RunBatch(t *testing.T, newStore func(t *testing.T) problems.Store, in func(t *testing.T, f func(t *testing.T))) {
	if in == nil {
		in = func(t *testing.T, f func(t *testing.T)) { f(t) }
	}
	for _, c := range []struct {
		name string
		test func(t *testing.T, s problems.Store)
	}{
		{"a batch over several problems counts each identity once with each problem's aggregates", testBatchAggregates},
		{"a batch merges with the stored problem whatever the order, a tie going to the later record", testBatchMerges},
		{"a partly redelivered batch counts only the new identities", testPartialRedelivery},
		{"concurrent overlapping batches count each identity once", testConcurrentBatches},
		{"a batch cut short by its context and run again counts each identity once", testCrashedBatch},
		{"more new occurrences of one problem than one write carries all count", testLargeGroup},
	} {
		t.Run(c.name, func(t *testing.T) {
			in(t, func(t *testing.T) { c.test(t, newStore(t)) })
		})
	}
}

func mustBatch(t *testing.T, s problems.Store, occs []problems.Occurrence) []problems.Result {
	t.Helper()
	rs := s.RecordBatch(context.WithoutCancel(t.Context()), occs)
	if len(rs) != len(occs) {
		t.Fatalf("RecordBatch of %d occurrences returned %d results", len(occs), len(rs))
	}
	return rs
}

func wantResults(t *testing.T, label string, occs []problems.Occurrence, got []problems.Result, recorded func(i int) bool) {
	t.Helper()
	for i, r := range got {
		if r.Err != nil {
			t.Errorf("%s: occurrence %d (%s): %v", label, i, occs[i].Sample.EventID, r.Err)
		} else if r.Recorded != recorded(i) {
			t.Errorf("%s: occurrence %d (%s): Recorded = %v, want %v", label, i, occs[i].Sample.EventID, r.Recorded, recorded(i))
		}
	}
}

func testBatchAggregates(t *testing.T, s problems.Store) {
	mins := func(m int) time.Time { return at(time.Duration(m) * time.Minute) }
	a3 := occ("acme", "prod", "fp-v1-batch-a", "a-3", mins(3))
	a1 := occ("acme", "prod", "fp-v1-batch-a", "a-1", mins(1))
	a1.Sample.LogGroup = "/aws/lambda/other"
	a5 := occ("acme", "prod", "fp-v1-batch-a", "a-5", mins(5))
	a5.Sample.Message = "the newest of a"
	b2 := occ("acme", "prod", "fp-v1-batch-b", "b-2", mins(2))
	c9 := occ("globex", "prod", "fp-v1-batch-a", "c-9", mins(9)) // the same fingerprint in another org
	dup := a3
	dup.At = mins(60) // the same identity again inside the batch, with another time: not counted
	noID := occ("acme", "prod", "fp-v1-batch-b", "no-id", mins(7))
	noID.Identity = ""
	batch := []problems.Occurrence{a3, b2, a1, dup, c9, a5, noID}

	rs := mustBatch(t, s, batch)
	for i, want := range []problems.Result{{Recorded: true}, {Recorded: true}, {Recorded: true}, {}, {Recorded: true}, {Recorded: true}} {
		if rs[i] != want {
			t.Errorf("result %d (%s) = %+v, want %+v", i, batch[i].Sample.EventID, rs[i], want)
		}
	}
	if !errors.Is(rs[6].Err, problems.ErrEmptyIdentity) {
		t.Errorf("the occurrence without identity: %+v, want ErrEmptyIdentity", rs[6])
	}
	check(t, "problem a", mustGet(t, s, idOf(a5)), want(a5, 3, mins(1), mins(5), "/aws/lambda/checkout", "/aws/lambda/other"))
	check(t, "problem b", mustGet(t, s, idOf(b2)), want(b2, 1, mins(2), mins(2)))
	check(t, "problem a of globex", mustGet(t, s, idOf(c9)), want(c9, 1, mins(9), mins(9)))
}

func testBatchMerges(t *testing.T, s problems.Store) {
	mins := func(m int) time.Time { return at(time.Duration(m) * time.Minute) }
	o := func(id string, m int) problems.Occurrence {
		x := occ("acme", "prod", "fp-v1-merge", id, mins(m))
		x.Sample.Message = "message of " + id
		return x
	}
	mustBatch(t, s, []problems.Occurrence{o("e-20", 20), o("e-10", 10)})
	check(t, "after [10, 20]", mustGet(t, s, idOf(o("x", 0))), want(o("e-20", 20), 2, mins(10), mins(20)))

	// Older, inside and newer in one batch: both ends move.
	mustBatch(t, s, []problems.Occurrence{o("e-15", 15), o("e-25", 25), o("e-5", 5)})
	check(t, "after 15, 25, 5", mustGet(t, s, idOf(o("x", 0))), want(o("e-25", 25), 5, mins(5), mins(25)))

	// Inside only: the times and the sample stay.
	mustBatch(t, s, []problems.Occurrence{o("e-12", 12), o("e-18", 18)})
	check(t, "after 12, 18", mustGet(t, s, idOf(o("x", 0))), want(o("e-25", 25), 7, mins(5), mins(25)))

	// Older only: firstSeen moves, the sample stays.
	mustBatch(t, s, []problems.Occurrence{o("e-2", 2), o("e-3", 3)})
	check(t, "after 2, 3", mustGet(t, s, idOf(o("x", 0))), want(o("e-25", 25), 9, mins(2), mins(25)))

	// A tie with lastSeen: the later record's sample wins; within a batch, the last of equals.
	tieA, tieB := o("e-25-a", 25), o("e-25-b", 25)
	tieB.Level = "fatal"
	mustBatch(t, s, []problems.Occurrence{tieA, tieB})
	check(t, "after a tie", mustGet(t, s, idOf(o("x", 0))), want(tieB, 11, mins(2), mins(25)))
}

func testPartialRedelivery(t *testing.T, s problems.Store) {
	var first, second []problems.Occurrence
	for i := range 12 {
		o := occ("acme", "prod", fmt.Sprintf("fp-v1-partial-%d", i%3), fmt.Sprintf("evt-%02d", i), at(time.Duration(i)*time.Second))
		if i < 8 {
			first = append(first, o)
		} else {
			second = append(second, o)
		}
	}
	wantResults(t, "the first batch", first, mustBatch(t, s, first), func(int) bool { return true })
	before := map[string]problems.Problem{}
	for _, o := range first {
		before[idOf(o)] = mustGet(t, s, idOf(o))
	}

	// SQS redelivers the first batch's messages mixed with new ones; the redelivered ones
	// carry other times and messages (a broken producer), which must change nothing.
	var mixed []problems.Occurrence
	isNew := map[string]bool{}
	for i, o := range first {
		o.At = at(time.Hour + time.Duration(i)*time.Second)
		o.Sample.Message = "changed"
		mixed = append(mixed, o)
	}
	for _, o := range second {
		isNew[o.Identity] = true
		mixed = append(mixed, o)
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(mixed), func(i, j int) { mixed[i], mixed[j] = mixed[j], mixed[i] })
	wantResults(t, "the mixed batch", mixed, mustBatch(t, s, mixed), func(i int) bool { return isNew[mixed[i].Identity] })

	for k := range 3 {
		fp := fmt.Sprintf("fp-v1-partial-%d", k)
		var mine []problems.Occurrence
		for _, o := range slices.Concat(first, second) {
			if o.Fingerprint == fp {
				mine = append(mine, o)
			}
		}
		newest := mine[len(mine)-1]
		check(t, fp+" after the mixed batch", mustGet(t, s, idOf(newest)),
			want(newest, int64(len(mine)), mine[0].At, newest.At))
	}
	// Redelivered alone, the mixed batch changes nothing more.
	wantResults(t, "the mixed batch again", mixed, mustBatch(t, s, mixed), func(int) bool { return false })
}

// overlapping makes n occurrences over problems fingerprints, event i at base + i s.
func overlapping(n, nproblems int, prefix string) []problems.Occurrence {
	occs := make([]problems.Occurrence, n)
	for i := range occs {
		occs[i] = occ("acme", "prod", fmt.Sprintf("fp-v1-%s-%d", prefix, i%nproblems), fmt.Sprintf("%s-evt-%03d", prefix, i), at(time.Duration(i)*time.Second))
	}
	return occs
}

// checkCounted checks that the problems of occs hold exactly the occurrences of occs.
func checkCounted(t *testing.T, s problems.Store, label string, occs []problems.Occurrence) {
	t.Helper()
	byProblem := map[string][]problems.Occurrence{}
	for _, o := range occs {
		byProblem[idOf(o)] = append(byProblem[idOf(o)], o)
	}
	for id, mine := range byProblem {
		slices.SortStableFunc(mine, func(a, b problems.Occurrence) int { return a.At.Compare(b.At) })
		newest := mine[len(mine)-1]
		check(t, label+": problem "+newest.Fingerprint, mustGet(t, s, id), want(newest, int64(len(mine)), mine[0].At, newest.At))
	}
}

func testConcurrentBatches(t *testing.T, s problems.Store) {
	const writers, n = 8, 120
	occs := overlapping(n, 3, "overlap")
	// Writer w gets every occurrence i with i%writers in {w, w+1, w+2}: each identity is in
	// three batches, each batch is shuffled.
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		recorded = map[string]int{}
	)
	for w := range writers {
		var mine []problems.Occurrence
		for i, o := range occs {
			if d := (i%writers - w + writers) % writers; d < 3 {
				mine = append(mine, o)
			}
		}
		rand.New(rand.NewPCG(uint64(w), 7)).Shuffle(len(mine), func(i, j int) { mine[i], mine[j] = mine[j], mine[i] })
		wg.Go(func() {
			rs := s.RecordBatch(context.WithoutCancel(t.Context()), mine)
			mu.Lock()
			defer mu.Unlock()
			for i, r := range rs {
				if r.Err != nil {
					t.Errorf("writer %d: %s: %v", w, mine[i].Sample.EventID, r.Err)
				}
				if r.Recorded {
					recorded[mine[i].Identity]++
				}
			}
		})
	}
	wg.Wait()
	for _, o := range occs {
		if recorded[o.Identity] != 1 {
			t.Errorf("%s reported Recorded by %d batches, want exactly 1", o.Sample.EventID, recorded[o.Identity])
		}
	}
	checkCounted(t, s, "after concurrent batches", occs)
}

func testCrashedBatch(t *testing.T, s problems.Store) {
	occs := overlapping(150, 5, "crash")
	recorded := map[string]int{}
	tally := func(label string, rs []problems.Result, batch []problems.Occurrence) {
		for i, r := range rs {
			if r.Recorded && r.Err != nil {
				t.Errorf("%s: %s both Recorded and failed: %v", label, batch[i].Sample.EventID, r.Err)
			}
			if r.Recorded {
				recorded[batch[i].Identity]++
			}
		}
	}

	// A context that is over before the batch starts: nothing is reported recorded, and
	// no problem appears.
	done, cancel := context.WithCancel(t.Context())
	cancel()
	rs := s.RecordBatch(done, occs[:20])
	for i, r := range rs {
		if r.Err == nil {
			t.Errorf("after its context ended, occurrence %d has no error: %+v", i, r)
		}
	}
	tally("ended context", rs, occs[:20])

	// A context that ends while the batch is being written (the Lambda deadline), then the
	// whole batch again (SQS redelivers what was not acknowledged), then once more.
	short, cancelShort := context.WithTimeout(context.WithoutCancel(t.Context()), 2*time.Millisecond)
	defer cancelShort()
	tally("cut short", s.RecordBatch(short, occs), occs)
	tally("redelivered", mustBatch(t, s, occs), occs)
	for i, r := range mustBatch(t, s, occs) {
		if r.Err != nil || r.Recorded {
			t.Errorf("third delivery of %s = %+v, want a plain duplicate", occs[i].Sample.EventID, r)
		}
	}
	for _, o := range occs {
		if recorded[o.Identity] != 1 {
			t.Errorf("%s reported Recorded %d times over the deliveries, want exactly 1", o.Sample.EventID, recorded[o.Identity])
		}
	}
	checkCounted(t, s, "after the crash and redeliveries", occs)
}

func testLargeGroup(t *testing.T, s problems.Store) {
	occs := overlapping(250, 1, "large")
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(occs), func(i, j int) { occs[i], occs[j] = occs[j], occs[i] })
	wantResults(t, "a batch of 250 occurrences of one problem", occs, mustBatch(t, s, occs), func(int) bool { return true })
	checkCounted(t, s, "after 250 occurrences in one batch", occs)
}
