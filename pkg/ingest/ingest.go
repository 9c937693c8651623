// Package ingest is the Firehose HTTP endpoint: it authenticates the drain, decodes the
// CloudWatch Logs records, claims the identity of every error-class event and sends the
// claimed events on, and answers Firehose with the status policy of DESIGN section 3.
// The same Handler serves a Lambda Function URL (Invoke) and plain net/http (ServeHTTP).
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aient/firehose-drain/pkg/cwpayload"
	"github.com/aient/firehose-drain/pkg/deadline"
	"github.com/aient/firehose-drain/pkg/dedup"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/firehose"
	"github.com/aient/firehose-drain/pkg/sqsqueue"
)

// PathPrefix is the route Firehose posts to: PathPrefix + drain id.
const PathPrefix = "/aws/firehose/"

// Authenticator checks a delivery's access key (drains.Service).
type Authenticator interface {
	Authenticate(ctx context.Context, id, key string) (drains.Drain, error)
}

// Bookkeeper records what deliveries did to a drain (a drains.Store).
type Bookkeeper interface {
	RecordDelivery(ctx context.Context, id string, d drains.Delivery) error
	RecordAuthFailure(ctx context.Context, id string, n drains.Note, minInterval time.Duration) (bool, error)
}

// Claimer claims event identities (dedup.Claimer).
type Claimer interface {
	Claim(ctx context.Context, keys []string) (*dedup.Batch, error)
	Commit(ctx context.Context, b *dedup.Batch) error
	Release(ctx context.Context, b *dedup.Batch) error
}

// Sender sends claimed events downstream (SQS, or the embedded queue). The Handler reuses
// the memory of the events slice for its next requests once Send has returned: a Sender
// that keeps events copies them (the values; their strings stay valid).
type Sender interface {
	Send(ctx context.Context, events []event.Event) error
}

// Config tunes a Handler. Zero values take the documented defaults.
type Config struct {
	// Limits caps record and inflated sizes. Default cwpayload.DefaultLimits().
	Limits cwpayload.Limits
	// MaxRequestBytes caps the request body as received (and, for a gzip request, inflated).
	// Default 64 MiB: a Function URL event is at most 6 MB, so only the local server sees more.
	MaxRequestBytes int64
	// MaxConcurrentBodies bounds how many admitted requests ServeHTTP reads bodies for at
	// once (each up to MaxRequestBytes); the others wait. Default 4.
	MaxConcurrentBodies int
	// Workers decode records in parallel. Default 2.
	Workers int
	// AuthFailureInterval: auth failures are recorded at most once per interval per drain.
	// Default 1 minute.
	AuthFailureInterval time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger. Default slog.Default().
	Logger *slog.Logger
	// Export, when set, exports every data event as OTLP logs before the answer (export.go).
	Export Exporter
	// Logs, when set, keeps every data event in the local log store before the answer
	// (logs.go).
	Logs LogStore
}

// Handler serves Firehose deliveries.
type Handler struct {
	auth    Authenticator
	books   Bookkeeper
	claims  Claimer
	send    Sender
	decoder *cwpayload.Decoder
	cfg     Config
	// bodies holds one token per request body being read by ServeHTTP.
	bodies chan struct{}
	// free keeps the event buffers of finished requests for the next ones (events).
	free chan *eventBuf

	mu         sync.Mutex
	authWrites map[string]time.Time // drain id -> last auth-failure write attempt by this instance
	// authPending counts refused requests per drain id not booked yet.
	authPending map[string]*refusals
}

