package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aient/firehose-drain/pkg/firehose"
)

// ServeHTTP serves Firehose deliveries over plain net/http (the local server).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxRequestBytes))
	var resp Response
	if err != nil {
		// The body cannot be read whole; answer in the Firehose shape all the same.
		reqID := r.Header.Get("X-Amz-Firehose-Request-Id")
		msg := "request body: " + err.Error()
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			msg = fmt.Sprintf("request body over %d bytes: lower the Firehose buffer size", h.cfg.MaxRequestBytes)
		}
		resp = Response{Status: http.StatusBadRequest, Body: firehose.ResponseBody(reqID, h.cfg.Now(), msg)}
	} else {
		resp = h.Handle(r.Context(), Request{
			Method: r.Method,
			Path:   r.URL.Path,
			Header: func(name string) string { return r.Header.Get(name) },
			Body:   body,
		})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}

// Invoke serves a Lambda Function URL event (payload format 2.0). It implements
// lambda.Handler, so the event is parsed once, by firehose.ParseURLEventInPlace, instead
// of being decoded through reflection and then again as a Firehose body. The body is
// unescaped inside payload, which the runtime reads afresh for every invocation and
// reuses only after Invoke returns; nothing of it is kept past that.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var resp Response
	u, err := firehose.ParseURLEventInPlace(payload)
	if err != nil {
		resp = Response{Status: http.StatusBadRequest, Body: firehose.ResponseBody("", h.cfg.Now(), "request: "+err.Error())}
	} else {
		resp = h.Handle(ctx, Request{
			Method: strings.ToUpper(u.Method),
			Path:   u.RawPath,
			Header: func(name string) string { return u.Headers[name] },
			Body:   u.Body,
		})
	}
	return json.Marshal(events.LambdaFunctionURLResponse{
		StatusCode: resp.Status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(resp.Body),
	})
}
