package grouper

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/grouping"
	v1 "github.com/aient/firehose-drain/pkg/grouping/v1"
	"github.com/aient/firehose-drain/pkg/problems"
)

// ProblemGetter reads a problem by id (a problems.Store).
type ProblemGetter interface {
	Get(ctx context.Context, id string) (problems.Problem, error)
}

// transition keeps problems across a grouping version upgrade: each event's version-1
// fingerprint is computed too, and when a problem of that fingerprint exists, the event
// is recorded on it instead of starting a problem under the new fingerprint. Deploying a
// better grouper does not reopen every known bug as new.
type transition struct {
	get ProblemGetter
	now func() time.Time
	mu  sync.Mutex
	// known: problem ids of version-1 fingerprints that exist (kept), or did not (until).
	known map[string]knownOld
}

type knownOld struct {
	exists bool
	until  time.Time
}

// missTTL is how long a version-1 problem that did not exist is not looked up again.
const missTTL = 5 * time.Minute

// maxKnown bounds the remembered lookups; when full it starts over.
const maxKnown = 1 << 16

// WithTransition makes g attach events to the problems of their version-1 fingerprints
// while those exist (see transition).
func (g *Grouper) WithTransition(get ProblemGetter) *Grouper {
	g.transition = &transition{get: get, now: g.now, known: map[string]knownOld{}}
	return g
}

// previous returns the version-1 fingerprint of e when its problem exists.
func (t *transition) previous(ctx context.Context, e *event.Event) (string, error) {
	fp := v1.Analyze(e.Message, e.LogGroup).Fingerprint
	id := problems.ID(e.Org, e.Env, fp)
	now := t.now()
	t.mu.Lock()
	k, ok := t.known[id]
	t.mu.Unlock()
	if ok && (k.exists || now.Before(k.until)) {
		if k.exists {
			return fp, nil
		}
		return "", nil
	}
	_, err := t.get.Get(ctx, id)
	switch {
	case errors.Is(err, problems.ErrNotFound):
		k = knownOld{until: now.Add(missTTL)}
	case err != nil:
		return "", fmt.Errorf("look up the version-1 problem %s: %w", id, err)
	default:
		k = knownOld{exists: true}
	}
	t.mu.Lock()
	if len(t.known) >= maxKnown {
		t.known = map[string]knownOld{}
	}
	t.known[id] = k
	t.mu.Unlock()
	if k.exists {
		return fp, nil
	}
	return "", nil
}

// attach records o on the problem of its version-1 fingerprint when that exists.
func (g *Grouper) attach(ctx context.Context, e *event.Event, o *problems.Occurrence) error {
	if g.transition == nil || o.Sample.Grouping == nil || o.Sample.Grouping.Components == nil {
		return nil
	}
	fp, err := g.transition.previous(ctx, e)
	if err != nil || fp == "" || fp == o.Fingerprint {
		return err
	}
	ex := *o.Sample.Grouping
	ex.Components = append(append([]grouping.Component(nil), ex.Components...), grouping.Component{
		Name: "previous-version", Value: fp, Contributes: true,
		Hint: "recorded on the problem this bug had under grouping version 1 (" + o.Fingerprint + " under version " + grouping.Version + ")",
	})
	o.Sample.Grouping, o.Fingerprint = &ex, fp
	return nil
}
