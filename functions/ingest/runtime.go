package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// The ingest's own Lambda Runtime API loop, in place of aws-lambda-go's lambda.Start
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html). aws-lambda-go reads
// each event into a pooled bytes.Buffer that grows by doubling: the first ~7 MB Function
// URL event allocates ~15 MB on the way, and the 8 MB buffer it keeps is live heap, which
// the garbage collector's goal then doubles — the ingest's peak RSS was above the
// OpenTelemetry Collector's on the same delivery for that alone. Here every event is read
// into one buffer outside the Go heap (payloadBuffer: an anonymous mapping, touched only as
// far as the largest event went), so the collector paces on the ingest's own allocations.
// The protocol is aws-lambda-go's: the same headers read (request id, deadline, function
// ARN, trace id), the same context (lambdacontext), errors posted as
// {"errorMessage","errorType"}, a panic reported and then the process ends.

// runtimeAPIVersion is the path prefix of the Runtime API.
const runtimeAPIVersion = "/2018-06-01/runtime/invocation/"

// invoker is what the loop calls with each event (ingest.Handler.Invoke): payload is valid
// only during the call.
type invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// discardingInvoker is an invoker that gives back, while it runs, the parts of payload
// it has done with (ingest.Handler.InvokeDiscarding): their pages leave the resident set.
type discardingInvoker interface {
	InvokeDiscarding(ctx context.Context, payload []byte, discard func([]byte)) ([]byte, error)
}

// bigEvent is the event size from which, once answered, the heap the invocation grew is
// given back to the system (debug.FreeOSMemory): otherwise the next event is read while
// the previous one's heap is still resident, and the discarded event pages gain nothing.
// A garbage collection of the ingest's few MB of live heap costs ~2 ms, against the
// ~100 ms a delivery of that size takes to decode.
const bigEvent = 1 << 20

// runtimeClient talks to the Runtime API at base.
type runtimeClient struct {
	base   string // http://host:port/2018-06-01/runtime/invocation/
	client *http.Client
	buf    *payloadBuffer
	log    *slog.Logger
}

func newRuntimeClient(api string, log *slog.Logger) *runtimeClient {
	tr := &http.Transport{}
	if d, ok := http.DefaultTransport.(*http.Transport); ok {
		tr = d.Clone()
	}
	tr.Proxy = nil // the link-local Runtime API is never proxied
	return &runtimeClient{
		base:   "http://" + api + runtimeAPIVersion,
		client: &http.Client{Transport: tr},
		buf:    newPayloadBuffer(),
		log:    log,
	}
}

// serve runs invocations until the Runtime API fails or a handler panics; it returns why.
func (c *runtimeClient) serve(ctx context.Context, h invoker) error {
	for {
		if err := c.once(ctx, h); err != nil {
			return err
		}
	}
}

// once gets the next invocation, runs it and posts its answer.
func (c *runtimeClient) once(ctx context.Context, h invoker) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"next", nil)
	if err != nil {
		return fmt.Errorf("runtime API: %w", err)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("runtime API: get the next invocation: %w", err)
	}
	payload, err := c.buf.read(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return fmt.Errorf("runtime API: read the invocation: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("runtime API: get the next invocation: status %d", resp.StatusCode)
	}
	id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
	ms, err := strconv.ParseInt(resp.Header.Get("Lambda-Runtime-Deadline-Ms"), 10, 64)
	if err != nil {
		return c.fail(ctx, id, "Runtime.InvalidDeadline", fmt.Errorf("failed to parse deadline: %w", err))
	}
	ictx, cancel := context.WithDeadline(ctx, time.UnixMilli(ms))
	defer cancel()
	ictx = lambdacontext.NewContext(ictx, &lambdacontext.LambdaContext{
		AwsRequestID:       id,
		InvokedFunctionArn: resp.Header.Get("Lambda-Runtime-Invoked-Function-Arn"),
		TenantID:           resp.Header.Get("Lambda-Runtime-Aws-Tenant-Id"),
	})
	trace := resp.Header.Get("Lambda-Runtime-Trace-Id")
	_ = os.Setenv("_X_AMZN_TRACE_ID", trace) // as aws-lambda-go does: the SDK's clients read it
	ictx = context.WithValue(ictx, traceKey("x-amzn-trace-id"), trace)

	answer, perr, err := call(ictx, h, payload, c.buf.discard)
	c.buf.done()
	switch {
	case perr != nil:
		if ferr := c.fail(ctx, id, "Runtime.Panic", perr); ferr != nil {
			return ferr
		}
		return fmt.Errorf("the handler panicked, the process ends: %w", perr)
	case err != nil:
		err = c.fail(ctx, id, errorType(err), err)
	default:
		err = c.post(ctx, c.base+id+"/response", "application/json", answer, "")
	}
	if len(payload) >= bigEvent {
		debug.FreeOSMemory()
	}
	return err
}

type traceKey string

// call runs the handler, turning a panic into an error; discard goes to a
// discardingInvoker.
func call(ctx context.Context, h invoker, payload []byte, discard func([]byte)) (answer []byte, panicked, err error) {
	defer func() {
		if r := recover(); r != nil {
			panicked = fmt.Errorf("panic: %v", r)
		}
	}()
	if d, ok := h.(discardingInvoker); ok {
		answer, err = d.InvokeDiscarding(ctx, payload, discard)
	} else {
		answer, err = h.Invoke(ctx, payload)
	}
	return answer, nil, err
}

// errorType names an error as aws-lambda-go does: its type, without the pointer.
func errorType(err error) string {
	return strings.TrimPrefix(fmt.Sprintf("%T", err), "*")
}

// fail posts an invocation error, logged as aws-lambda-go logs it.
func (c *runtimeClient) fail(ctx context.Context, id, typ string, err error) error {
	body, _ := json.Marshal(map[string]string{"errorMessage": err.Error(), "errorType": typ})
	c.log.ErrorContext(ctx, "invocation failed", "requestId", id, "errorType", typ, "err", err)
	return c.post(ctx, c.base+id+"/error", "application/json", body, typ)
}

// post sends an answer and expects 202 Accepted.
func (c *runtimeClient) post(ctx context.Context, url, contentType string, body []byte, errType string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("runtime API: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	if errType != "" {
		req.Header.Set("Lambda-Runtime-Function-Error-Type", errType)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("runtime API: post to %s: %w", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("runtime API: post to %s: status %d", url, resp.StatusCode)
	}
	return nil
}
