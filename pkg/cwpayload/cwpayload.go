// Package cwpayload decodes the data of Amazon Data Firehose records that carry CloudWatch
// Logs subscription payloads: base64 -> gzip (or plain JSON when Firehose decompresses) ->
// one or more concatenated CloudWatch Logs documents -> log events, classified by level and
// stamped for the ingest.
//
// Decoding is bounded: a record is inflated into a pooled buffer and inflation stops at the
// per-record cap and at what is left of the per-request cap, so a gzip bomb costs at most
// the cap. Documents are read by a hand-written tokenizer for the CloudWatch Logs shape.
// A message is classified in place: from its escaped form when that decides (most Lambda
// text, platform and JSON lines, see level.OfEscaped), else after unescaping it once into
// a reused buffer. Only error-class events are materialised as event.Event values; the
// rest are counted. Records decode in parallel across workers, each with its own pooled
// gzip reader and buffers.
package cwpayload

import (
	"fmt"

	"github.com/aient/firehose-drain/pkg/event"
)

// Limits caps what one record and one request may cost.
type Limits struct {
	// MaxRecordBytes caps a record's data after base64 decoding (Firehose: 1,024,000).
	MaxRecordBytes int64
	// MaxRecordInflated caps a record's data after gunzip.
	MaxRecordInflated int64
	// MaxRequestInflated caps the inflated bytes of all records of one request together.
	MaxRequestInflated int64
	// MaxRequestBreadcrumbs caps the breadcrumbs one request's errors (DecodeRecords,
	// DecodeData) are given, weighed as the ingest's queue weighs them (text and 64 bytes
	// a line): about the newest errors have theirs, older ones go without. The lines
	// carried across records allocate at most a quarter of it. -1: unbounded.
	MaxRequestBreadcrumbs int64
}

// Defaults for DefaultLimits.
const (
	// DefaultMaxRecordBytes is Firehose's own limit for one record before base64.
	DefaultMaxRecordBytes = 1_024_000
	// DefaultMaxRecordInflated is 32 MiB: CloudWatch Logs batches at most ~1 MiB of events
	// per record, so this only stops bombs and never a real payload.
	DefaultMaxRecordInflated = 32 << 20
	// DefaultMaxRequestInflated is 256 MiB: a 6 MB Function URL event of real log data
	// inflates to well under 100 MiB.
	DefaultMaxRequestInflated = 256 << 20
	// DefaultMaxRequestBreadcrumbs is 1 MiB, about what the ingest queues of one
	// delivery's breadcrumbs at most (ingest.BreadcrumbBudget): decoding much more would
	// only be dropped.
	DefaultMaxRequestBreadcrumbs = 1 << 20
)

// DefaultLimits returns Firehose's record limit, 32 MiB inflated per record, 256 MiB
// inflated and 1 MiB of breadcrumbs per request.
func DefaultLimits() Limits {
	return Limits{
		MaxRecordBytes:        DefaultMaxRecordBytes,
		MaxRecordInflated:     DefaultMaxRecordInflated,
		MaxRequestInflated:    DefaultMaxRequestInflated,
		MaxRequestBreadcrumbs: DefaultMaxRequestBreadcrumbs,
	}
}

// Stamp is what the ingest stamps every event with.
type Stamp struct {
	Drain, Org, Env string
	// Region is the region of the Firehose stream's source ARN; @aws.region wins over it.
	Region string
	// RequestID is the Firehose request id (for support, never identity).
	RequestID string
	// Attributes are the request's common attributes; every event shares this map.
	Attributes map[string]string
	// Visit, when set, returns the Visitor of record i (called from the decoding
	// goroutine, once per record, before its first event); nil means no Visitor. A
	// record is a Firehose record (DecodeRecords), an item's data (DecodeData) or
	// document i of a stream (DecodeStream).
	Visit func(record int) Visitor
	// Done, when set, is called by DecodeRecords and DecodeRecordsPooled from the decoding
	// goroutine once record i's data will not be read again (after its Visitor's End),
	// whatever became of it: the caller may then discard those bytes. The records are
	// decoded from the last to the first, up to workers at a time.
	Done func(record int)
}

// RecordResult is what one record held.
type RecordResult struct {
	// Control is set when the record held at least one CONTROL_MESSAGE document.
	Control bool
	// Data is set when the record held at least one DATA_MESSAGE document.
	Data bool
	// Events counts the DATA_MESSAGE log events decoded, all levels.
	Events int
	// Errors holds only the error-class events, fully stamped. When Err is set, Events and
	// Errors hold what was decoded before the record went wrong.
	Errors []event.Event
	// Err is nil when the record decoded cleanly.
	Err *RecordError

	// links join breadcrumbs across records (crumbs.go); dropped once applied.
	links []link
}

// RecordError says which record could not be decoded and why.
type RecordError struct {
	// Index is the record's position in the request.
	Index int
	// Reason is short and user-facing, e.g. "not base64", "truncated gzip",
	// "not a CloudWatch Logs document: no messageType".
	Reason string
	// Err is the underlying error, if any.
	Err error
}

// Error returns "record 3: not base64: ...".
func (e *RecordError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("record %d: %s: %v", e.Index, e.Reason, e.Err)
	}
	return fmt.Sprintf("record %d: %s", e.Index, e.Reason)
}

// Unwrap returns the underlying error.
func (e *RecordError) Unwrap() error { return e.Err }
