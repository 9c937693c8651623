package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
	"github.com/aient/firehose-drain/pkg/dedup"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/drains/drainstest"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/ingest"
)

// Deadlines (DESIGN section 8, "Deadlines"): a store or queue call that stalls until its
// context ends must not turn the promised answer into a Lambda timeout. Each test gives the
// delivery a context with a deadline, stalls one call, and checks that the answer is the
// Firehose body with its status, given while the deadline has not passed, and that no
// claim is left in flight for a retry to wait out.

// stall blocks until ctx ends (as an SDK call does when its deadline passes), or, for a
// call that was given no deadline at all, for long enough that the answer comes too late.
func stall(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return fmt.Errorf("stalled call: %w: %w", dedup.ErrUnavailable, ctx.Err())
	case <-time.After(3 * time.Second):
		return errors.New("stalled call gave up by itself")
	}
}

// claimStore is an in-memory dedup.Store whose calls can be made to stall.
type claimStore struct {
	mu                                    sync.Mutex
	items                                 map[string]dedup.Claim // inflight claims; done ones have Token ""
	stallClaim, stallCommit, stallRelease func(keys []string) bool
}

func newClaimStore() *claimStore { return &claimStore{items: map[string]dedup.Claim{}} }

func (s *claimStore) stalls(f func([]string) bool, keys []string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return f != nil && f(keys)
}

func (s *claimStore) Claim(ctx context.Context, c dedup.Claim, now time.Time) (dedup.Outcome, error) {
	if s.stalls(s.stallClaim, []string{c.Key}) {
		return 0, stall(ctx)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[c.Key]
	switch {
	case ok && it.Token == "":
		return dedup.Duplicate, nil
	case ok && !it.LeaseUntil.Before(now):
		return dedup.Busy, nil
	}
	s.items[c.Key] = c
	return dedup.Fresh, nil
}

func (s *claimStore) Commit(ctx context.Context, keys []string, token string, _ time.Time) error {
	if s.stalls(s.stallCommit, keys) {
		return stall(ctx)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		if it, ok := s.items[k]; ok && it.Token == token {
			s.items[k] = dedup.Claim{Key: k}
		}
	}
	return nil
}

func (s *claimStore) Release(ctx context.Context, keys []string, token string) error {
	if s.stalls(s.stallRelease, keys) {
		return stall(ctx)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		if it, ok := s.items[k]; ok && it.Token == token {
			delete(s.items, k)
		}
	}
	return nil
}

// inflight returns the keys held by a claim not committed.
func (s *claimStore) inflight() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ks []string
	for k, it := range s.items {
		if it.Token != "" {
			ks = append(ks, k)
		}
	}
	return ks
}

func (s *claimStore) set(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
}

// stallingSender sends, or stalls when stalled is set.
type stallingSender struct {
	fakeSender
	mu      sync.Mutex
	stalled bool
}

func (s *stallingSender) Send(ctx context.Context, evs []event.Event) error {
	s.mu.Lock()
	stalled := s.stalled
	s.mu.Unlock()
	if stalled {
		return stall(ctx)
	}
	return s.fakeSender.Send(ctx, evs)
}

func (s *stallingSender) stall(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stalled = on
}

// stallingBooks stalls RecordDelivery when stalled is set.
type stallingBooks struct {
	fakeBooks
	stalled bool
}

func (b *stallingBooks) RecordDelivery(ctx context.Context, id string, d drains.Delivery) error {
	if b.stalled {
		return stall(ctx)
	}
	return b.fakeBooks.RecordDelivery(ctx, id, d)
}

type deadlineRig struct {
	h      *ingest.Handler
	store  *claimStore
	sender *stallingSender
	books  *stallingBooks
}

// budget is the delivery's time: its margin (a tenth, at least 2 s, at most half) is half
// of it, so the work ends after budget/2.
const budget = 600 * time.Millisecond

func newDeadlineRig(t *testing.T) *deadlineRig {
	t.Helper()
	r := &deadlineRig{store: newClaimStore(), sender: &stallingSender{}, books: &stallingBooks{}}
	auth := &fakeAuth{
		drains: map[string]drains.Drain{drainID: {ID: drainID, Org: "acme", Env: "prod", State: drains.StateActive}},
		keys:   map[string]string{drainID: key},
	}
	// A lease far longer than the test: a claim left in flight would block the retry.
	r.h = ingest.New(auth, r.books, dedup.New(r.store, dedup.Config{Lease: time.Hour, Concurrency: 1}), r.sender, ingest.Config{})
	return r
}

var deadlineBody = fht.Body(reqID, fht.Record("/aws/lambda/pay", "s", fht.ErrorEvent(1), fht.ErrorEvent(2), fht.ErrorEvent(3)))

// deliver posts the body under a context with the test budget; it fails the test when the
// answer came after the deadline.
func (r *deadlineRig) deliver(t *testing.T) answer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	resp := r.h.Handle(ctx, ingest.Request{
		Method: http.MethodPost, Path: "/aws/firehose/" + drainID, Body: deadlineBody,
		Header: func(n string) string {
			return map[string]string{"x-amz-firehose-request-id": reqID, "x-amz-firehose-access-key": key}[n]
		},
	})
	if err := ctx.Err(); err != nil {
		t.Fatalf("the answer (%d %s) came after the deadline: %v — Firehose would see a Lambda timeout", resp.Status, resp.Body, err)
	}
	return decodeAnswer(t, resp.Status, resp.Body)
}

