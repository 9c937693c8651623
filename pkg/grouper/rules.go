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

// IgnoreCounter books the events ignore rules dropped on their drain (a drains.Store).
type IgnoreCounter interface {
	RecordDelivery(ctx context.Context, id string, d drains.Delivery) error
}

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
// An org's rules never apply to another org or env.
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

// occurrence fingerprints e with its org and env's rules; ignored reports an event an
// ignore rule drops.
func (g *Grouper) occurrence(ctx context.Context, e *event.Event) (o problems.Occurrence, ignored bool, err error) {
	rs, err := g.rules.rulesFor(ctx, e.Org, e.Env)
	if err != nil {
		return problems.Occurrence{}, false, err
	}
	o, r := OccurrenceWith(rs, e)
	if r.Ignored {
		return o, true, nil
	}
	if err := g.attach(ctx, e, &o); err != nil {
		return problems.Occurrence{}, false, err
	}
	return o, false, nil
}

// countIgnored books the dropped events per drain. A failure is logged: the events were
// dropped on purpose either way, the counter may then miss them.
func (g *Grouper) countIgnored(ctx context.Context, perDrain map[string]int64) {
	if g.ignored == nil {
		return
	}
	for id, n := range perDrain {
		if err := g.ignored.RecordDelivery(ctx, id, drains.Delivery{At: g.now(), Counters: drains.Counters{Ignored: n}}); err != nil {
			g.log.ErrorContext(ctx, "count ignored events", "drain", id, "ignored", n, "err", err)
		}
	}
}
