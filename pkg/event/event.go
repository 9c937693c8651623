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
	// IDIsNumber is set when the event's id was a JSON number (hand-written payloads;
	// CloudWatch sends strings): the id 5 and the id "5" are different events.
	IDIsNumber bool `json:"idIsNumber,omitempty"`
	// Timestamp is the event's own time, milliseconds since the epoch.
	Timestamp int64  `json:"timestamp"`
	Message   string `json:"message"`
	Level     Level  `json:"level"`

	// FirehoseRequestID is the delivery that carried the event (for support, never identity).
	FirehoseRequestID string            `json:"firehoseRequestId,omitempty"`
	Attributes        map[string]string `json:"attributes,omitempty"`
	// Seq is the event's position in the record it was decoded from (1-based), so
	// pkg/stitch can tell consecutive events apart; 0 when unknown. Not carried.
	Seq int `json:"-"`
	// Truncated is set when Message was cut to fit the queue's message size limit.
	Truncated bool `json:"truncated,omitempty"`

	// IdentityKey is the event's dedup identity, computed once by the ingest from the
	// bytes it decoded (ComputeIdentity) and carried to the grouper, which counts by it:
	// the queue's JSON turns invalid UTF-8 into U+FFFD, so hashing again downstream could
	// give another identity (defect 6 of issue 14).
	IdentityKey string `json:"identityKey,omitempty"`

	// Breadcrumbs are the log lines that preceded the event in its invocation, oldest
	// first (error-class events only; at most MaxBreadcrumbs and MaxBreadcrumbBytes).
	Breadcrumbs []Breadcrumb `json:"breadcrumbs,omitempty"`
}

// Identity is the event's dedup key: IdentityKey when the ingest set it, else
// ComputeIdentity (events queued before the key was carried).
func (e *Event) Identity() string {
	if e.IdentityKey != "" {
		return e.IdentityKey
	}
	return e.ComputeIdentity()
}

// ComputeIdentity hashes (drain, account, log group, log stream, event id, whether the id
// was a number). It is namespaced by drain, so one tenant can never suppress another's
// events, and it does not depend on the Firehose request id, which is not stable across
// retries.
func (e *Event) ComputeIdentity() string {
	if e.IDIsNumber {
		return hashParts(e.Drain, e.Account, e.LogGroup, e.LogStream, e.ID, numberPart)
	}
	return Identity(e.Drain, e.Account, e.LogGroup, e.LogStream, e.ID)
}

// numberPart is the sixth part of the identity of an event whose id was a JSON number.
const numberPart = "number"

// Identity hashes the parts of an event's identity (a string id). Each part is
// length-prefixed so that no two different tuples hash the same input.
func Identity(drain, account, logGroup, logStream, id string) string {
	return hashParts(drain, account, logGroup, logStream, id)
}

// AppendIdentity appends ComputeIdentity's hex digits to dst: the decoder writes them into
// the text arena it keeps the event's other strings in, instead of allocating each.
func (e *Event) AppendIdentity(dst []byte) []byte {
	if e.IDIsNumber {
		return appendHash(dst, e.Drain, e.Account, e.LogGroup, e.LogStream, e.ID, "number")
	}
	return appendHash(dst, e.Drain, e.Account, e.LogGroup, e.LogStream, e.ID)
}

// hashParts is hex SHA-256 of the length-prefixed parts. A numeric id adds a sixth part,
// so identities of string ids stay what they were.
func hashParts(parts ...string) string {
	var stack [sha256.Size * 2]byte
	return string(appendHash(stack[:0], parts...)) // one allocation, the string
}

// appendHash appends the hex SHA-256 of the length-prefixed parts to dst. The input is
// built in a stack buffer.
func appendHash(dst []byte, parts ...string) []byte {
	var stack [512]byte
	buf := stack[:0]
	for _, p := range parts {
		buf = append(buf, byte(len(p)>>24), byte(len(p)>>16), byte(len(p)>>8), byte(len(p)))
		buf = append(buf, p...)
	}
	sum := sha256.Sum256(buf)
	return hex.AppendEncode(dst, sum[:])
}

// ValidRegion reports whether s has the syntax of an AWS region name: two lower-case
// letters, one or more lower-case letter groups, each after a '-', then '-' and one or two
// digits (^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$), e.g. "us-east-1", "us-gov-west-1",
// "cn-northwest-1", "eu-isoe-west-1". Untrusted regions (@aws.region, the Firehose source
// ARN) are checked with it before they are used anywhere, such as in a console link.
func ValidRegion(s string) bool {
	if len(s) < 4 || len(s) > 32 {
		return false
	}
	groups := 0
	i := 0
	for {
		j := i
		for j < len(s) && 'a' <= s[j] && s[j] <= 'z' {
			j++
		}
		if j == i || j == len(s) || s[j] != '-' {
			break
		}
		groups++
		i = j + 1
	}
	if groups < 2 || s[2] != '-' || i >= len(s) || len(s)-i > 2 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// appendIdentityPrefix appends the identity input's parts before the id.
func appendIdentityPrefix(b []byte, drain, account, logGroup, logStream string) []byte {
	for _, p := range [...]string{drain, account, logGroup, logStream} {
		b = append(b, byte(len(p)>>24), byte(len(p)>>16), byte(len(p)>>8), byte(len(p)))
		b = append(b, p...)
	}
	return b
}

// appendIdentityID appends the identity input's id part(s).
func appendIdentityID(b, id []byte, idIsNumber bool) []byte {
	b = append(b, byte(len(id)>>24), byte(len(id)>>16), byte(len(id)>>8), byte(len(id)))
	b = append(b, id...)
	if idIsNumber {
		b = append(b, 0, 0, 0, byte(len(numberPart)))
		b = append(b, numberPart...)
	}
	return b
}

// IdentityHasher hashes the identities of many events (the SHA-256 that ComputeIdentity
// writes in hex) from their parts as bytes, without building an Event: the Visitors that
// see events as bytes (the OTLP export's log.record.uid, the local log store's uid) get the
// dedup's identity, a numeric id apart from the same digits as a string. It builds the
// input's parts before the id only when they change (a Visitor sees the events of one log
// stream in a row). The zero value
// is ready; it is not safe for concurrent use.
type IdentityHasher struct {
	in  []byte
	pre int // the parts before the id: in[:pre]
}

// Sum returns the identity hash of an event of these parts.
func (h *IdentityHasher) Sum(drain, account, logGroup, logStream string, id []byte, idIsNumber bool) [sha256.Size]byte {
	if !h.samePrefix(drain, account, logGroup, logStream) {
		h.in = appendIdentityPrefix(h.in[:0], drain, account, logGroup, logStream)
		h.pre = len(h.in)
	}
	h.in = appendIdentityID(h.in[:h.pre], id, idIsNumber)
	return sha256.Sum256(h.in)
}

// samePrefix reports whether in[:pre] is the prefix of these parts (compared as bytes:
// the parts may alias buffers their owner reuses).
func (h *IdentityHasher) samePrefix(parts ...string) bool {
	b := h.in[:h.pre]
	for _, p := range parts {
		if len(b) < 4+len(p) || int(b[0])<<24|int(b[1])<<16|int(b[2])<<8|int(b[3]) != len(p) || string(b[4:4+len(p)]) != p {
			return false
		}
		b = b[4+len(p):]
	}
	return len(b) == 0
}
