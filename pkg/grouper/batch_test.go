package grouper_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/grouper"
	"github.com/aient/firehose-drain/pkg/problems"
	"github.com/aient/firehose-drain/pkg/problems/problemstest"
)

// picky is a MemStore whose writes fail, or wait for the end of their context, for the
// occurrences of chosen fingerprints; it remembers the batches it was given.
type picky struct {
	*problemstest.MemStore
	mu      sync.Mutex
	fail    map[string]bool // fingerprint -> fails
	stall   map[string]bool // fingerprint -> waits for ctx
	batches [][]problems.Occurrence
}

func (p *picky) RecordBatch(ctx context.Context, occs []problems.Occurrence) []problems.Result {
	p.mu.Lock()
	p.batches = append(p.batches, occs)
	p.mu.Unlock()
	out := make([]problems.Result, len(occs))
	var pass []problems.Occurrence
	var at, stalled []int
	for i, o := range occs {
		switch {
		case p.fail[o.Fingerprint]:
			out[i].Err = fmt.Errorf("throttled")
		case p.stall[o.Fingerprint]:
			stalled = append(stalled, i)
		default:
			pass, at = append(pass, o), append(at, i)
		}
	}
	for k, r := range p.MemStore.RecordBatch(ctx, pass) {
		out[at[k]] = r
	}
	if len(stalled) > 0 { // a problem whose write hangs, as other problems finish
		<-ctx.Done()
		for _, i := range stalled {
			out[i].Err = ctx.Err()
		}
	}
	return out
}

func failedIDs(resp events.SQSEventResponse) []string {
	var out []string
	for _, f := range resp.BatchItemFailures {
		out = append(out, f.ItemIdentifier)
	}
	slices.Sort(out)
	return out
}

func packed(t *testing.T, evs ...event.Event) string {
	t.Helper()
	b, err := json.Marshal(grouper.Packed{Events: evs})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func fingerprint(e event.Event) string { return grouper.Occurrence(&e).Fingerprint }

func TestABatchIsRecordedInOneCallAndOnlyTheFailedMessagesAreNamed(t *testing.T) {
	a1, a2, a3 := stamped(fht.ErrorEvent(1)), stamped(fht.ErrorEvent(2)), stamped(fht.ErrorEvent(3))
	b1, b2 := stamped(fht.OtherErrorEvent(1)), stamped(fht.OtherErrorEvent(2))
	store := &picky{MemStore: problemstest.NewMemStore(), fail: map[string]bool{fingerprint(b1): true}}
	g := grouper.New(store, nil)
	batch := sqsBatch(t,
		body(t, a1),                            // m0: one event of a
		packed(t, a2, b1),                      // m1: packed, one of each: b fails, so m1 fails
		body(t, b2),                            // m2: b fails
		packed(t, a3),                          // m3: packed, a only
		packed(t, a3, a2),                      // m4: the same events again inside the batch: duplicates
		`{"events":[]}`,                        // m5: poison
		packed(t, a1, event.Event{Drain: "d"}), // m6: one event is not an event: poison, a1 is still fine
	)
	resp, err := g.HandleSQS(t.Context(), batch)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := failedIDs(resp), []string{"m1", "m2", "m5", "m6"}; !slices.Equal(got, want) {
		t.Fatalf("failed messages %v, want %v", got, want)
	}
	if len(store.batches) != 1 || len(store.batches[0]) != 8 {
		t.Fatalf("store got %d calls (first of %d occurrences), want one call with all 8 occurrences", len(store.batches), len(store.batches[0]))
	}
	id := problems.ID("acme", "prod", fingerprint(a1))
	p, err := store.Get(t.Context(), id)
	if err != nil || p.Count != 3 {
		t.Fatalf("problem a = %+v, %v; want count 3", p, err)
	}

	// SQS redelivers the failed messages; now b's writes work. a2, counted with m1 the
	// first time, is a no-op; m6 stays poison.
	store.fail = nil
	redelivered := events.SQSEvent{Records: []events.SQSMessage{batch.Records[1], batch.Records[2], batch.Records[6]}}
	resp, err = g.HandleSQS(t.Context(), redelivered)
	if err != nil {
		t.Fatal(err)
	}
	if got := failedIDs(resp); !slices.Equal(got, []string{"m6"}) {
		t.Fatalf("redelivery: failed %v, want only the poison m6", got)
	}
	if p, _ := store.Get(t.Context(), id); p.Count != 3 {
		t.Errorf("problem a = %d after the redelivery, want still 3", p.Count)
	}
	if p, _ := store.Get(t.Context(), problems.ID("acme", "prod", fingerprint(b1))); p.Count != 2 {
		t.Errorf("problem b = %d after the redelivery, want 2", p.Count)
	}
}

func TestMessagesNotFinishedBeforeTheMarginAreNamedAndTheAnswerBeatsTheDeadline(t *testing.T) {
	a, b := stamped(fht.ErrorEvent(1)), stamped(fht.OtherErrorEvent(1))
	store := &picky{MemStore: problemstest.NewMemStore(), stall: map[string]bool{fingerprint(b): true}}
	g := grouper.New(store, nil)
	budget := 600 * time.Millisecond
	ctx, cancel := context.WithTimeout(t.Context(), budget)
	defer cancel()
	resp, err := g.HandleSQS(ctx, sqsBatch(t, body(t, a), body(t, b), packed(t, b, a)))
	if ctx.Err() != nil {
		t.Fatalf("the answer came after the deadline (%v): the margin was not kept", ctx.Err())
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := failedIDs(resp); !slices.Equal(got, []string{"m1", "m2"}) {
		t.Fatalf("failed %v, want the two messages with the stalled problem", got)
	}
	if p, err := store.Get(t.Context(), problems.ID("acme", "prod", fingerprint(a))); err != nil || p.Count != 1 {
		t.Errorf("problem a = %+v, %v; want it recorded once", p, err)
	}
}

func TestDecodeBothShapes(t *testing.T) {
	e := stamped(fht.ErrorEvent(1))
	for _, c := range []struct {
		name, body string
		events     int
		poison     string
	}{
		{"one event", body(t, e), 1, ""},
		{"packed events", packed(t, e, stamped(fht.ErrorEvent(2))), 2, ""},
		{"an empty message is poison", strings.Replace(body(t, e), `"message":"`, `"message":"","x":"`, 1), 0, "empty message"},
		{"no message field is poison", noMessage(e), 0, "without a message field"},
		{"both shapes at once is poison", strings.Replace(body(t, e), `{`, `{"events":[],`, 1), 0, "both"},
		{"not JSON", "{", 0, "not an event"},
	} {
		evs, err := grouper.Decode([]byte(c.body))
		if len(evs) != c.events || (c.poison == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.poison)) {
			t.Errorf("%s: Decode = %d events, %v; want %d events, poison %q", c.name, len(evs), err, c.events, c.poison)
		}
	}
}
