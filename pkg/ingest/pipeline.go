package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/aient/firehose-drain/pkg/cwpayload"
	"github.com/aient/firehose-drain/pkg/deadline"
	"github.com/aient/firehose-drain/pkg/dedup"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/event"
)

// The pipeline is what every source shares once its transport is undone: a drain binding,
// items in, decode, classify, claim, send, commit, and the bookkeeping of the delivery on
// the drain under the source's kind. A source (pkg/sources: Kinesis, S3, a subscription,
// `aient replay`) only turns its event into a Batch or a stream and its answer out of the
// per-item results; the Firehose HTTP endpoint (Handler) authenticates by access key
// instead of a binding and answers in Firehose's shape.

// DrainReader reads a drain by id (a drains.Store).
type DrainReader interface {
	Get(ctx context.Context, id string) (drains.Drain, error)
}

// Binding says which drain a source feeds and what kind of source it is. A source has no
// access key: the binding is configuration (template parameters, --drain).
type Binding struct {
	// Source is the source kind, one of drains.SourceKinds.
	Source string
	// Drain is the drain id the source's events are stamped with.
	Drain string
}

// ErrUnbound is returned when the binding names no drain that exists, or names none at all.
var ErrUnbound = errors.New("source is bound to no drain")

// Pipeline runs bound sources' deliveries. It is safe for concurrent use.
type Pipeline struct {
	drains  DrainReader
	books   Bookkeeper
	claims  Claimer
	send    Sender
	decoder *cwpayload.Decoder
	cfg     PipelineConfig
}

// PipelineConfig tunes a Pipeline. Zero values take the documented defaults.
type PipelineConfig struct {
	// Limits caps record and inflated sizes; for streams, MaxRecordInflated caps one
	// document. Default cwpayload.DefaultLimits().
	Limits cwpayload.Limits
	// Workers decode a batch's items in parallel. Default 2.
	Workers int
	// FlushEvents: a stream's error-class events are claimed and sent in groups of at most
	// this many, so a large object holds no more than that in memory. Default 500.
	FlushEvents int
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger. Default slog.Default().
	Logger *slog.Logger
	// Export, when set, exports every data event as OTLP logs before the items are
	// answered (export.go).
	Export Exporter
}

