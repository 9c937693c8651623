package drains

import "time"

// What the operator sees, as the product names it.
const (
	StatusNoData    = "No data yet"
	StatusReceiving = "Receiving"
	StatusIdle      = "Idle"
	StatusRevoked   = "Revoked"

	AlertAuth    = "Firehose auth"
	AlertPayload = "Firehose payload"
)

// ReceivingWindow is how recent the last data must be for a drain to be Receiving.
const ReceivingWindow = 15 * time.Minute

// Status is a drain as the operator reads it. Its JSON is the stable output of
// `aient drains status --json` and GET /api/drains/{id}.
type Status struct {
	ID     string `json:"id"`
	Org    string `json:"org"`
	Env    string `json:"env"`
	Status string `json:"status"`
	// Alert names the latest error when it is newer than the last good delivery:
	// "Firehose auth" or "Firehose payload"; empty otherwise.
	Alert            string    `json:"alert,omitempty"`
	Endpoint         string    `json:"endpoint,omitempty"`
	CreatedAt        time.Time `json:"createdAt"`
	RotatedAt        time.Time `json:"rotatedAt,omitzero"`
	RevokedAt        time.Time `json:"revokedAt,omitzero"`
	LastReceivedAt   time.Time `json:"lastReceivedAt,omitzero"`
	LastControlAt    time.Time `json:"lastControlAt,omitzero"`
	LastAuthError    *Note     `json:"lastAuthError,omitempty"`
	LastPayloadError *Note     `json:"lastPayloadError,omitempty"`
	// LastLogsRejected is the latest reason the OTLP downstream gave for rejected records.
	LastLogsRejected *Note `json:"lastLogsRejected,omitempty"`
	// ActiveKeys counts the keys that work now; OldKeyValidUntil is when the last key
	// kept by a rotation's grace period stops working.
	ActiveKeys       int       `json:"activeKeys"`
	OldKeyValidUntil time.Time `json:"oldKeyValidUntil,omitzero"`
	Counters         Counters  `json:"counters"`
	// Sources lists the source kinds that feed the drain, each with its own bookkeeping.
	Sources []SourceStatus `json:"sources,omitempty"`
}

// StatusOf computes what the operator sees of d at now. endpoint may be empty.
func StatusOf(d Drain, now time.Time, endpoint string) Status {
	s := Status{
		ID: d.ID, Org: d.Org, Env: d.Env, Endpoint: endpoint,
		CreatedAt: d.CreatedAt, RotatedAt: d.RotatedAt, RevokedAt: d.RevokedAt,
		LastReceivedAt: d.LastReceivedAt, LastControlAt: d.LastControlAt,
		LastAuthError: d.LastAuthError, LastPayloadError: d.LastPayloadError,
		LastLogsRejected: d.LastLogsRejected,
		Counters:         d.Counters,
		Sources:          sourceStatuses(d, now),
	}
	for _, k := range d.Keys {
		if d.State == StateRevoked {
			break // a revoked drain's keys work no more
		}
		if k.ValidUntil.IsZero() || now.Before(k.ValidUntil) {
			s.ActiveKeys++
			if k.ValidUntil.After(s.OldKeyValidUntil) {
				s.OldKeyValidUntil = k.ValidUntil
			}
		}
	}
	switch {
	case d.State == StateRevoked:
		s.Status = StatusRevoked
	case d.LastReceivedAt.IsZero():
		s.Status = StatusNoData
	case now.Sub(d.LastReceivedAt) <= ReceivingWindow:
		s.Status = StatusReceiving
	default:
		s.Status = StatusIdle
	}
	if d.State == StateRevoked {
		return s
	}
	// An error shows as the alert until a later delivery succeeds.
	good := d.LastReceivedAt
	if d.LastControlAt.After(good) {
		good = d.LastControlAt
	}
	var latest time.Time
	if n := d.LastAuthError; n != nil && !n.At.Before(good) {
		s.Alert, latest = AlertAuth, n.At
	}
	if n := d.LastPayloadError; n != nil && !n.At.Before(good) && !n.At.Before(latest) {
		s.Alert = AlertPayload
	}
	return s
}
