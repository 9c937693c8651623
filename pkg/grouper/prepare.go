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

// Prefetcher is a Recorder that can start reading problems before RecordBatch is
// called (problemsddb.Store): HandleSQS names the problems of the first part of a batch as
// soon as that part is fingerprinted, so that their read overlaps the fingerprinting of
// the rest.
type Prefetcher interface {
	Prefetch(ctx context.Context, ids []string)
}

// Prefetch sizes: a batch whose bodies hold at least prefetchMinBytes (~1 ms of decoding
// and fingerprinting on one core: 100 single-event messages, or a few packed ones) names
// the problems of its messages to the Prefetcher as soon as its first 1/prefetchPart
// messages are all fingerprinted; the problems only later messages have are read by
// RecordBatch, as without a Prefetcher. A smaller batch has too little to overlap for the
// read it may add.
const (
	prefetchMinBytes = 32 << 10
	prefetchPart     = 4
)

// prepare decodes and fingerprints the messages of a batch, GOMAXPROCS of them at once:
// it is CPU work (the rules and version-1 lookups are cached after the first), and on a
// Lambda with two vCPUs it would otherwise run on one while the other waits, ahead of the
// batch's writes. With a Prefetcher, the problems of the first messages prepared are
// named to it meanwhile (prefetchMinBytes, prefetchPart).
func (g *Grouper) prepare(ctx context.Context, recs []events.SQSMessage) []prepared {
	out := make([]prepared, len(recs))
	early := g.earlyProblems(ctx, recs)
	one := func(mi int) {
		p := &out[mi]
		p.evs, p.err = Decode([]byte(recs[mi].Body))
		p.occs = make([]problems.Occurrence, len(p.evs))
		p.drop = make([]bool, len(p.evs))
		p.errs = make([]error, len(p.evs))
		for i := range p.evs {
			p.occs[i], p.drop[i], p.errs[i] = g.occurrence(ctx, &p.evs[i])
		}
		early.prepared(mi, p)
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

// early collects the problems of a batch's first prepared messages for a Prefetcher; a
// nil *early does nothing.
type early struct {
	ctx    context.Context //nolint:containedctx // the batch's work context, which the read works under
	pf     Prefetcher
	mu     sync.Mutex
	done   []bool // done[mi]: message mi is prepared
	prefix int    // messages [0, prefix) are prepared
	want   int    // the prefix that names the problems; 0: named already
	ids    map[string]bool
}

func (g *Grouper) earlyProblems(ctx context.Context, recs []events.SQSMessage) *early {
	pf, ok := g.rec.(Prefetcher)
	if !ok {
		return nil
	}
	size := 0
	for _, r := range recs {
		size += len(r.Body)
	}
	if size < prefetchMinBytes {
		return nil
	}
	return &early{ctx: ctx, pf: pf, done: make([]bool, len(recs)), want: max(len(recs)/prefetchPart, 1), ids: map[string]bool{}}
}

// prepared adds the problems of prepared message mi, and names all those collected once
// the first messages (want) are all prepared: whichever worker was slow, they are named
// with at least the problems of those messages.
func (e *early) prepared(mi int, p *prepared) {
	if e == nil {
		return
	}
	e.mu.Lock()
	if e.want == 0 {
		e.mu.Unlock()
		return
	}
	for i, o := range p.occs {
		if p.errs[i] == nil && !p.drop[i] {
			e.ids[problems.ID(o.Org, o.Env, o.Fingerprint)] = true
		}
	}
	e.done[mi] = true
	for e.prefix < len(e.done) && e.done[e.prefix] {
		e.prefix++
	}
	var ids []string
	if e.prefix >= e.want {
		e.want = 0
		ids = make([]string, 0, len(e.ids))
		for id := range e.ids {
			ids = append(ids, id)
		}
	}
	e.mu.Unlock()
	if len(ids) > 0 {
		e.pf.Prefetch(e.ctx, ids)
		// The read's goroutine is ready to run, and the workers hold every P: yield, so
		// that the request goes out now rather than when the batch is prepared (traced:
		// 2 ms later).
		runtime.Gosched()
	}
}
