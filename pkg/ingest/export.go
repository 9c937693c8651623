package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aient/firehose-drain/pkg/cwpayload"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/otlplogs"
)

// The OTLP export step: every data event of a delivery is exported while the records are
// decoded (otlplogs.Session is the records' cwpayload.Visitor), and the delivery is
// answered only once the downstream has answered. A downstream that the retry may get past
// (5xx, 429, timeout, connection error) makes the delivery a 503, so Firehose retries it:
// the retry exports the same records with the same log.record.uid, and the dedup keeps the
// problem counts exact. Records a partialSuccess rejected are counted on the drain.

// Exporter exports a delivery's events (otlplogs.Exporter); nil in Config or
// PipelineConfig: no export. The bound sources (Pipeline) export the same way as the
// Firehose endpoint: an item (or stream) whose export failed is retried, and records a
// partialSuccess rejected are counted on the drain.
type Exporter interface {
	Begin(ctx context.Context, d otlplogs.Delivery) *otlplogs.Session
}

// beginExport starts the export of one delivery and makes it the stamp's visitor; nil when
// the handler exports nothing.
func (h *Handler) beginExport(ctx context.Context, st *cwpayload.Stamp, now time.Time) *otlplogs.Session {
	if h.cfg.Export == nil {
		return nil
	}
	s := h.cfg.Export.Begin(ctx, otlplogs.Delivery{Drain: st.Drain, Org: st.Org, Env: st.Env, Observed: now})
	st.Visit = s.Visitor
	return s
}

// endExport waits for the export and notes its result; it returns the outcome to answer
// when the delivery must be retried.
func (h *Handler) endExport(ctx context.Context, s *otlplogs.Session, out *Outcome, delivery *drains.Delivery) *Outcome {
	if s == nil {
		return nil
	}
	r := s.Wait()
	out.Exported = int(r.Records - r.Rejected)
	out.LogsRejected = int(r.Rejected)
	noteExport(r, delivery, h.cfg.Now())
	if r.Err == nil {
		return nil
	}
	h.cfg.Logger.ErrorContext(ctx, "export logs", "err", r.Err)
	msg := "OTLP logs downstream unavailable; retry"
	if errors.Is(r.Err, context.DeadlineExceeded) {
		msg = "OTLP logs export did not finish before the deadline; retry"
	}
	o := *out
	o.Status, o.Message = http.StatusServiceUnavailable, msg
	return &o
}

// noteExport books what an export did on the delivery: rejected records are counted on the
// drain with the downstream's last reason.
func noteExport(r otlplogs.Result, delivery *drains.Delivery, now time.Time) {
	delivery.Counters.LogsRejected += r.Rejected
	if r.Rejected > 0 {
		delivery.LogsRejected = &drains.Note{At: now, Reason: r.Reason}
	}
}

// ErrExport wraps an export failure of a bound source's item or stream: the OTLP
// downstream may take it on a retry (5xx, 429, timeout, connection error), so the source
// retries it (a Kinesis batch item failure, a failed S3 or subscription invocation).
var ErrExport = errors.New("OTLP logs export failed; retry")

// beginExport starts the export of a bound source's delivery and makes it the stamp's
// visitor; nil when the pipeline exports nothing.
func (p *Pipeline) beginExport(ctx context.Context, st *cwpayload.Stamp, now time.Time) *otlplogs.Session {
	if p.cfg.Export == nil {
		return nil
	}
	s := p.cfg.Export.Begin(ctx, otlplogs.Delivery{Drain: st.Drain, Org: st.Org, Env: st.Env, Observed: now})
	st.Visit = s.Visitor
	return s
}

// endExport waits for a bound source's export and books it on the delivery; it returns
// the error (wrapping ErrExport and otlplogs.ErrDownstream) that makes the items retry.
func (p *Pipeline) endExport(ctx context.Context, s *otlplogs.Session, delivery *drains.Delivery, exported, rejected *int) error {
	if s == nil {
		return nil
	}
	r := s.Wait()
	*exported, *rejected = int(r.Records-r.Rejected), int(r.Rejected)
	noteExport(r, delivery, p.cfg.Now())
	if r.Err == nil {
		return nil
	}
	p.cfg.Logger.ErrorContext(ctx, "export logs", "source", delivery.Source, "err", r.Err)
	return fmt.Errorf("%w: %w", ErrExport, r.Err)
}
