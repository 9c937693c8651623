package ingest_test

import (
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/ingest"
	"github.com/aient/firehose-drain/pkg/sqsqueue"
	"github.com/aient/firehose-drain/pkg/sqsqueue/sqsqueuetest"
)

// reuseRig is a handler with the real sqsqueue.Sender over a recording fake of SQS.
type reuseRig struct {
	h      *ingest.Handler
	sqs    *sqsqueuetest.Recorder
	claims *fakeClaims
}

func newReuseRig() *reuseRig {
	auth := &fakeAuth{
		drains: map[string]drains.Drain{drainID: {ID: drainID, Org: "acme", Env: "prod", State: drains.StateActive}},
		keys:   map[string]string{drainID: key},
	}
	r := &reuseRig{sqs: &sqsqueuetest.Recorder{}, claims: newFakeClaims()}
	r.h = ingest.New(auth, &fakeBooks{}, r.claims, sqsqueue.NewWithAPI(r.sqs, "https://sqs.us-east-1.amazonaws.com/123456789012/events"),
		// One worker: with two, which record spends the request's breadcrumb budget first
		// varies, and with it the bodies.
		ingest.Config{Workers: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return r
}

// invoke delivers a Function URL event (sizedDelivery's) as a first delivery (the
// deliveries share event ids) and returns the bodies sent.
func (r *reuseRig) invoke(t *testing.T, payload []byte) []string {
	t.Helper()
	r.claims.mu.Lock()
	clear(r.claims.state)
	r.claims.mu.Unlock()
	invokeOK(t, r.h, payload, make([]byte, len(payload)))
	return r.sqs.Take()
}

func TestRequestsBackToBackSendOnlyTheirOwnBytes(t *testing.T) {
	// A large delivery, a smaller one with other events, the large one again and a
	// third: one handler (its event buffers, its decoder's chunks, its sender's body
	// buffer reused from request to request) sends exactly what a new handler sends for
	// each delivery alone.
	deliveries := [][]byte{sizedDelivery(200_000, 50), sizedDelivery(80_000, 5), sizedDelivery(200_000, 50), sizedDelivery(120_000, 20)}
	reused := newReuseRig()
	for i, d := range deliveries {
		want := newReuseRig().invoke(t, d)
		if len(want) == 0 {
			t.Fatalf("delivery %d sends nothing: nothing to compare", i)
		}
		if got := reused.invoke(t, d); !slices.Equal(got, want) {
			t.Fatalf("delivery %d: the reused handler sent %d bodies unlike a new handler's %d", i, len(got), len(want))
		}
	}
}