// New returns a Handler.
func New(auth Authenticator, books Bookkeeper, claims Claimer, send Sender, cfg Config) *Handler {
	if cfg.Limits == (cwpayload.Limits{}) {
		cfg.Limits = cwpayload.DefaultLimits()
	}
	if cfg.MaxRequestBytes == 0 {
		cfg.MaxRequestBytes = 64 << 20
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.MaxConcurrentBodies <= 0 {
		cfg.MaxConcurrentBodies = 4
	}
	if cfg.AuthFailureInterval == 0 {
		cfg.AuthFailureInterval = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Handler{
		auth: auth, books: books, claims: claims, send: send,
		decoder:     cwpayload.NewDecoder(cfg.Limits),
		bodies:      make(chan struct{}, cfg.MaxConcurrentBodies),
		free:        make(chan *eventBuf, maxFreeEventBufs),
		cfg:         cfg,
		authWrites:  map[string]time.Time{},
		authPending: map[string]*refusals{},
	}
}

// Request is one HTTP request as both transports deliver it.
type Request struct {
	Method string
	Path   string
	// Header returns a header's value by its lower-case name.
	Header func(name string) string
	// Body is the request body as sent (possibly gzip); a Function URL's base64 is undone.
	Body []byte
	// Discard, when set, is given parts of Body while the records are decoded, each once,
	// that the handler will not read again: the caller may overwrite or unmap them
	// (InvokeDiscarding). Only the records' region is given, never the bytes that parsed
	// values (the request id) refer to.
	Discard func([]byte)
}

// Response is the answer: always the Firehose JSON body, also on errors.
type Response struct {
	Status int
	Body   []byte
}

// Outcome is what a delivery did; the response is derived from it. Exported for tests and logs.
type Outcome struct {
	Status        int
	Message       string // the errorMessage; empty on success
	Records       int
	Events        int
	ErrorEvents   int
	Sent          int
	Duplicates    int
	Busy          int
	RejectedIndex []int
	// Exported and LogsRejected count the log records the OTLP downstream accepted and
	// rejected (partialSuccess).
	Exported     int
	LogsRejected int
	// LogsStored counts the lines new to the local log store.
	LogsStored int
}

// Handle serves one delivery. The work (authenticate, decode, claim, send, export) stops
// deadline.Margin before ctx's deadline; committing or releasing the claims and booking
// the delivery then run under bounded contexts of their own (deadline.Budget.Finish), so
// the answer — a 503 when the work did not finish — always leaves before the deadline.
func (h *Handler) Handle(ctx context.Context, req Request) Response {
	requestID := req.Header("x-amz-firehose-request-id")
	work, budget, cancel := deadline.Split(ctx, time.Now()) // ctx deadlines are wall-clock, whatever cfg.Now says
	defer cancel()
	drain, out := h.admit(work, req)
	if out == nil {
		o := h.complete(work, budget, req, drain, &requestID)
		out = &o
	}
	return h.answer(ctx, drain, requestID, *out)
}

// answer logs the outcome of a delivery and turns it into the Firehose response.
func (h *Handler) answer(ctx context.Context, drain drains.Drain, requestID string, out Outcome) Response {
	h.logOutcome(ctx, drain, requestID, out)
	return Response{Status: out.Status, Body: firehose.ResponseBody(requestID, h.cfg.Now(), out.Message)}
}

// logOutcome writes the one log line of a delivery: the drain and org it was for, at WARN
// for 4xx and 5xx answers, without the fields that are empty or zero.
func (h *Handler) logOutcome(ctx context.Context, drain drains.Drain, requestID string, out Outcome) {
	lvl := slog.LevelInfo
	if out.Status >= 400 {
		lvl = slog.LevelWarn
	}
	attrs := []slog.Attr{slog.Int("status", out.Status)}
	for _, a := range []struct{ k, v string }{
		{"drain", drain.ID},
		{"org", drain.Org},
		{"env", drain.Env},
		{"firehoseRequestId", requestID},
		{"error", out.Message},
	} {
		if a.v != "" {
			attrs = append(attrs, slog.String(a.k, a.v))
		}
	}
	for _, a := range []struct {
		k string
		v int
	}{
		{"records", out.Records},
		{"events", out.Events},
		{"errorEvents", out.ErrorEvents},
		{"sent", out.Sent},
		{"duplicates", out.Duplicates},
		{"busy", out.Busy},
		{"exported", out.Exported},
		{"logsRejected", out.LogsRejected},
		{"logsStored", out.LogsStored},
	} {
		if a.v != 0 {
			attrs = append(attrs, slog.Int(a.k, a.v))
		}
	}
	h.cfg.Logger.LogAttrs(ctx, lvl, "firehose delivery", attrs...)
}

// admit checks what a delivery can be judged on before its body is read: the method, the
// path and the access key. It returns the drain, or the outcome that answers a request
// it refuses. An unauthenticated request costs one digest: no body is read for it.
func (h *Handler) admit(ctx context.Context, req Request) (drains.Drain, *Outcome) {
	if req.Method != http.MethodPost {
		return drains.Drain{}, &Outcome{Status: http.StatusMethodNotAllowed, Message: "method " + req.Method + " not allowed: Firehose delivers with POST"}
	}
	id, ok := strings.CutPrefix(req.Path, PathPrefix)
	if !ok {
		// The path is taken as it came (no cleaning, no redirect): /aws//firehose/ID is not
		// the endpoint either.
		return drains.Drain{}, &Outcome{Status: http.StatusNotFound, Message: "no such endpoint: Firehose posts to " + PathPrefix + "{drainId}"}
	}
	key := req.Header("x-amz-firehose-access-key")
	reason := "access key does not match"
	if len(key) > firehose.MaxAccessKeyBytes || key == "" {
		key = "" // never compared, never echoed
		reason = "access key missing or over 4096 bytes"
	}
	if !drains.ValidID(id) {
		// No drain has this id: the answer of an unknown drain, without a store read or a
		// write (DESIGN section 3: 401, no drain enumeration).
		return drains.Drain{}, &Outcome{Status: http.StatusUnauthorized, Message: "unauthorized: " + reason + " for this endpoint"}
	}
	drain, err := h.auth.Authenticate(ctx, id, key)
	switch {
	case errors.Is(err, drains.ErrUnauthorized):
		if !errors.Is(err, drains.ErrUnknownDrain) {
			// Bookkeeping only for drains that exist: an unknown id costs no write.
			h.recordAuthFailure(ctx, id, reason)
		}
		return drains.Drain{ID: id}, &Outcome{Status: http.StatusUnauthorized, Message: "unauthorized: " + reason + " for this endpoint"}
	case errors.Is(err, drains.ErrRevoked):
		return drains.Drain{ID: id}, &Outcome{Status: http.StatusForbidden, Message: "forbidden: this drain is revoked"}
	case err != nil:
		h.cfg.Logger.ErrorContext(ctx, "authenticate drain", "drain", id, "err", err)
		return drains.Drain{ID: id}, &Outcome{Status: http.StatusServiceUnavailable, Message: "drain store unavailable; retry"}
	}
	return drain, nil
}

// complete serves an admitted delivery under the work context ctx and does the drain's
// bookkeeping under a Finish context of budget.
func (h *Handler) complete(ctx context.Context, budget deadline.Budget, req Request, drain drains.Drain, requestID *string) Outcome {
	now := h.cfg.Now()
	delivery := drains.Delivery{At: now, Counters: drains.Counters{Deliveries: 1}}
	out := h.deliver(ctx, budget, req, drain, requestID, &delivery)
	if out.Status == http.StatusBadRequest {
		delivery.PayloadError = &drains.Note{At: now, Reason: out.Message}
	}
	delivery.Counters.Events = int64(out.Events)
	delivery.Counters.ErrorEvents = int64(out.ErrorEvents)
	delivery.Counters.Duplicates = int64(out.Duplicates)
	delivery.Counters.RecordsRejected = int64(len(out.RejectedIndex))
	// Requests refused for their key since the last booking are booked with this one.
	if refused := h.takeRefused(drain.ID); refused != nil {
		delivery.Counters.Deliveries += refused.count
		delivery.Log = append(delivery.Log, refused.entry)
	}
	delivery.Log = append(delivery.Log, drains.LogEntry{
		At: now, Status: out.Status, Source: drains.SourceFirehose, Records: int64(out.Records),
		Events: int64(out.Events), ErrorEvents: int64(out.ErrorEvents), Duplicates: int64(out.Duplicates),
		Reason: out.Message,
	})
	if err := recordDelivery(ctx, budget, h.books, drain.ID, delivery); err != nil {
		h.cfg.Logger.WarnContext(ctx, "record delivery on drain", "drain", drain.ID, "err", err)
	}
	return out
}

// recordDelivery books a delivery under a Finish context: also when the work ran out of
// time, and never past the answer's share of the margin.
func recordDelivery(ctx context.Context, budget deadline.Budget, books Bookkeeper, id string, d drains.Delivery) error {
	fctx, cancel := budget.Finish(ctx)
	defer cancel()
	return books.RecordDelivery(fctx, id, d)
}

// deliver decodes, claims and sends; the caller does the drain bookkeeping.
func (h *Handler) deliver(ctx context.Context, budget deadline.Budget, req Request, drain drains.Drain, requestID *string, delivery *drains.Delivery) Outcome {
	body, err := firehose.DecodeContent(req.Body, req.Header("content-encoding"), h.cfg.MaxRequestBytes)
	if err != nil {
		return Outcome{Status: http.StatusBadRequest, Message: "request body: " + err.Error()}
	}
	fb, err := firehose.ParseBody(body)
	if err != nil {
		return Outcome{Status: http.StatusBadRequest, Message: "request body: " + err.Error()}
	}
	switch {
	case *requestID == "":
		*requestID = fb.RequestID
	case fb.RequestID != *requestID:
		return Outcome{Status: http.StatusBadRequest, Message: fmt.Sprintf("request body: requestId %q does not match the X-Amz-Firehose-Request-Id header", truncate(fb.RequestID, 64))}
	}
	attrs, err := firehose.ParseCommonAttributes(req.Header("x-amz-firehose-common-attributes"))
	if err != nil {
		return Outcome{Status: http.StatusBadRequest, Message: "X-Amz-Firehose-Common-Attributes: " + err.Error()}
	}
	region, _ := firehose.ParseSourceARN(req.Header("x-amz-firehose-source-arn"))
	stamp := &cwpayload.Stamp{
		Drain: drain.ID, Org: drain.Org, Env: drain.Env, Region: region,
		RequestID: *requestID, Attributes: attrs,
	}

	if req.Discard != nil {
		if c := newConsumed(body, fb.Records, req.Discard); c != nil {
			stamp.Done = c.record
		}
	}
	export := h.beginExport(ctx, stamp, delivery.At)
	logs := h.beginLogs(stamp)
	decoded := h.decoder.DecodeRecordsPooled(ctx, fb.Records, stamp, h.cfg.Workers)
	results := decoded.Results
	out := Outcome{Status: http.StatusOK, Records: len(fb.Records)}
	n := 0
	for i := range results {
		n += len(results[i].Errors)
	}
	// One copy of the records' events, into memory the handler keeps for the next
	// request: the claim list and what is sent are cut from it.
	kept := h.events(n)
	defer h.doneEvents(kept)
	errs := kept.evs
	var firstBad *cwpayload.RecordError
	for i := range results {
		r := &results[i]
		delivery.Control = delivery.Control || r.Control
		delivery.Data = delivery.Data || r.Data
		out.Events += r.Events
		errs = append(errs, r.Errors...)
		if r.Err != nil {
			out.RejectedIndex = append(out.RejectedIndex, r.Err.Index)
			if firstBad == nil {
				firstBad = r.Err
			}
		}
	}
	decoded.Release() // the events are in errs
	kept.evs = errs
	out.ErrorEvents = len(errs)
	if err := ctx.Err(); err != nil {
		h.endExport(ctx, export, &out, delivery)
		return Outcome{Status: http.StatusServiceUnavailable, Message: "deadline reached while decoding; retry", Records: out.Records}
	}
	if st := h.endLogs(ctx, logs, &out); st != nil {
		h.endExport(ctx, export, &out, delivery)
		return *st
	}

	// Decodable records are processed even when others are rejected: dedup makes
	// Firehose's retries of the same batch no-ops for them. The problems are recorded also
	// when the OTLP export fails: the retry finds them duplicates.
	if len(errs) > 0 {
		if st := h.forward(ctx, budget, errs, &out); st != nil {
			h.endExport(ctx, export, &out, delivery)
			return *st
		}
	}
	if st := h.endExport(ctx, export, &out, delivery); st != nil && firstBad == nil {
		return *st
	}
	switch {
	case firstBad != nil:
		out.Status = http.StatusBadRequest
		out.Message = firstBad.Error()
		if n := len(out.RejectedIndex); n > 1 {
			out.Message += fmt.Sprintf(" (and %d more rejected records)", n-1)
		}
	case out.Busy > 0:
		out.Status = http.StatusServiceUnavailable
		out.Message = fmt.Sprintf("%d events are being delivered by a concurrent request; retry", out.Busy)
	}
	return out
}

// forward claims, sends and commits the error-class events. It returns a non-nil outcome
// when the delivery must be answered 503.
func (h *Handler) forward(ctx context.Context, budget deadline.Budget, evs []event.Event, out *Outcome) *Outcome {
	fw := forwardEvents(ctx, budget, h.claims, h.send, h.cfg.Logger, evs)
	if fw.err != nil {
		status, msg := sendFailure(fw.err)
		if fw.claimFailed {
			status, msg = claimFailure(fw.err)
		}
		return &Outcome{Status: status, Message: msg, Records: out.Records, Events: out.Events, ErrorEvents: out.ErrorEvents}
	}
	for _, o := range fw.outcomes {
		switch o {
		case sent:
			out.Sent++
		case duplicate:
			out.Duplicates++
		case busy:
			out.Busy++
		}
	}
	return nil
}

// claimFailure is the answer to a failed claim, by the class the claimer kept (DESIGN
// section 3): throttled and unavailable stores are 503, a permanent store failure (access
// denied, a missing table) is 500 — Firehose retries both, but only the first is cured by
// waiting, and the answer says which.
func claimFailure(err error) (int, string) {
	switch {
	case errors.Is(err, dedup.ErrThrottled):
		return http.StatusServiceUnavailable, "dedup store throttled; retry"
	case errors.Is(err, dedup.ErrUnavailable):
		return http.StatusServiceUnavailable, "dedup store unavailable; retry"
	}
	return http.StatusInternalServerError, "dedup store failed with an error a retry does not cure by itself (see the ingest log); retry once it is fixed"
}

// sendFailure is the answer to a failed send, by the class the queue kept (DESIGN section
// 3), as claimFailure's: a throttled or unavailable queue is 503, a permanent failure the
// sender named (an *sqsqueue.Error without sqsqueue.ErrUnavailable: access denied, a queue
// that does not exist, a disabled KMS key) is 500. A sender that does not classify its
// errors (the embedded queue) is unavailable: 503.
func sendFailure(err error) (int, string) {
	var qe *sqsqueue.Error
	switch {
	case errors.Is(err, sqsqueue.ErrThrottled):
		return http.StatusServiceUnavailable, "queue throttled; retry"
	case errors.As(err, &qe) && !errors.Is(err, sqsqueue.ErrUnavailable):
		return http.StatusInternalServerError, "queue failed with an error a retry does not cure by itself (see the ingest log); retry once it is fixed"
	}
	return http.StatusServiceUnavailable, "queue unavailable; retry"
}

// refusals are the requests refused for their key on one drain id, not booked yet.
type refusals struct {
	count int64
	entry drains.LogEntry // the latest one, Reason saying how many
}

// recordAuthFailure notes an auth failure on the drain, at most once per interval per
// instance before the store's own conditional write, so a flood of bad keys makes no
// flood of writes. Every refused request is also counted here, in memory (bounded), and
// booked with the drain's next delivery (takeRefused): its Deliveries counts them and its
// log shows them as one entry. A drain id that does not exist never gets that write.
func (h *Handler) recordAuthFailure(ctx context.Context, id, reason string) {
	now := h.cfg.Now()
	h.mu.Lock()
	if len(h.authPending) >= 4096 {
		clear(h.authPending)
	}
	r := h.authPending[id]
	if r == nil {
		r = &refusals{}
		h.authPending[id] = r
	}
	r.count++
	r.entry = drains.LogEntry{
		At: now, Status: http.StatusUnauthorized, Source: drains.SourceFirehose,
		Reason: fmt.Sprintf("unauthorized: %s (%d requests refused)", reason, r.count),
	}
	if r.count == 1 {
		r.entry.Reason = "unauthorized: " + reason
	}
	last, seen := h.authWrites[id]
	if seen && now.Sub(last) < h.cfg.AuthFailureInterval {
		h.mu.Unlock()
		return
	}
	if len(h.authWrites) >= 4096 {
		clear(h.authWrites)
	}
	h.authWrites[id] = now
	h.mu.Unlock()
	if _, err := h.books.RecordAuthFailure(ctx, id, drains.Note{At: now, Reason: reason}, h.cfg.AuthFailureInterval); err != nil {
		h.cfg.Logger.WarnContext(ctx, "record auth failure on drain", "drain", id, "err", err)
	}
}

// takeRefused hands over the refusals of drain id not booked yet; nil when there are none.
func (h *Handler) takeRefused(id string) *refusals {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.authPending[id]
	delete(h.authPending, id)
	return r
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
