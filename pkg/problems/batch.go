package problems

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// Result is what RecordBatch did with one occurrence.
type Result struct {
	// Recorded is true when the occurrence was counted by this call. False with a nil Err:
	// its identity was counted before (a redelivery, or an earlier occurrence of the same
	// batch with the same identity), and nothing changed for it.
	Recorded bool
	// Err is why the occurrence could not be recorded; it may have been recorded or not
	// (a write that landed while its answer was lost): recording it again is always safe.
	Err error
}

// ErrEmptyIdentity is returned for an occurrence without an identity: it cannot be counted exactly once.
var ErrEmptyIdentity = errors.New("occurrence without identity")

// Group is the occurrences of one problem within a batch, each identity once, in batch order.
type Group struct {
	// ID is the problem id (ID(org, env, fingerprint)).
	ID          string
	Occurrences []Occurrence
	// at[i] is the position of Occurrences[i] in the batch.
	at []int
}

// Plan is a batch of occurrences grouped by problem: what a store writes, one problem
// write per group, and how the groups' results map back to the batch.
type Plan struct {
	Groups []Group
	n      int
	// same[i] is the position of the first occurrence of the batch with i's identity (i
	// itself for the first one); -1 for an occurrence without identity.
	same []int
}

// PlanBatch groups occurrences by problem, in the order each problem first appears. An
// identity that appears twice in the batch is written once: the later ones share its
// result as duplicates.
func PlanBatch(occs []Occurrence) *Plan {
	p := &Plan{n: len(occs), same: make([]int, len(occs))}
	first := make(map[string]int, len(occs))
	group := map[string]int{}
	for i, o := range occs {
		if o.Identity == "" {
			p.same[i] = -1
			continue
		}
		if j, ok := first[o.Identity]; ok {
			p.same[i] = j
			continue
		}
		first[o.Identity], p.same[i] = i, i
		id := ID(o.Org, o.Env, o.Fingerprint)
		g, ok := group[id]
		if !ok {
			g = len(p.Groups)
			group[id] = g
			p.Groups = append(p.Groups, Group{ID: id})
		}
		p.Groups[g].Occurrences = append(p.Groups[g].Occurrences, o)
		p.Groups[g].at = append(p.Groups[g].at, i)
	}
	return p
}

// Run writes every group with write, at most limit groups at once (limit < 1: one at a
// time), and returns one Result per occurrence of the batch, in batch order. write gets
// one group and returns one Result per occurrence of the group. A group not started when
// ctx ends is not written: its occurrences fail with ctx's error.
func (p *Plan) Run(ctx context.Context, limit int, write func(ctx context.Context, g Group) []Result) []Result {
	perGroup := make([][]Result, len(p.Groups))
	limit = max(limit, 1)
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for gi, g := range p.Groups {
		select {
		case sem <- struct{}{}:
			if ctx.Err() == nil {
				break
			}
			<-sem
			perGroup[gi] = failAll(len(g.Occurrences), ctx.Err())
			continue
		case <-ctx.Done():
			perGroup[gi] = failAll(len(g.Occurrences), ctx.Err())
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			perGroup[gi] = write(ctx, g)
		})
	}
	wg.Wait()
	return p.results(perGroup)
}

func failAll(n int, err error) []Result {
	out := make([]Result, n)
	for i := range out {
		out[i].Err = err
	}
	return out
}

// results maps the groups' results back to the batch.
func (p *Plan) results(perGroup [][]Result) []Result {
	out := make([]Result, p.n)
	for gi, g := range p.Groups {
		rs := perGroup[gi]
		for k, i := range g.at {
			if k < len(rs) {
				out[i] = rs[k]
			} else {
				out[i].Err = errors.New("problems: the store returned no result for this occurrence")
			}
		}
	}
	for i, j := range p.same {
		switch {
		case j < 0:
			out[i] = Result{Err: ErrEmptyIdentity}
		case j != i:
			// A second occurrence of one identity in the batch: counted with the first, or
			// failed with it.
			out[i] = Result{Err: out[j].Err}
		}
	}
	return out
}

// Aggregate is what a group's new occurrences change on their problem.
type Aggregate struct {
	Count int64
	// First and Last are the earliest and latest occurrence times.
	First, Last time.Time
	// Newest is the occurrence the problem shows when Last is its newest time: the latest
	// one, the last of equals in batch order.
	Newest Occurrence
	// LogGroups are the distinct non-empty log groups, in order of appearance.
	LogGroups []string
}

// AggregateOf aggregates occurrences (at least one) of one problem.
func AggregateOf(occs []Occurrence) Aggregate {
	a := Aggregate{Count: int64(len(occs)), First: occs[0].At, Last: occs[0].At, Newest: occs[0]}
	for _, o := range occs {
		if o.At.Before(a.First) {
			a.First = o.At
		}
		if !o.At.Before(a.Last) {
			a.Last, a.Newest = o.At, o
		}
		if g := o.Sample.LogGroup; g != "" && !slices.Contains(a.LogGroups, g) {
			a.LogGroups = append(a.LogGroups, g)
		}
	}
	return a
}

// Merge applies an aggregate to a problem (exists false: the problem is new): the count
// grows by a.Count, firstSeen is the min and lastSeen the max; title, culprit, level and
// sample follow the newest occurrence, a later record winning a tie; log groups are a set.
// The stores that can read and write a problem in one transaction use it as is; the
// DynamoDB adapter reaches the same result with conditional expressions.
func Merge(p Problem, exists bool, a Aggregate) Problem {
	o := a.Newest
	if !exists {
		p = Problem{
			ID: ID(o.Org, o.Env, o.Fingerprint), Org: o.Org, Env: o.Env, Fingerprint: o.Fingerprint,
			FirstSeen: a.First, LastSeen: a.Last,
		}
	}
	p.Count += a.Count
	if a.First.Before(p.FirstSeen) {
		p.FirstSeen = a.First
	}
	if !exists || !a.Last.Before(p.LastSeen) {
		p.LastSeen, p.Title, p.Culprit, p.Level, p.Sample = a.Last, o.Title, o.Culprit, o.Level, o.Sample
	}
	p.LogGroups = slices.Clone(p.LogGroups)
	for _, g := range a.LogGroups {
		if !slices.Contains(p.LogGroups, g) {
			p.LogGroups = append(p.LogGroups, g)
		}
	}
	return p
}
