package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/aient/firehose-drain/internal/testkit/deploytest"
)

// recorder is an invoker that keeps what it was called with.
type recorder struct {
	mu       sync.Mutex
	payloads [][]byte
	ids      []string
	deadline []time.Time
	fail     error
	panic    bool
}

func (r *recorder) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.panic {
		panic("boom")
	}
	lc, _ := lambdacontext.FromContext(ctx)
	dl, _ := ctx.Deadline()
	r.payloads = append(r.payloads, bytes.Clone(payload))
	r.ids = append(r.ids, lc.AwsRequestID)
	r.deadline = append(r.deadline, dl)
	if r.fail != nil {
		return nil, r.fail
	}
	return append([]byte(`{"got":`), append(bytes.Clone(payload), '}')...), nil
}

func startLoop(t *testing.T, h invoker) (*deploytest.RuntimeAPI, <-chan error) {
	t.Helper()
	api := deploytest.NewRuntimeAPI()
	t.Cleanup(api.Close)
	c := newRuntimeClient(api.Address(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() { done <- c.serve(ctx, h) }()
	return api, done
}

// TestRuntimeLoop: the loop serves invocations one after another through the Runtime API
// (deploytest's, the one the deploy tests run the real binaries on): each payload whole,
// a large one after a small one and a small one after it (the reused buffer holds no
// remains), the request id and the deadline in the context, the answer posted.
func TestRuntimeLoop(t *testing.T) {
	r := &recorder{}
	api, _ := startLoop(t, r)
	big := `"` + strings.Repeat("x", deploytest.MaxPayload-100) + `"`
	for _, p := range []string{`{"a":1}`, big, `{"b":2}`} {
		res, err := api.Invoke(context.Background(), []byte(p), 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if res.Err != nil {
			t.Fatalf("invocation failed: %v", res.Err)
		}
		if string(res.Payload) != `{"got":`+p+`}` {
			t.Fatalf("answer %.80q, want the payload back", res.Payload)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, id := range r.ids {
		if id == "" || (i > 0 && id == r.ids[i-1]) {
			t.Errorf("invocation %d: request id %q in the context", i, id)
		}
		if d := time.Until(r.deadline[i]); d <= 0 || d > 31*time.Second {
			t.Errorf("invocation %d: deadline %v away, want the Runtime API's (30 s)", i, d)
		}
	}
}

// TestRuntimeLoopErrors: a handler error is posted as the invocation's error and the loop
// goes on; a panic is posted and ends the loop (as aws-lambda-go does).
func TestRuntimeLoopErrors(t *testing.T) {
	r := &recorder{fail: errors.New("no good")}
	api, done := startLoop(t, r)
	res, err := api.Invoke(context.Background(), []byte(`{}`), 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Err == nil || res.Err.Message != "no good" || res.Err.Type == "" {
		t.Fatalf("a handler error: %+v, want it posted as the invocation's error", res.Err)
	}
	r.mu.Lock()
	r.fail, r.panic = nil, true
	r.mu.Unlock()
	res, err = api.Invoke(context.Background(), []byte(`{}`), 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Err == nil || !strings.Contains(res.Err.Message, "boom") {
		t.Fatalf("a panic: %+v, want it posted", res.Err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the loop went on after a panic")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the loop went on after a panic")
	}
}

// TestPayloadBufferOverflow: an event larger than the reserved buffer is read whole.
func TestPayloadBufferOverflow(t *testing.T) {
	b := newPayloadBuffer()
	want := bytes.Repeat([]byte("0123456789abcdef"), (reservedPayload+1000)/16)
	got, err := b.read(bytes.NewReader(want))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes (%v), want %d", len(got), err, len(want))
	}
	got, err = b.read(strings.NewReader("small"))
	if err != nil || string(got) != "small" {
		t.Fatalf("then %q (%v), want small", got, err)
	}
}
