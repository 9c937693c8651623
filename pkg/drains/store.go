package drains

import (
	"context"
	"errors"
	"time"
)

// Errors a Store returns. Adapters translate their backend's errors into these.
var (
	// ErrNotFound: no drain with that id.
	ErrNotFound = errors.New("drain not found")
	// ErrExists: Create was given an id that is already taken.
	ErrExists = errors.New("drain already exists")
	// ErrRevoked: the drain is revoked; it cannot be rotated.
	ErrRevoked = errors.New("drain is revoked")
)

// Drain status values as stored. What the operator sees is computed by Status.
const (
	StateActive  = "active"
	StateRevoked = "revoked"
)

// Key is the digest of one access key: HMAC-SHA256(pepper, key), hex-encoded.
// The key itself is never stored.
type Key struct {
	Digest string `json:"digest"`
	// ValidUntil is when a rotated-out key stops working; zero means no end.
	ValidUntil time.Time `json:"validUntil,omitzero"`
}

// Note is the latest error of one kind, as the operator sees it.
type Note struct {
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

// Counters are running totals kept on the drain.
type Counters struct {
	Deliveries      int64 `json:"deliveries"`
	Events          int64 `json:"events"`
	ErrorEvents     int64 `json:"errorEvents"`
	Duplicates      int64 `json:"duplicates"`
	RecordsRejected int64 `json:"recordsRejected"`
	// Ignored counts the events an ignore rule of the drain's org and env dropped
	// before they became occurrences (counted by the grouper).
	Ignored int64 `json:"ignored"`
	// LogsRejected counts the log records the OTLP downstream rejected (partialSuccess).
	LogsRejected int64 `json:"logsRejected"`
}

// Add adds d to c.
func (c *Counters) Add(d Counters) {
	c.Deliveries += d.Deliveries
	c.Events += d.Events
	c.ErrorEvents += d.ErrorEvents
	c.Duplicates += d.Duplicates
	c.RecordsRejected += d.RecordsRejected
	c.Ignored += d.Ignored
	c.LogsRejected += d.LogsRejected
}

// Drain is one Firehose HTTP endpoint: an org and env that its events are stamped with,
// and the digests of the access keys that may deliver to it.
type Drain struct {
	ID        string    `json:"id"`
	Org       string    `json:"org"`
	Env       string    `json:"env"`
	State     string    `json:"state"`
	Keys      []Key     `json:"keys"`
	CreatedAt time.Time `json:"createdAt"`
	RotatedAt time.Time `json:"rotatedAt,omitzero"`
	RevokedAt time.Time `json:"revokedAt,omitzero"`

	LastReceivedAt   time.Time `json:"lastReceivedAt,omitzero"`
	LastControlAt    time.Time `json:"lastControlAt,omitzero"`
	LastAuthError    *Note     `json:"lastAuthError,omitempty"`
	LastPayloadError *Note     `json:"lastPayloadError,omitempty"`
	// LastLogsRejected is the latest reason the OTLP downstream gave for rejected records.
	LastLogsRejected *Note    `json:"lastLogsRejected,omitempty"`
	Counters         Counters `json:"counters"`
	// Sources is the bookkeeping per source kind (SourceKinds) that delivered to the drain.
	Sources map[string]SourceStats `json:"sources,omitempty"`
}

// Delivery is what one Firehose request did to a drain: the bookkeeping of one small
// write per delivery.
type Delivery struct {
	At time.Time
	// Data is set when the request carried at least one DATA_MESSAGE document.
	Data bool
	// Control is set when the request carried a CONTROL_MESSAGE.
	Control bool
	// PayloadError, when set, becomes the drain's latest payload error.
	PayloadError *Note
	// LogsRejected, when set, becomes the drain's LastLogsRejected.
	LogsRejected *Note
	Counters     Counters
	// Log is appended to the drain's delivery log (LogReader) in the same write, in order.
	Log []LogEntry
	// Source is the kind of source that delivered (SourceKinds); empty is SourceFirehose.
	// Stores apply the delivery to Drain.Sources[kind] too, in the same write.
	Source string
}

// Store keeps drains. Implementations: the DynamoDB adapter and the embedded store.
// Every method is safe for concurrent use, also across processes.
type Store interface {
	// Create stores a new drain; ErrExists when the id is taken.
	Create(ctx context.Context, d Drain) error
	// Get returns the drain; ErrNotFound when there is none.
	Get(ctx context.Context, id string) (Drain, error)
	// List returns every drain, in no particular order.
	List(ctx context.Context) ([]Drain, error)
	// SetKeys replaces the key digests of an active drain and sets RotatedAt;
	// ErrNotFound, or ErrRevoked when the drain is revoked.
	SetKeys(ctx context.Context, id string, keys []Key, rotatedAt time.Time) error
	// Revoke marks the drain revoked (idempotent); ErrNotFound when there is none.
	Revoke(ctx context.Context, id string, at time.Time) error
	// RecordDelivery applies one delivery's bookkeeping in a single write: counters are
	// added, LastReceivedAt is set when d.Data, LastControlAt when d.Control, and
	// LastPayloadError when d.PayloadError is set. A missing drain is not an error.
	RecordDelivery(ctx context.Context, id string, d Delivery) error
	// RecordAuthFailure sets LastAuthError unless the stored one is newer than
	// n.At - minInterval, so a flood of bad keys makes at most one write per interval.
	// It reports whether it wrote. A missing drain is not an error and writes nothing.
	RecordAuthFailure(ctx context.Context, id string, n Note, minInterval time.Duration) (bool, error)
}
