package sqsqueue

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/sqsqueue/sqsqueuetest"
)

// randomEvents are n events of seed: mostly small, some with breadcrumbs, some over a
// message (truncated by Fit), some with the characters SQS refuses raw, and, when unfit is
// set, one too large to send at all.
func randomEvents(seed uint64, n int, unfit bool) []event.Event {
	r := rand.New(rand.NewPCG(seed, 1))
	evs := make([]event.Event, n)
	for i := range evs {
		e := event.Event{
			Drain: "d1", Org: "acme", Env: "prod", Account: "123456789012", Region: "eu-west-1",
			LogGroup: "/aws/lambda/pay", LogStream: fmt.Sprintf("s%d", seed), ID: fmt.Sprintf("%d-%d", seed, i),
			Timestamp: int64(i), Level: event.Error, IdentityKey: fmt.Sprintf("%064x", r.Uint64()),
			Message: fmt.Sprintf("ERROR seed %d event %d %s", seed, i, strings.Repeat("é<&>", r.IntN(600))),
		}
		switch r.IntN(40) {
		case 0:
			e.Message = strings.Repeat("x", MaxMessageBytes+r.IntN(1000)) // cut to fit
		case 1:
			e.Message += "\uFFFE\uFFFF" // escaped for SQS
		case 2, 3:
			for k := range 1 + r.IntN(20) {
				e.Breadcrumbs = append(e.Breadcrumbs, event.Breadcrumb{Level: event.Info, Message: fmt.Sprintf("line %d %s", k, strings.Repeat("b", r.IntN(400)))})
			}
		}
		evs[i] = e
	}
	if unfit && n > 0 {
		evs[r.IntN(n)].Attributes = map[string]string{"huge": strings.Repeat("a", MaxMessageBytes)}
	}
	return evs
}

// reference packs events the way Send did before it wrote bodies in place: each Fit on its
// own, then pack.
func reference(t *testing.T, evs []event.Event, maxEvents, maxBytes int) ([]string, []int, int) {
	t.Helper()
	var bodies [][]byte
	unfit := 0
	for i := range evs {
		b, err := Fit(&evs[i], MaxMessageBytes-len(packOpen)-len(packClose))
		if err != nil {
			unfit++
			continue
		}
		bodies = append(bodies, b)
	}
	var out []string
	var counts []int
	for _, m := range pack(bodies, maxEvents, maxBytes) {
		out = append(out, m.body)
		counts = append(counts, m.events)
	}
	return out, counts, unfit
}

func TestBuildWritesTheBodiesPackAndFitWould(t *testing.T) {
	s := NewWithAPI(nil, "q")
	for seed := range uint64(24) {
		maxEvents := []int{1, 2, 7, DefaultPackEvents}[seed%4]
		maxBytes := []int{0, 3000, DefaultPackBytes, MaxBatchBytes}[(seed/4)%4]
		evs := randomEvents(seed, int(seed*7%60), seed%5 == 0)
		want, wantCounts, wantUnfit := reference(t, evs, maxEvents, maxBytes)
		w := s.work() // the same buffers, reused, on every round
		unfitN, err := w.build(evs, maxEvents, maxBytes)
		if unfitN != wantUnfit || (err != nil) != (wantUnfit > 0) {
			t.Fatalf("seed %d: %d unfit (%v), want %d", seed, unfitN, err, wantUnfit)
		}
		if len(w.msgs) != len(want) {
			t.Fatalf("seed %d: %d messages, want %d", seed, len(w.msgs), len(want))
		}
		for i, m := range w.msgs {
			if m.body != want[i] || m.events != wantCounts[i] {
				t.Fatalf("seed %d message %d (%d events, want %d):\n%.300s\nwant\n%.300s", seed, i, m.events, wantCounts[i], m.body, want[i])
			}
		}
		s.done(w)
	}
}

// sameBodies reports whether got and want are the same bodies, in any order (batches are
// sent concurrently).
func sameBodies(got, want []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want)))
}

func TestSendsBackToBackDoNotShareBytes(t *testing.T) {
	api := &sqsqueuetest.Recorder{}
	s := NewWithAPI(api, "q")
	ctx := context.Background()
	// A long request, then a shorter one in the same buffer: no byte of the first may
	// show in the second's bodies, nor the second's change what the first sent.
	for round, seed := range []uint64{101, 102, 103} {
		evs := randomEvents(seed, []int{300, 40, 120}[round], false)
		if err := s.Send(ctx, evs); err != nil {
			t.Fatal(err)
		}
		want, _, _ := reference(t, evs, DefaultPackEvents, DefaultPackBytes)
		got := api.Take()
		if !sameBodies(got, want) {
			t.Fatalf("round %d: the bodies sent are not the events' (%d messages, want %d)", round, len(got), len(want))
		}
	}
}

func TestConcurrentSendsEachSendTheirOwnEvents(t *testing.T) {
	s := NewWithAPI(nil, "q")
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for round := range 5 {
				api := &sqsqueuetest.Recorder{}
				mine := *s
				mine.api = api // the same buffers (free), this goroutine's record
				evs := randomEvents(uint64(1000+g*10+round), 50, false)
				if err := mine.Send(context.Background(), evs); err != nil {
					t.Error(err)
					return
				}
				want, _, _ := reference(t, evs, DefaultPackEvents, DefaultPackBytes)
				if got := api.Take(); !sameBodies(got, want) {
					t.Errorf("goroutine %d round %d: another Send's bytes in the bodies", g, round)
					return
				}
			}
		})
	}
	wg.Wait()
}
