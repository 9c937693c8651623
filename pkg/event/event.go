// Package event defines the log event that flows from the ingest to the grouper:
// one CloudWatch Logs event, stamped with the drain it arrived on.
package event

import (
	"crypto/sha256"
	"encoding/hex"
)

// Level is the severity read from a log event.
type Level string

// Levels, from most to least severe. Unknown is a message whose level could not be read.
const (
	Fatal   Level = "fatal"
	Error   Level = "error"
	Warn    Level = "warn"
	Info    Level = "info"
	Debug   Level = "debug"
	Unknown Level = ""
)

// IsErrorClass reports whether events of this level become problems.
func (l Level) IsErrorClass() bool { return l == Error || l == Fatal }

// Event is one CloudWatch Logs event stamped with its drain. It is the SQS message body
// (JSON) between the ingest and the grouper; its JSON field names are a stable contract.
type Event struct {
	// Stamped from the drain that received the delivery.
	Drain string `json:"drain"`
	Org   string `json:"org"`
	Env   string `json:"env"`

	// Where the event came from. Account is @aws.account when the subscription emits
	// system fields, else the document's owner; Region is @aws.region, else the region of
	// the Firehose stream ARN.
	Account   string `json:"account"`
	Region    string `json:"region"`
	LogGroup  string `json:"logGroup"`
	LogStream string `json:"logStream"`
	ID        string `json:"id"`
	// Timestamp is the event's own time, milliseconds since the epoch.
	Timestamp int64  `json:"timestamp"`
	Message   string `json:"message"`
	Level     Level  `json:"level"`

	// FirehoseRequestID is the delivery that carried the event (for support, never identity).
	FirehoseRequestID string            `json:"firehoseRequestId,omitempty"`
	Attributes        map[string]string `json:"attributes,omitempty"`
	// Truncated is set when Message was cut to fit the queue's message size limit.
	Truncated bool `json:"truncated,omitempty"`
}

// Identity is the event's dedup key: a hash of (drain, account, log group, log stream,
// event id). It is namespaced by drain, so one tenant can never suppress another's events,
// and it does not depend on the Firehose request id, which is not stable across retries.
func (e *Event) Identity() string {
	return Identity(e.Drain, e.Account, e.LogGroup, e.LogStream, e.ID)
}

// Identity hashes the parts of an event's identity. Each part is length-prefixed so that
// no two different tuples hash the same input.
func Identity(drain, account, logGroup, logStream, id string) string {
	h := sha256.New()
	var n [4]byte
	for _, p := range [...]string{drain, account, logGroup, logStream, id} {
		n[0], n[1], n[2], n[3] = byte(len(p)>>24), byte(len(p)>>16), byte(len(p)>>8), byte(len(p))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}
