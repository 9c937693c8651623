package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aient/firehose-drain/pkg/deadline"
	"github.com/aient/firehose-drain/pkg/firehose"
)

// ServeHTTP serves Firehose deliveries over plain net/http (the local server). The
// request is admitted (method, path, access key) from its headers alone, before a byte of
// its body is read, so an unauthenticated request costs one digest; an admitted one waits
// for one of Config.MaxConcurrentBodies body slots and is read under MaxRequestBytes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The listener's request has no deadline; Split still bounds the finishing steps.
	ctx := r.Context()
	work, budget, cancel := deadline.Split(ctx, time.Now())
	defer cancel()
	req := Request{
		Method: r.Method,
		Path:   r.URL.Path,
		Header: func(name string) string { return r.Header.Get(name) },
	}
	requestID := r.Header.Get("X-Amz-Firehose-Request-Id")
	drain, out := h.admit(work, req)
	if out == nil {
		out = h.readBody(w, r, &req)
	}
	if out == nil {
		o := h.complete(work, budget, req, drain, &requestID)
		out = &o
	}
	resp := h.answer(ctx, drain, requestID, *out)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}

// readBody reads an admitted request's body into req within a body slot. It returns the
// outcome that answers the request when the body cannot be read whole.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request, req *Request) *Outcome {
	select {
	case h.bodies <- struct{}{}:
		defer func() { <-h.bodies }()
	case <-r.Context().Done():
		return &Outcome{Status: http.StatusServiceUnavailable, Message: "server busy reading other deliveries; retry"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxRequestBytes))
	if err != nil {
		msg := "request body: " + err.Error()
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			msg = fmt.Sprintf("request body over %d bytes: lower the Firehose buffer size", h.cfg.MaxRequestBytes)
		}
		return &Outcome{Status: http.StatusBadRequest, Message: msg}
	}
	req.Body = body
	return nil
}

// Invoke serves a Lambda Function URL event (payload format 2.0). It implements
// lambda.Handler, so the event is parsed once, by firehose.ParseURLEventInPlace, instead
// of being decoded through reflection and then again as a Firehose body. The body is
// unescaped inside payload, which the runtime reads afresh for every invocation and
// reuses only after Invoke returns; nothing of it is kept past that.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return h.InvokeDiscarding(ctx, payload, nil)
}

// InvokeDiscarding is Invoke that also gives discard, while the records are decoded, the
// parts of payload it will not read again (Request.Discard): the Lambda loop returns their
// pages to the system, so the event and the decoding's heap are not resident together.
func (h *Handler) InvokeDiscarding(ctx context.Context, payload []byte, discard func([]byte)) ([]byte, error) {
	var resp Response
	u, err := firehose.ParseURLEventInPlace(payload)
	if err != nil {
		resp = Response{Status: http.StatusBadRequest, Body: firehose.ResponseBody("", h.cfg.Now(), "request: "+err.Error())}
	} else {
		resp = h.Handle(ctx, Request{
			Method:  strings.ToUpper(u.Method),
			Path:    u.RawPath,
			Header:  func(name string) string { return u.Headers[name] },
			Body:    u.Body,
			Discard: discard,
		})
	}
	return json.Marshal(events.LambdaFunctionURLResponse{
		StatusCode: resp.Status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(resp.Body),
	})
}
