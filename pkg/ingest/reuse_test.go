package ingest_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/ingest"
	"github.com/aient/firehose-drain/pkg/sqsqueue"
)

// recordingSQS answers every entry as sent and keeps a copy of each body.
type recordingSQS struct {
	mu     sync.Mutex
	bodies []string
}

func (r *recordingSQS) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	out := &sqs.SendMessageBatchOutput{}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range in.Entries {
		r.bodies = append(r.bodies, strings.Clone(aws.ToString(e.MessageBody)))
		out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: e.Id})
	}
	return out, nil
}

// take returns the bodies sent since the last take, sorted (batches go concurrently).
func (r *recordingSQS) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.bodies
	r.bodies = nil
	slices.Sort(b)
	return b
}

// reuseRig is a handler with the real sqsqueue.Sender over recordingSQS.
type reuseRig struct {
	h      *ingest.Handler
	sqs    *recordingSQS
	claims *fakeClaims
}

func newReuseRig() *reuseRig {
	auth := &fakeAuth{
		drains: map[string]drains.Drain{drainID: {ID: drainID, Org: "acme", Env: "prod", State: drains.StateActive}},
		keys:   map[string]string{drainID: key},
	}
	r := &reuseRig{sqs: &recordingSQS{}, claims: newFakeClaims()}
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
	return r.sqs.take()
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
