package drains

import (
	"fmt"
	"slices"
	"time"
)

// Source kinds: the ways CloudWatch Logs reaches a drain. Each is a row of the ingest's
// sources table; the drain keeps per-kind bookkeeping so the operator sees which kinds feed
// it and how each is doing.
const (
	SourceFirehose     = "firehose"     // the Firehose HTTP endpoint (Function URL or aient serve)
	SourceKinesis      = "kinesis"      // a Kinesis Data Streams trigger
	SourceS3           = "s3"           // objects in S3 (notifications or EventBridge)
	SourceSubscription = "subscription" // a subscription filter straight into a Lambda
	SourceReplay       = "replay"       // `aient replay` of Firehose backup or S3 objects
)

// SourceKinds lists every kind, in display order.
var SourceKinds = []string{SourceFirehose, SourceKinesis, SourceS3, SourceSubscription, SourceReplay}

// ValidSource reports whether kind is one of SourceKinds.
func ValidSource(kind string) bool { return slices.Contains(SourceKinds, kind) }

// SourceStats is the bookkeeping of one source kind on a drain.
type SourceStats struct {
	Deliveries  int64 `json:"deliveries"`
	Events      int64 `json:"events"`
	ErrorEvents int64 `json:"errorEvents"`
	// Rejected counts the records, documents or lines that could not be decoded.
	Rejected       int64     `json:"rejected"`
	LastReceivedAt time.Time `json:"lastReceivedAt,omitzero"`
	// LastError is the latest payload error this kind delivered.
	LastError *Note `json:"lastError,omitempty"`
}

// Apply adds one delivery's bookkeeping to s, as every Store does for d.Source.
func (s *SourceStats) Apply(d Delivery) {
	s.Deliveries += d.Counters.Deliveries
	s.Events += d.Counters.Events
	s.ErrorEvents += d.Counters.ErrorEvents
	s.Rejected += d.Counters.RecordsRejected
	if d.Data || d.Control {
		s.LastReceivedAt = d.At
	}
	if d.PayloadError != nil {
		n := *d.PayloadError
		s.LastError = &n
	}
}

// SourceStatus is one source kind as the operator reads it on the drain's status.
type SourceStatus struct {
	Kind string `json:"kind"`
	// Status is Receiving (data within ReceivingWindow) or Idle.
	Status string `json:"status"`
	SourceStats
}

// sourceStatuses lists the kinds that fed d, in SourceKinds order.
func sourceStatuses(d Drain, now time.Time) []SourceStatus {
	var out []SourceStatus
	for _, k := range SourceKinds {
		st, ok := d.Sources[k]
		if !ok {
			continue
		}
		s := SourceStatus{Kind: k, Status: StatusIdle, SourceStats: st}
		if !st.LastReceivedAt.IsZero() && now.Sub(st.LastReceivedAt) <= ReceivingWindow {
			s.Status = StatusReceiving
		}
		out = append(out, s)
	}
	return out
}

// CheckSource returns an error when a delivery names an unknown source kind. An empty
// kind is the Firehose endpoint.
func CheckSource(kind string) error {
	if kind == "" || ValidSource(kind) {
		return nil
	}
	return fmt.Errorf("unknown source kind %q", kind)
}

// SourceOf is the kind a delivery is booked under: d.Source, or SourceFirehose when empty.
func SourceOf(d Delivery) string {
	if d.Source == "" {
		return SourceFirehose
	}
	return d.Source
}