func TestAStalledClaimAnswers503InTimeAndReleasesTheClaimsMade(t *testing.T) {
	r := newDeadlineRig(t)
	calls := 0
	r.store.set(func() {
		r.store.stallClaim = func([]string) bool { calls++; return calls == 2 } // the second key's claim stalls
	})
	if a := r.deliver(t); a.Status != http.StatusServiceUnavailable || a.RequestID != reqID {
		t.Fatalf("answer %d %q, want the 503 body", a.Status, a.ErrorMessage)
	}
	if held := r.store.inflight(); len(held) != 0 {
		t.Fatalf("claims %v left in flight after the 503: the retry would wait out the lease", held)
	}
	r.store.set(func() { r.store.stallClaim = nil })
	if a := r.deliver(t); a.Status != http.StatusOK || len(r.sender.events()) != 3 {
		t.Fatalf("retry: %d %q, %d events sent, want 200 and all 3", a.Status, a.ErrorMessage, len(r.sender.events()))
	}
}

func TestAStalledSendAnswers503InTimeAndTheRetryIsNotBlocked(t *testing.T) {
	r := newDeadlineRig(t)
	r.sender.stall(true)
	if a := r.deliver(t); a.Status != http.StatusServiceUnavailable {
		t.Fatalf("answer %d %q, want 503", a.Status, a.ErrorMessage)
	}
	if held := r.store.inflight(); len(held) != 0 {
		t.Fatalf("claims %v left in flight after the failed send", held)
	}
	r.sender.stall(false)
	if a := r.deliver(t); a.Status != http.StatusOK || len(r.sender.events()) != 3 {
		t.Fatalf("retry: %d %q, %d sent, want 200 and all 3 (not busy until the lease ends)", a.Status, a.ErrorMessage, len(r.sender.events()))
	}
}

func TestAStalledReleaseStillAnswers503InTime(t *testing.T) {
	r := newDeadlineRig(t)
	r.sender.fail = true
	r.store.set(func() { r.store.stallRelease = func([]string) bool { return true } })
	if a := r.deliver(t); a.Status != http.StatusServiceUnavailable {
		t.Fatalf("answer %d %q, want 503", a.Status, a.ErrorMessage)
	}
}

func TestAStalledCommitStillAnswersInTime(t *testing.T) {
	r := newDeadlineRig(t)
	r.store.set(func() { r.store.stallCommit = func([]string) bool { return true } })
	if a := r.deliver(t); a.Status != http.StatusOK || len(r.sender.events()) != 3 {
		t.Fatalf("answer %d %q, %d sent, want 200: the events were sent", a.Status, a.ErrorMessage, len(r.sender.events()))
	}
}

func TestStalledBookkeepingStillAnswersInTime(t *testing.T) {
	r := newDeadlineRig(t)
	r.books.stalled = true
	if a := r.deliver(t); a.Status != http.StatusOK {
		t.Fatalf("answer %d %q, want 200", a.Status, a.ErrorMessage)
	}
}

// The sources' pipeline keeps the same margin: a stalled send names the items for retry,
// releases their claims and returns before the deadline.
func TestPipelineAStalledSendReturnsInTimeAndReleases(t *testing.T) {
	store, sender := newClaimStore(), &stallingSender{}
	ds := drainstest.NewMemStore()
	if err := ds.Create(t.Context(), drains.Drain{ID: drainID, Org: "acme", Env: "prod", State: drains.StateActive}); err != nil {
		t.Fatal(err)
	}
	p := ingest.NewPipeline(ds, ds, dedup.New(store, dedup.Config{Lease: time.Hour}), sender, ingest.PipelineConfig{})
	sender.stall(true)
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	res := p.Deliver(ctx, kinesisBatch(t))
	if err := ctx.Err(); err != nil {
		t.Fatalf("Deliver returned after the deadline: %v", err)
	}
	if got := res.Failed(); !slices.Equal(got, []string{"4959000000000000000000000001", "4959000000000000000000000002", "4959000000000000000000000003"}) || res.Retry != 2 {
		t.Fatalf("failed %v (retry %d), want the two items with error events for retry and the bad one", got, res.Retry)
	}
	if held := store.inflight(); len(held) != 0 {
		t.Fatalf("claims %v left in flight", held)
	}
}

// A claim error keeps its class up to the answer: a permanent store failure is not called
// unavailable, a throttle says so.
func TestClaimFailuresAnswerByTheirClass(t *testing.T) {
	for _, c := range []struct {
		name   string
		err    error
		status int
		msg    string
	}{
		{"throttled", fmt.Errorf("ProvisionedThroughputExceeded: %w: %w", dedup.ErrUnavailable, dedup.ErrThrottled), 503, "dedup store throttled; retry"},
		{"unavailable", fmt.Errorf("connection reset: %w", dedup.ErrUnavailable), 503, "dedup store unavailable; retry"},
		{"permanent", errors.New("AccessDeniedException: not authorized to perform dynamodb:PutItem"), 500, "a retry does not cure by itself"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newDeadlineRig(t)
			r.store.set(func() { r.store.stallClaim = nil })
			failing := &failingClaimStore{claimStore: r.store, err: c.err}
			auth := &fakeAuth{
				drains: map[string]drains.Drain{drainID: {ID: drainID, Org: "acme", Env: "prod", State: drains.StateActive}},
				keys:   map[string]string{drainID: key},
			}
			r.h = ingest.New(auth, r.books, dedup.New(failing, dedup.Config{Concurrency: 1}), r.sender, ingest.Config{})
			a := r.deliver(t)
			if a.Status != c.status || !strings.Contains(a.ErrorMessage, c.msg) {
				t.Fatalf("answer %d %q, want %d %q", a.Status, a.ErrorMessage, c.status, c.msg)
			}
		})
	}
}

// failingClaimStore fails every claim with err.
type failingClaimStore struct {
	*claimStore
	err error
}

func (s *failingClaimStore) Claim(context.Context, dedup.Claim, time.Time) (dedup.Outcome, error) {
	return 0, s.err
}
