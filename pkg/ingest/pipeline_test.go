package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/dedup"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/drains/drainstest"
	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/ingest"
)

// cwDoc is a DATA_MESSAGE document with n events of which the first errs are ERROR lines.
func cwDoc(t testing.TB, stream string, n, errs int) []byte {
	t.Helper()
	type ev struct {
		ID        string `json:"id"`
		Timestamp int64  `json:"timestamp"`
		Message   string `json:"message"`
	}
	doc := struct {
		MessageType string   `json:"messageType"`
		Owner       string   `json:"owner"`
		LogGroup    string   `json:"logGroup"`
		LogStream   string   `json:"logStream"`
		Filters     []string `json:"subscriptionFilters"`
		LogEvents   []ev     `json:"logEvents"`
	}{MessageType: "DATA_MESSAGE", Owner: "111122223333", LogGroup: "/aws/lambda/checkout", LogStream: stream, Filters: []string{"f"}}
	for i := range n {
		msg := fmt.Sprintf("2026-11-21T12:00:00.000Z\tc0ffee\tINFO\tstep %d done\n", i)
		if i < errs {
			msg = fmt.Sprintf("2026-11-21T12:00:00.000Z\tc0ffee\tERROR\tInvoke Error \t{\"errorType\":\"TypeError\",\"errorMessage\":\"boom %d\",\"stack\":[\"TypeError: boom\",\"    at handler (/var/task/index.js:3:9)\"]}\n", i)
		}
		doc.LogEvents = append(doc.LogEvents, ev{ID: fmt.Sprintf("%s-%03d", stream, i), Timestamp: 1763726400000 + int64(i), Message: msg})
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type pipeRig struct {
	p      *ingest.Pipeline
	store  *drainstest.MemStore
	claims *fakeClaims
	sender *fakeSender
	now    time.Time
}

func newPipeRig(t *testing.T) *pipeRig {
	t.Helper()
	r := &pipeRig{store: drainstest.NewMemStore(), claims: newFakeClaims(), sender: &fakeSender{}, now: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	for _, d := range []drains.Drain{
		{ID: drainID, Org: "acme", Env: "prod", State: drains.StateActive},
		{ID: revokedID, Org: "acme", Env: "prod", State: drains.StateRevoked},
	} {
		if err := r.store.Create(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	r.p = ingest.NewPipeline(r.store, r.store, r.claims, r.sender, ingest.PipelineConfig{Now: func() time.Time { return r.now }, FlushEvents: 2})
	return r
}

func (r *pipeRig) drain(t *testing.T) drains.Drain {
	t.Helper()
	d, err := r.store.Get(t.Context(), drainID)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var kinesisBinding = ingest.Binding{Source: drains.SourceKinesis, Drain: drainID}

func kinesisBatch(t *testing.T) ingest.Batch {
	return ingest.Batch{Binding: kinesisBinding, Region: "eu-west-1", Items: []ingest.Item{
		{ID: "4959000000000000000000000001", Data: gzipped(t, cwDoc(t, "a", 5, 2))},
		{ID: "4959000000000000000000000002", Data: []byte("\x1f\x8b\x08\x00 truncated")},
		{ID: "4959000000000000000000000003", Data: cwDoc(t, "b", 4, 1)}, // plain JSON: a stream with Firehose-style decompression
	}}
}

func TestPipelineReportsExactlyTheBadItemAndARetrySendsNothingNew(t *testing.T) {
	r := newPipeRig(t)
	res := r.p.Deliver(t.Context(), kinesisBatch(t))
	if got := res.Failed(); !slices.Equal(got, []string{"4959000000000000000000000002"}) {
		t.Fatalf("failed items %v, want exactly the bad record", got)
	}
	bad := res.Items[1]
	if bad.Retry || !strings.Contains(bad.Err.Error(), "4959000000000000000000000002") || !strings.Contains(bad.Err.Error(), "gzip") {
		t.Errorf("bad item %+v: want a permanent error naming it", bad)
	}
	if res.Events != 9 || res.ErrorEvents != 3 || res.Sent != 3 || res.Rejected != 1 || res.Retry != 0 {
		t.Errorf("totals %+v", res)
	}
	sent := r.sender.events()
	for _, e := range sent {
		if e.Drain != drainID || e.Org != "acme" || e.Env != "prod" || e.Account != "111122223333" || e.Region != "eu-west-1" || !e.Level.IsErrorClass() {
			t.Errorf("sent %+v", e)
		}
	}
	d := r.drain(t)
	k := d.Sources[drains.SourceKinesis]
	if k.Deliveries != 1 || k.Events != 9 || k.ErrorEvents != 3 || k.Rejected != 1 || k.LastError == nil ||
		!strings.Contains(k.LastError.Reason, "4959000000000000000000000002") || !k.LastReceivedAt.Equal(r.now) {
		t.Errorf("kinesis bookkeeping %+v", k)
	}
	if _, ok := d.Sources[drains.SourceFirehose]; ok || d.Counters.RecordsRejected != 1 {
		t.Errorf("drain %+v", d)
	}

	// Lambda retries from the failed sequence number: the good records come again.
	again := r.p.Deliver(t.Context(), kinesisBatch(t))
	if again.Sent != 0 || again.Duplicates != 3 || !slices.Equal(again.Failed(), []string{"4959000000000000000000000002"}) {
		t.Errorf("retry %+v", again)
	}
	if n := len(r.sender.events()); n != 3 {
		t.Errorf("%d events sent in all, want 3", n)
	}
}

func TestPipelineTransientFailuresAreRetriedPerItem(t *testing.T) {
	t.Run("an event held by a concurrent delivery fails only its item", func(t *testing.T) {
		r := newPipeRig(t)
		b := kinesisBatch(t)
		held := event.Identity(drainID, "111122223333", "/aws/lambda/checkout", "b", "b-000")
		r.claims.state[held] = "inflight"
		res := r.p.Deliver(t.Context(), b)
		if got := res.Failed(); !slices.Equal(got, []string{"4959000000000000000000000002", "4959000000000000000000000003"}) {
			t.Fatalf("failed %v", got)
		}
		if it := res.Items[2]; !it.Retry || !errors.Is(it.Err, ingest.ErrBusy) {
			t.Errorf("held item %+v", it)
		}
		if res.Sent != 2 || res.Retry != 1 || res.Rejected != 1 {
			t.Errorf("totals %+v", res)
		}
	})
	t.Run("a failing queue releases the claims, fails the items with error events, and the retry sends them", func(t *testing.T) {
		r := newPipeRig(t)
		r.sender.fail = true
		res := r.p.Deliver(t.Context(), kinesisBatch(t))
		for _, i := range []int{0, 2} {
			if it := res.Items[i]; !it.Retry || !errors.Is(it.Err, ingest.ErrUnavailable) {
				t.Errorf("item %d: %+v", i, it)
			}
		}
		if r.claims.released != 3 || res.Sent != 0 {
			t.Errorf("released %d, sent %d", r.claims.released, res.Sent)
		}
		r.sender.fail = false
		if res := r.p.Deliver(t.Context(), kinesisBatch(t)); res.Sent != 3 || res.Retry != 0 {
			t.Errorf("retry %+v", res)
		}
	})
	t.Run("a failing dedup store fails the items with error events only", func(t *testing.T) {
		r := newPipeRig(t)
		r.claims.claimErr = errors.New("throttled")
		b := kinesisBatch(t)
		b.Items = append(b.Items, ingest.Item{ID: "info-only", Data: cwDoc(t, "c", 3, 0)})
		res := r.p.Deliver(t.Context(), b)
		if got := res.Failed(); !slices.Equal(got, []string{"4959000000000000000000000001", "4959000000000000000000000002", "4959000000000000000000000003"}) {
			t.Errorf("failed %v", got)
		}
	})
}

func TestPipelineBindings(t *testing.T) {
	r := newPipeRig(t)
	for _, c := range []struct {
		name  string
		b     ingest.Binding
		want  error
		retry bool
	}{
		{"an unknown drain", ingest.Binding{Source: drains.SourceKinesis, Drain: "drn_nope"}, ingest.ErrUnbound, false},
		{"no drain", ingest.Binding{Source: drains.SourceKinesis}, ingest.ErrUnbound, false},
		{"an unknown kind", ingest.Binding{Source: "carrier-pigeon", Drain: drainID}, ingest.ErrUnbound, false},
		{"a revoked drain", ingest.Binding{Source: drains.SourceKinesis, Drain: revokedID}, drains.ErrRevoked, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := kinesisBatch(t)
			b.Binding = c.b
			res := r.p.Deliver(t.Context(), b)
			if !errors.Is(res.Err, c.want) || res.Sent != 0 || res.Items[0].Retry != c.retry {
				t.Errorf("result %+v, want %v", res, c.want)
			}
		})
	}
	if n := len(r.sender.events()); n != 0 {
		t.Errorf("sent %d events", n)
	}
}

func TestPipelineConcurrentDeliveriesOfOneBatchSendEachEventOnce(t *testing.T) {
	r := newPipeRig(t)
	var wg sync.WaitGroup
	results := make([]ingest.Result, 8)
	for i := range results {
		wg.Go(func() { results[i] = r.p.Deliver(context.Background(), kinesisBatch(t)) })
	}
	wg.Wait()
	if n := len(r.sender.events()); n != 3 {
		t.Fatalf("sent %d events, want 3", n)
	}
	// Whoever found events held reports them for retry; the retry is a no-op.
	for _, res := range results {
		if res.Retry > 0 {
			if again := r.p.Deliver(t.Context(), kinesisBatch(t)); again.Sent != 0 || again.Retry != 0 {
				t.Errorf("retry after a concurrent delivery: %+v", again)
			}
		}
	}
}

// TestPipelineCrashedDeliveryIsRedelivered runs the real claimer over the embedded store: a
// delivery that claimed and died before sending leaves its claims; the next delivery finds
// them held (retry), and once the lease runs out it sends them.
func TestPipelineCrashedDeliveryIsRedelivered(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	st, err := embedded.Open(t.TempDir(), embedded.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Drains().Create(t.Context(), drains.Drain{ID: drainID, Org: "acme", Env: "prod", State: drains.StateActive, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	claimer := dedup.New(st.Claims(), dedup.Config{Lease: time.Minute, Now: clock})
	p := ingest.NewPipeline(st.Drains(), st.Drains(), claimer, st.Queue(), ingest.PipelineConfig{Now: clock})
	b := ingest.Batch{Binding: kinesisBinding, Items: []ingest.Item{{ID: "1", Data: gzipped(t, cwDoc(t, "a", 3, 2))}}}

	// The crashed delivery: claimed both identities, never sent.
	keys := []string{event.Identity(drainID, "111122223333", "/aws/lambda/checkout", "a", "a-000"), event.Identity(drainID, "111122223333", "/aws/lambda/checkout", "a", "a-001")}
	if _, err := claimer.Claim(t.Context(), keys); err != nil {
		t.Fatal(err)
	}
	if res := p.Deliver(t.Context(), b); res.Retry != 1 || res.Sent != 0 {
		t.Fatalf("while the crashed claims' lease runs: %+v", res)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	if res := p.Deliver(t.Context(), b); res.Retry != 0 || res.Sent != 2 {
		t.Fatalf("after the lease: %+v", res)
	}
	if res := p.Deliver(t.Context(), b); res.Sent != 0 || res.Duplicates != 2 {
		t.Fatalf("redelivered: %+v", res)
	}
	ready, _, _, err := st.Queue().Depth(t.Context())
	if err != nil || ready != 2 {
		t.Fatalf("queue holds %d (%v), want 2", ready, err)
	}
}

func TestPipelineStream(t *testing.T) {
	r := newPipeRig(t)
	b := ingest.Binding{Source: drains.SourceS3, Drain: drainID}
	var obj bytes.Buffer
	obj.Write(cwDoc(t, "a", 5, 3))
	obj.Write(cwDoc(t, "b", 4, 2)) // concatenated without a delimiter
	first := obj.Len()
	obj.WriteString("\n")
	third := cwDoc(t, "c", 6, 2)
	obj.Write(third[:len(third)-30]) // truncated
	body := gzipped(t, obj.Bytes())

	res := r.p.DeliverStream(t.Context(), b, "us-east-2", "logs-bucket/cw/2026/11/21/obj-1.gz", bytes.NewReader(body))
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	// The truncated document's events before the cut count (its 2 errors among them).
	if res.Documents != 3 || res.ErrorEvents != 7 || res.Sent != 7 || res.Rejected != 1 || len(res.Errors) != 1 {
		t.Fatalf("result %+v", res)
	}
	msg := res.Errors[0].Error()
	if !strings.Contains(msg, "logs-bucket/cw/2026/11/21/obj-1.gz") || !strings.Contains(msg, fmt.Sprintf("byte %d", first+1)) || !strings.Contains(msg, "truncated") {
		t.Errorf("error %q: want the object, the offset %d and the reason", msg, first+1)
	}
	if k := r.drain(t).Sources[drains.SourceS3]; k.Deliveries != 1 || k.ErrorEvents != 7 || k.Rejected != 1 {
		t.Errorf("s3 bookkeeping %+v", k)
	}
	again := r.p.DeliverStream(t.Context(), b, "us-east-2", "logs-bucket/cw/2026/11/21/obj-1.gz", bytes.NewReader(body))
	if again.Sent != 0 || again.Duplicates != 7 || again.Err != nil {
		t.Errorf("again %+v", again)
	}
	if n := len(r.sender.events()); n != 7 {
		t.Errorf("sent %d", n)
	}
	for _, e := range r.sender.events() {
		if e.Region != "us-east-2" || e.FirehoseRequestID != "logs-bucket/cw/2026/11/21/obj-1.gz" {
			t.Errorf("stamped %+v", e)
		}
	}

	r.sender.fail = true
	if res := r.p.DeliverStream(t.Context(), b, "", "x", bytes.NewReader(gzipped(t, cwDoc(t, "z", 2, 1)))); !errors.Is(res.Err, ingest.ErrUnavailable) {
		t.Errorf("a failing queue: %+v, want the object retried", res)
	}
}
