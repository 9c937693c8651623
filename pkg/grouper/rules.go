package grouper

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/grouping"
	"github.com/aient/firehose-drain/pkg/problems"
)

// RuleSource reads an org and env's custom grouping rules (a drains.RuleStore).
type RuleSource interface {
	Rules(ctx context.Context, org, env string) ([]drains.Rule, error)
}

// IgnoreCounter books the events ignore rules dropped on their drain, exactly once per
// event identity (a drains.IgnoreRecorder: the embedded store's Ignored, the DynamoDB
// problems store's Ignored over the drains table, drainstest.MemStore).
type IgnoreCounter = drains.IgnoreRecorder

// RulesTTL is how long an org and env's compiled rules are reused before they are read
// again: a rule added or removed applies within it.
const RulesTTL = 30 * time.Second

// orgRules caches the compiled rules per org and env.
type orgRules struct {
	src RuleSource
	now func() time.Time
	mu  sync.Mutex
	m   map[[2]string]cachedRules
}

type cachedRules struct {
	rules *grouping.Rules
	at    time.Time
}

// WithRules makes g apply each org and env's custom rules after the default ones and
// count the events their ignore rules drop on the event's drain (counters.ignored).
// An org's rules never apply to another org or env. A nil counter drops nothing: the
// events ignore rules match are then recorded as occurrences.
func (g *Grouper) WithRules(src RuleSource, counter IgnoreCounter) *Grouper {
	g.rules = &orgRules{src: src, now: g.now, m: map[[2]string]cachedRules{}}
	g.ignored = counter
	return g
}

// rulesFor returns the compiled rules of an org and env.
func (o *orgRules) rulesFor(ctx context.Context, org, env string) (*grouping.Rules, error) {
	if o == nil {
		return grouping.Default(), nil
	}
	k := [2]string{org, env}
	now := o.now()
	o.mu.Lock()
	c, ok := o.m[k]
	o.mu.Unlock()
	if ok && now.Sub(c.at) < RulesTTL {
		return c.rules, nil
	}
	stored, err := o.src.Rules(ctx, org, env)
	if err != nil {
		return nil, fmt.Errorf("read the grouping rules of %s/%s: %w", org, env, err)
	}
	rs, err := CompileRules(org, env, stored)
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	o.m[k] = cachedRules{rules: rs, at: now}
	o.mu.Unlock()
	return rs, nil
}

// CompileRules compiles stored rules after the defaults; each names its source
// ("org acme/prod r3") in explanations and errors.
func CompileRules(org, env string, stored []drains.Rule) (*grouping.Rules, error) {
	if len(stored) == 0 {
		return grouping.Default(), nil
	}
	var parsed []grouping.Rule
	for _, r := range stored {
		rr, err := grouping.ParseRules(fmt.Sprintf("org %s/%s %s", org, env, r.ID), r.Text)
		if err != nil {
			return nil, fmt.Errorf("stored rule %s of %s/%s: %w", r.ID, org, env, err)
		}
		parsed = append(parsed, rr...)
	}
	return grouping.Default().With(parsed), nil
}

// occurrence fingerprints e with its org and env's rules; ignored reports an event the
// grouper drops (an ignore rule's, or the platform's INIT_REPORT duplicating the runtime's
// own init-error line: grouping.Result.Ignored). It drops only what it can count: a grouper
// without an IgnoreCounter (no drains table) records such an event as an occurrence of its
// own problem rather than lose it uncounted.
func (g *Grouper) occurrence(ctx context.Context, e *event.Event) (o problems.Occurrence, ignored bool, err error) {
	rs, err := g.rules.rulesFor(ctx, e.Org, e.Env)
	if err != nil {
		return problems.Occurrence{}, false, err
	}
	o, r := OccurrenceWith(rs, e)
	if r.Ignored && g.ignored != nil {
		return o, true, nil
	}
	if err := g.attach(ctx, e, &o); err != nil {
		return problems.Occurrence{}, false, err
	}
	return o, false, nil
}

// dropped are the events of a batch that ignore rules dropped, per drain: their
// identities (as their occurrences would have had them) and the messages they came in.
type dropped map[string]*droppedOf

type droppedOf struct {
	ids  []string
	msgs []int
}

func (d dropped) add(drain, identity string, msg int) {
	of := d[drain]
	if of == nil {
		of = &droppedOf{}
		d[drain] = of
	}
	of.ids = append(of.ids, identity)
	of.msgs = append(of.msgs, msg)
}

// countIgnored books the dropped events on their drains, each identity once (the store
// marks it in the write that counts it, so a redelivery counts nothing again). It returns
// the messages whose drops could not be booked, with the error: they are named failed, so
// SQS brings them back and the retry books them.
func (g *Grouper) countIgnored(ctx context.Context, d dropped) map[int]error {
	if g.ignored == nil || len(d) == 0 {
		return nil
	}
	var failed map[int]error
	for drain, of := range d {
		n, err := g.ignored.RecordIgnored(ctx, drain, of.ids, g.now())
		if err != nil {
			err = fmt.Errorf("count the events ignore rules dropped on drain %s: %w", drain, err)
			if failed == nil {
				failed = map[int]error{}
			}
			for _, mi := range of.msgs {
				failed[mi] = err
			}
			continue
		}
		g.log.DebugContext(ctx, "ignored events", "drain", drain, "events", len(of.ids), "counted", n)
	}
	return failed
}
