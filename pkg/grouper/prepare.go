package grouper

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/problems"
)

// prepared is one message of a batch decoded and fingerprinted.
type prepared struct {
	evs  []event.Event
	err  error // Decode's: the message is poison
	occs []problems.Occurrence
	drop []bool  // drop[i]: an ignore rule dropped evs[i]
	errs []error // errs[i]: evs[i] could not be fingerprinted (its rules could not be read)
}

// prepare decodes and fingerprints the messages of a batch, GOMAXPROCS of them at once:
// it is CPU work (the rules and version-1 lookups are cached after the first), and on a
// Lambda with two vCPUs it would otherwise run on one while the other waits, ahead of the
// batch's writes.
func (g *Grouper) prepare(ctx context.Context, recs []events.SQSMessage) []prepared {
	out := make([]prepared, len(recs))
	one := func(mi int) {
		p := &out[mi]
		p.evs, p.err = Decode([]byte(recs[mi].Body))
		p.occs = make([]problems.Occurrence, len(p.evs))
		p.drop = make([]bool, len(p.evs))
		p.errs = make([]error, len(p.evs))
		for i := range p.evs {
			p.occs[i], p.drop[i], p.errs[i] = g.occurrence(ctx, &p.evs[i])
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(recs))
	if workers <= 1 {
		for mi := range recs {
			one(mi)
		}
		return out
	}
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for mi := int(next.Add(1) - 1); mi < len(recs); mi = int(next.Add(1) - 1) {
				one(mi)
			}
		})
	}
	wg.Wait()
	return out
}
