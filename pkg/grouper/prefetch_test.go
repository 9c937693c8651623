package grouper_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/grouper"
	"github.com/aient/firehose-drain/pkg/problems"
	"github.com/aient/firehose-drain/pkg/problems/problemstest"
)

// prefetching is a MemStore that is a grouper.Prefetcher: it remembers the problems each
// Prefetch named and whether RecordBatch had been called by then.
type prefetching struct {
	*problemstest.MemStore
	mu       sync.Mutex
	named    [][]string
	recorded bool
	before   []bool // before[i]: named[i] came before any RecordBatch
}

func (p *prefetching) Prefetch(_ context.Context, ids []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.named = append(p.named, ids)
	p.before = append(p.before, !p.recorded)
}

func (p *prefetching) RecordBatch(ctx context.Context, occs []problems.Occurrence) []problems.Result {
	p.mu.Lock()
	p.recorded = true
	p.mu.Unlock()
	return p.MemStore.RecordBatch(ctx, occs)
}

// batchOf is an SQS batch of one message per event, message ids 0, 1, ...
func batchOf(t testing.TB, evs []event.Event) events.SQSEvent {
	t.Helper()
	var ev events.SQSEvent
	for i, e := range evs {
		body, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprint(i), Body: string(body)})
	}
	return ev
}

// TestPrefetchNamesTheFirstMessagesProblems: a batch of at least 32 KiB of bodies names to
// a Prefetcher, once, before it records the batch, the problems of at least its first
// quarter of messages (here every problem: 100 messages over 20 problems, the first 20
// messages one of each); poison messages name nothing; a smaller batch is not prefetched.
func TestPrefetchNamesTheFirstMessagesProblems(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var evs []event.Event
	want := map[string]bool{}
	for i := range 100 {
		e := bugEvent(i, 20)
		evs = append(evs, e)
		o := grouper.Occurrence(&e)
		want[problems.ID(o.Org, o.Env, o.Fingerprint)] = true
	}
	ev := batchOf(t, evs)
	ev.Records[3].Body = `{"not": "an event"}`
	rec := &prefetching{MemStore: problemstest.NewMemStore()}
	resp, err := grouper.New(rec, quiet).HandleSQS(t.Context(), ev)
	if err != nil || len(resp.BatchItemFailures) != 1 {
		t.Fatalf("HandleSQS = %+v, %v; want the poison message alone failed", resp, err)
	}
	if len(rec.named) != 1 || !rec.before[0] {
		t.Fatalf("Prefetch calls %d (before RecordBatch: %v), want 1 before it", len(rec.named), rec.before)
	}
	got := map[string]bool{}
	for _, id := range rec.named[0] {
		if !want[id] {
			t.Errorf("named %s, not a problem of the batch", id)
		}
		got[id] = true
	}
	if len(got) != len(want) {
		t.Errorf("named %d problems, want the %d of the first quarter of the batch", len(got), len(want))
	}

	small := &prefetching{MemStore: problemstest.NewMemStore()}
	if _, err := grouper.New(small, quiet).HandleSQS(t.Context(), batchOf(t, evs[:40])); err != nil {
		t.Fatal(err)
	}
	if len(small.named) != 0 {
		t.Errorf("a batch of 40 messages (under 32 KiB) named %v, want no Prefetch", small.named)
	}
}
