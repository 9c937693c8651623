package ingest

import (
	"context"
	"net/http"

	"github.com/aient/firehose-drain/pkg/cwpayload"
	"github.com/aient/firehose-drain/pkg/logs"
)

// The local log store step (aient serve): every data event of a delivery is copied while
// the records decode (a logs.Collector, a second Visitor beside the OTLP export's) and
// stored in one write before the delivery is answered. A store that fails makes the
// delivery a 503, so Firehose retries it; the store keeps one line per log.record.uid, so
// the retry adds only what is missing.

// LogStore keeps the lines of a delivery (embedded.LogStore); nil in Config: none kept.
type LogStore interface {
	// Put stores the rows in one transaction, each uid once, and returns how many were new.
	Put(ctx context.Context, rows []logs.Row) (int, error)
}

// beginLogs adds the log store's Visitor to the stamp; nil when the handler keeps no logs.
func (h *Handler) beginLogs(st *cwpayload.Stamp) *logs.Collector {
	if h.cfg.Logs == nil {
		return nil
	}
	c := logs.NewCollector(st.Drain)
	st.Visit = cwpayload.Visitors(st.Visit, c.Visitor)
	return c
}

// endLogs stores what the records held; it returns the outcome to answer when the
// delivery must be retried.
func (h *Handler) endLogs(ctx context.Context, c *logs.Collector, out *Outcome) *Outcome {
	if c == nil {
		return nil
	}
	n, err := h.cfg.Logs.Put(ctx, c.Rows())
	out.LogsStored = n
	if err == nil {
		return nil
	}
	h.cfg.Logger.ErrorContext(ctx, "store logs", "err", err)
	return &Outcome{Status: http.StatusServiceUnavailable, Message: "log store unavailable; retry", Records: out.Records, Events: out.Events, ErrorEvents: out.ErrorEvents}
}