// NewPipeline returns a Pipeline.
func NewPipeline(dr DrainReader, books Bookkeeper, claims Claimer, send Sender, cfg PipelineConfig) *Pipeline {
	if cfg.Limits == (cwpayload.Limits{}) {
		cfg.Limits = cwpayload.DefaultLimits()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.FlushEvents <= 0 {
		cfg.FlushEvents = 500
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Pipeline{drains: dr, books: books, claims: claims, send: send, decoder: cwpayload.NewDecoder(cfg.Limits), cfg: cfg}
}

// Decoder returns the pipeline's decoder.
func (p *Pipeline) Decoder() *cwpayload.Decoder { return p.decoder }

// Item is one unit a source retries as a whole: a Kinesis record, a subscription event, a
// line of a Firehose backup object.
type Item struct {
	// ID is how the source names the item in its answer and errors: a sequence number, a
	// line number.
	ID string
	// Data is gzip or plain JSON of one or more CloudWatch Logs documents, or its base64
	// when the batch says so.
	Data []byte
}

// Batch is one delivery of a bound source.
type Batch struct {
	Binding
	// Base64 is set when every Item's Data is base64 (subscription events, Firehose records
	// in backup objects); else Data is raw (Kinesis records, whose base64 the event's JSON
	// decoding undid).
	Base64 bool
	// Region is where the source runs; an event's own @aws.region wins over it.
	Region string
	// RequestID names the delivery for support (never identity).
	RequestID string
	Items     []Item
}

// ItemResult is what happened to one item.
type ItemResult struct {
	ID          string
	Events      int
	ErrorEvents int
	Sent        int
	Duplicates  int
	// Err is set when the item was not fully handled. With Retry unset the item can
	// never decode (it is counted as rejected on the drain); with Retry set a delivery of
	// it again may succeed (a store or the queue failed, or a concurrent delivery holds
	// some of its events).
	Err   error
	Retry bool
}

// Result is what a batch did.
type Result struct {
	Items []ItemResult
	// Totals over the items.
	Events, ErrorEvents, Sent, Duplicates, Rejected, Retry int
	// Exported and LogsRejected count the log records the OTLP downstream accepted and
	// rejected (partialSuccess).
	Exported, LogsRejected int
	// Err is set when nothing could be delivered at all: ErrUnbound, drains.ErrRevoked, or
	// the drain store failing (Retry is then the number of items).
	Err error
}

// Failed returns the ids of the items a source must report failed: every item with an
// error (rejected ones too, so the source's own failure handling — retries, bisecting, an
// on-failure destination — sees them).
func (r *Result) Failed() []string {
	var ids []string
	for _, it := range r.Items {
		if it.Err != nil {
			ids = append(ids, it.ID)
		}
	}
	return ids
}

// drain resolves a binding.
func (p *Pipeline) drain(ctx context.Context, b Binding) (drains.Drain, error) {
	if err := drains.CheckSource(b.Source); err != nil || b.Source == "" {
		return drains.Drain{}, fmt.Errorf("binding: %w", errors.Join(err, ErrUnbound))
	}
	if b.Drain == "" || !drains.ValidID(b.Drain) {
		return drains.Drain{}, fmt.Errorf("binding %s -> %q: %w", b.Source, b.Drain, ErrUnbound)
	}
	d, err := p.drains.Get(ctx, b.Drain)
	switch {
	case errors.Is(err, drains.ErrNotFound):
		return drains.Drain{}, fmt.Errorf("binding %s -> %s: %w", b.Source, b.Drain, ErrUnbound)
	case err != nil:
		return drains.Drain{}, fmt.Errorf("read drain %s: %w", b.Drain, err)
	case d.State == drains.StateRevoked:
		return d, fmt.Errorf("drain %s: %w", b.Drain, drains.ErrRevoked)
	}
	return d, nil
}

func stampOf(d drains.Drain, region, requestID string) *cwpayload.Stamp {
	return &cwpayload.Stamp{Drain: d.ID, Org: d.Org, Env: d.Env, Region: region, RequestID: requestID}
}

// Deliver runs one batch through the pipeline and books it on the drain. As the Firehose
// handler does, it works until deadline.Margin before ctx's deadline and then commits or
// releases its claims and books the delivery under bounded Finish contexts: what did not
// finish is named for retry, in time for the answer.
func (p *Pipeline) Deliver(parent context.Context, b Batch) Result {
	ctx, budget, cancel := deadline.Split(parent, time.Now())
	defer cancel()
	res := Result{Items: make([]ItemResult, len(b.Items))}
	for i, it := range b.Items {
		res.Items[i].ID = it.ID
	}
	d, err := p.drain(ctx, b.Binding)
	if err != nil {
		res.Err = err
		for i := range res.Items {
			res.Items[i].Err, res.Items[i].Retry = err, !errors.Is(err, ErrUnbound) && !errors.Is(err, drains.ErrRevoked)
		}
		if res.Items != nil && res.Items[0].Retry {
			res.Retry = len(res.Items)
		}
		return res
	}
	datas := make([][]byte, len(b.Items))
	for i := range b.Items {
		datas[i] = b.Items[i].Data
	}
	st := stampOf(d, b.Region, b.RequestID)
	delivery := drains.Delivery{At: p.cfg.Now(), Source: b.Source, Counters: drains.Counters{Deliveries: 1}}
	export := p.beginExport(ctx, st, delivery.At)
	var decoded []cwpayload.RecordResult
	if b.Base64 {
		decoded = p.decoder.DecodeRecords(ctx, datas, st, p.cfg.Workers)
	} else {
		decoded = p.decoder.DecodeData(ctx, datas, st, p.cfg.Workers)
	}
	n := 0
	for i := range decoded {
		n += len(decoded[i].Errors)
	}
	evs := make([]event.Event, 0, n)
	owner := make([]int, 0, n) // owner[k] is the item of evs[k]
	for i := range decoded {
		r := &decoded[i]
		it := &res.Items[i]
		it.Events, it.ErrorEvents = r.Events, len(r.Errors)
		delivery.Data = delivery.Data || r.Data
		delivery.Control = delivery.Control || r.Control
		for range r.Errors {
			owner = append(owner, i)
		}
		evs = append(evs, r.Errors...)
		if r.Err != nil {
			e := &ItemError{ID: it.ID, Reason: r.Err.Reason, Err: r.Err.Err}
			it.Err = e
			// A record not decoded before the deadline is retried, not rejected.
			if it.Retry = errors.Is(r.Err.Err, context.DeadlineExceeded) || errors.Is(r.Err.Err, context.Canceled); !it.Retry && delivery.PayloadError == nil {
				delivery.PayloadError = &drains.Note{At: delivery.At, Reason: fmt.Sprintf("%s: %s", b.Source, e.Error())}
			}
		}
	}
	fw := p.forward(ctx, budget, evs)
	for k, o := range fw.outcomes {
		it := &res.Items[owner[k]]
		switch o {
		case sent:
			it.Sent++
		case duplicate:
			it.Duplicates++
		case busy, failed:
			if it.Err == nil || !it.Retry {
				it.Err, it.Retry = fw.errFor(o), true
			}
		}
	}
	if err := p.endExport(ctx, export, &delivery, &res.Exported, &res.LogsRejected); err != nil {
		// Every item with events may have some in a batch that failed: all retry (the
		// dedup makes their error-class events duplicates, the downstream sees the same
		// log.record.uid). Items that can never decode stay rejected.
		for i := range res.Items {
			if it := &res.Items[i]; it.Events > 0 && (it.Err == nil || it.Retry) {
				it.Err, it.Retry = err, true
			}
		}
	}
	for i := range res.Items {
		it := &res.Items[i]
		res.Events += it.Events
		res.ErrorEvents += it.ErrorEvents
		res.Sent += it.Sent
		res.Duplicates += it.Duplicates
		switch {
		case it.Err != nil && it.Retry:
			res.Retry++
		case it.Err != nil:
			res.Rejected++
		}
	}
	delivery.Counters.Events = int64(res.Events)
	delivery.Counters.ErrorEvents = int64(res.ErrorEvents)
	delivery.Counters.Duplicates = int64(res.Duplicates)
	delivery.Counters.RecordsRejected = int64(res.Rejected)
	if err := recordDelivery(ctx, budget, p.books, d.ID, delivery); err != nil {
		p.cfg.Logger.WarnContext(ctx, "record delivery on drain", "drain", d.ID, "source", b.Source, "err", err)
	}
	p.cfg.Logger.InfoContext(ctx, "source delivery", "source", b.Source, "drain", d.ID,
		"items", len(b.Items), "events", res.Events, "errorEvents", res.ErrorEvents, "sent", res.Sent,
		"duplicates", res.Duplicates, "rejected", res.Rejected, "retry", res.Retry,
		"exported", res.Exported, "logsRejected", res.LogsRejected)
	return res
}

// ItemError says which item could not be decoded and why.
type ItemError struct {
	ID     string
	Reason string
	Err    error
}

// Error returns "item 4959...: truncated gzip: unexpected EOF".
func (e *ItemError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("item %s: %s: %v", e.ID, e.Reason, e.Err)
	}
	return fmt.Sprintf("item %s: %s", e.ID, e.Reason)
}

// Unwrap returns the underlying error.
func (e *ItemError) Unwrap() error { return e.Err }

// Errors of forwarded events, so a source can tell them apart.
var (
	// ErrBusy: a concurrent delivery holds some of the item's events; retry.
	ErrBusy = errors.New("events are being delivered by a concurrent delivery; retry")
	// ErrUnavailable: the dedup store or the queue failed in a way a retry may cure; retry.
	ErrUnavailable = errors.New("dedup store or queue unavailable; retry")
	// ErrStoreFailed: the dedup store failed with an error that is not transient (access
	// denied, a missing table, dedup.Error without dedup.ErrUnavailable). The item is still
	// retried — its data is fine — but waiting alone will not cure it.
	ErrStoreFailed = errors.New("dedup store failed; retry once it is fixed")
	// ErrQueueFailed: the queue failed with an error that is not transient (an
	// *sqsqueue.Error without sqsqueue.ErrUnavailable: access denied, no such queue). The
	// item is still retried, but waiting alone will not cure it.
	ErrQueueFailed = errors.New("queue failed; retry once it is fixed")
)

type fwdOutcome uint8

const (
	sent fwdOutcome = iota + 1
	duplicate
	busy
	failed
)

type forwarded struct {
	outcomes []fwdOutcome
	err      error // the store or queue error behind failed outcomes
	// claimFailed: the dedup store failed (else, when err is set, the queue did).
	claimFailed bool
}

func (f *forwarded) errFor(o fwdOutcome) error {
	if o == busy {
		return ErrBusy
	}
	if f.claimFailed && !errors.Is(f.err, dedup.ErrUnavailable) {
		return fmt.Errorf("%w: %w", ErrStoreFailed, f.err)
	}
	if !f.claimFailed {
		if st, _ := sendFailure(f.err); st == http.StatusInternalServerError {
			return fmt.Errorf("%w: %w", ErrQueueFailed, f.err)
		}
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, f.err)
}

func (p *Pipeline) forward(ctx context.Context, budget deadline.Budget, evs []event.Event) forwarded {
	return forwardEvents(ctx, budget, p.claims, p.send, p.cfg.Logger, evs)
}

// forwardEvents claims, sends and commits evs and says what happened to each (DESIGN
// section 8): the one state machine of the Firehose handler and of every bound source.
// Claims and sends run under the work context ctx; the commit, or the release after a
// failed send, runs under its own Finish context of budget, so a stalled store call still
// leaves time to answer, and released claims let the retry in at once instead of after
// the lease.
func forwardEvents(ctx context.Context, budget deadline.Budget, claims Claimer, send Sender, log *slog.Logger, evs []event.Event) forwarded {
	fw := forwarded{outcomes: make([]fwdOutcome, len(evs))}
	if len(evs) == 0 {
		return fw
	}
	keys := make([]string, len(evs))
	for i := range evs {
		keys[i] = evs[i].Identity()
	}
	batch, err := claims.Claim(ctx, keys)
	if err != nil {
		log.ErrorContext(ctx, "claim event identities", "transient", errors.Is(err, dedup.ErrUnavailable), "err", err)
		fw.err, fw.claimFailed = err, true
		for i := range fw.outcomes {
			fw.outcomes[i] = failed
		}
		return fw
	}
	nFresh := 0
	for i, o := range batch.Outcomes {
		switch o {
		case dedup.Fresh:
			nFresh++
			fw.outcomes[i] = sent
		case dedup.Duplicate:
			fw.outcomes[i] = duplicate
		default:
			fw.outcomes[i] = busy
		}
	}
	fresh := evs // a first delivery: all of them, without a copy
	if nFresh < len(evs) {
		fresh = make([]event.Event, 0, nFresh)
		for i, o := range batch.Outcomes {
			if o == dedup.Fresh {
				fresh = append(fresh, evs[i])
			}
		}
	}
	if len(fresh) == 0 {
		return fw
	}
	trimBreadcrumbs(fresh, BreadcrumbBudget)
	if err := send.Send(ctx, fresh); err != nil {
		log.ErrorContext(ctx, "send events", "events", len(fresh), "err", err)
		rctx, cancel := budget.Finish(ctx)
		if rerr := claims.Release(rctx, batch); rerr != nil {
			log.ErrorContext(ctx, "release claims", "err", rerr)
		}
		cancel()
		fw.err = err
		for i, o := range fw.outcomes {
			if o == sent {
				fw.outcomes[i] = failed
			}
		}
		return fw
	}
	cctx, cancel := budget.Finish(ctx)
	defer cancel()
	if err := claims.Commit(cctx, batch); err != nil {
		// Sent; the uncommitted claims expire with their lease and the grouper counts
		// each identity once.
		log.WarnContext(ctx, "commit claims", "err", err)
	}
	return fw
}

// StreamResult is what one stream (an S3 object) did.
type StreamResult struct {
	Name                                    string
	Bytes                                   int64
	Documents, Events, ErrorEvents          int
	Sent, Duplicates, Rejected, RetryEvents int
	// Errors are the bad documents, each naming the stream and the document's offset; at
	// most MaxStreamErrors are kept (Rejected counts them all).
	Errors []error
	// Exported and LogsRejected count the log records the OTLP downstream accepted and
	// rejected (partialSuccess).
	Exported, LogsRejected int
	// Err is set when the stream must be delivered again (the binding's drain store, the
	// dedup store or the queue failed, a concurrent delivery held events, the OTLP export
	// failed (ErrExport), or reading the stream failed part way); what was sent before stays sent and dedup makes the
	// retry a no-op for it.
	Err error
}

// MaxStreamErrors bounds the document errors a StreamResult keeps.
const MaxStreamErrors = 20

// DeliverStream reads one stream of concatenated CloudWatch Logs documents (gzip or plain)
// through a bounded buffer, forwards its error-class events in groups of FlushEvents, and
// books it on the drain as one delivery. name (an S3 object's bucket/key) is in every
// error.
func (p *Pipeline) DeliverStream(parent context.Context, b Binding, region, name string, r io.Reader) StreamResult {
	ctx, budget, cancel := deadline.Split(parent, time.Now())
	defer cancel()
	res := StreamResult{Name: name}
	d, err := p.drain(ctx, b)
	if err != nil {
		res.Err = err
		return res
	}
	st := stampOf(d, region, name)
	delivery := drains.Delivery{At: p.cfg.Now(), Source: b.Source, Counters: drains.Counters{Deliveries: 1}}
	export := p.beginExport(ctx, st, delivery.At)
	var pending []event.Event
	flush := func() {
		if len(pending) == 0 {
			return
		}
		fw := p.forward(ctx, budget, pending)
		for _, o := range fw.outcomes {
			switch o {
			case sent:
				res.Sent++
			case duplicate:
				res.Duplicates++
			default:
				res.RetryEvents++
				if res.Err == nil {
					res.Err = fmt.Errorf("%s: %w", name, fw.errFor(o))
				}
			}
		}
		clear(pending)
		pending = pending[:0]
	}
	stats, err := p.decoder.DecodeStream(ctx, r, st, func(dr *cwpayload.DocResult) error {
		res.Events += dr.Result.Events
		res.ErrorEvents += len(dr.Result.Errors)
		delivery.Data = delivery.Data || dr.Result.Data
		delivery.Control = delivery.Control || dr.Result.Control
		pending = append(pending, dr.Result.Errors...)
		if dr.Err != nil {
			res.Rejected++
			e := fmt.Errorf("%s: %w", name, dr.Err)
			if len(res.Errors) < MaxStreamErrors {
				res.Errors = append(res.Errors, e)
			}
			if delivery.PayloadError == nil {
				delivery.PayloadError = &drains.Note{At: delivery.At, Reason: fmt.Sprintf("%s: %s", b.Source, e.Error())}
			}
		}
		if len(pending) >= p.cfg.FlushEvents {
			flush()
		}
		return nil
	})
	flush()
	res.Bytes, res.Documents = stats.Bytes, stats.Documents
	if err != nil && res.Err == nil {
		res.Err = fmt.Errorf("%s: %w", name, err)
	}
	if xerr := p.endExport(ctx, export, &delivery, &res.Exported, &res.LogsRejected); xerr != nil && res.Err == nil {
		res.Err = fmt.Errorf("%s: %w", name, xerr)
	}
	delivery.Counters.Events = int64(res.Events)
	delivery.Counters.ErrorEvents = int64(res.ErrorEvents)
	delivery.Counters.Duplicates = int64(res.Duplicates)
	delivery.Counters.RecordsRejected = int64(res.Rejected)
	if err := recordDelivery(ctx, budget, p.books, d.ID, delivery); err != nil {
		p.cfg.Logger.WarnContext(ctx, "record delivery on drain", "drain", d.ID, "source", b.Source, "err", err)
	}
	p.cfg.Logger.InfoContext(ctx, "source stream", "source", b.Source, "drain", d.ID, "stream", name,
		"bytes", res.Bytes, "documents", res.Documents, "events", res.Events, "errorEvents", res.ErrorEvents,
		"sent", res.Sent, "duplicates", res.Duplicates, "rejected", res.Rejected, "retryEvents", res.RetryEvents,
		"exported", res.Exported, "logsRejected", res.LogsRejected)
	return res
}
