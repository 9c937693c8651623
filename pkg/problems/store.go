// Package problems keeps problems: one per bug per org and environment, with an
// occurrence count that is exact per event identity.
package problems

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/grouping"
)

// ErrNotFound is returned when no problem has that id.
var ErrNotFound = errors.New("problem not found")

// Frame is one parsed stack frame of a sample; package grouping owns the type.
type Frame = grouping.Frame

// Sample is the evidence kept on a problem: one event, with what leads back to CloudWatch.
type Sample struct {
	Account   string `json:"account,omitempty"`
	Region    string `json:"region,omitempty"`
	LogGroup  string `json:"logGroup"`
	LogStream string `json:"logStream"`
	EventID   string `json:"eventId"`
	// RequestID is the Lambda request id of the invocation, when the message names it.
	RequestID string  `json:"requestId,omitempty"`
	Timestamp int64   `json:"timestamp"`
	Message   string  `json:"message"`
	Frames    []Frame `json:"frames,omitempty"`
	// Grouping is how the sample's fingerprint was built (absent on samples
	// recorded before grouping version 2).
	Grouping *grouping.Explanation `json:"grouping,omitempty"`
	// Breadcrumbs are the log lines of the invocation before the event, oldest first
	// (the console's "Logs of this invocation").
	Breadcrumbs []Breadcrumb `json:"breadcrumbs,omitempty"`
}

// Breadcrumb is one log line before an occurrence in its invocation; package event owns
// the type.
type Breadcrumb = event.Breadcrumb

// Occurrence is one error-class event, fingerprinted.
type Occurrence struct {
	// Identity is the event identity (event.Event.Identity): the exactly-once key.
	Identity    string
	Org         string
	Env         string
	Fingerprint string
	Title       string
	Culprit     string
	Level       string
	// At is the event's own time.
	At     time.Time
	Sample Sample
}

// Problem is one bug in one org and environment.
type Problem struct {
	ID          string    `json:"id"`
	Org         string    `json:"org"`
	Env         string    `json:"env"`
	Fingerprint string    `json:"fingerprint"`
	Title       string    `json:"title"`
	Culprit     string    `json:"culprit"`
	Level       string    `json:"level"`
	Count       int64     `json:"count"`
	FirstSeen   time.Time `json:"firstSeen"`
	LastSeen    time.Time `json:"lastSeen"`
	LogGroups   []string  `json:"logGroups"`
	Sample      Sample    `json:"sample"`
	Lifecycle
}

// ID is the problem id for a fingerprint within an org and env.
func ID(org, env, fingerprint string) string {
	h := sha256.Sum256([]byte(org + "\x00" + env + "\x00" + fingerprint))
	return hex.EncodeToString(h[:12])
}

// Store keeps problems. Implementations: the DynamoDB adapter, the embedded store and
// problemstest.MemStore.
type Store interface {
	// RecordBatch counts each occurrence exactly once per Identity and returns one Result
	// per occurrence, in order. Occurrences are grouped by problem (PlanBatch): each
	// problem is written once per group of new occurrences, carrying their count, in the
	// same atomic write that stores their identities (only the new ones: an identity
	// already recorded is reported Recorded false and changes nothing). The problem's
	// count grows by the number of new identities, firstSeen is the min and lastSeen the
	// max of its occurrence times, log groups are a set, and title, culprit, level and
	// sample follow the newest occurrence (Merge). Different problems are written
	// independently, so one problem's failure fails only its own occurrences.
	//
	// The same write decides the problem's lifecycle at the store's clock (Advance,
	// Created; a store may skip the decision while the problem's Guard admits the write)
	// and, when the transition alerts, writes its Notice in the same atomic write: each
	// transition happens, and is noticed, exactly once whatever the concurrency,
	// redelivery or crashes. The hourly buckets grow with the count.
	RecordBatch(ctx context.Context, occs []Occurrence) []Result
	// Record is RecordBatch of one occurrence: true when it was counted now, false, nil
	// when its identity was recorded before.
	Record(ctx context.Context, o Occurrence) (bool, error)
	// List returns the problems of an org and env (both empty: all), most recent
	// LastSeen first.
	List(ctx context.Context, org, env string) ([]Problem, error)
	// Get returns one problem with its hourly buckets; ErrNotFound when there is none.
	// (List leaves the buckets out.)
	Get(ctx context.Context, id string) (Problem, error)
	// Act applies an operator's action (resolve, ignore, reopen) to a problem in one
	// atomic read-and-write and returns the problem after it: ErrNotFound for an unknown
	// id, ErrBadAction for an action that is not one. Actions never alert.
	Act(ctx context.Context, id string, a Action) (Problem, error)
}

// RecordOne is Record for stores that implement RecordBatch.
func RecordOne(ctx context.Context, s interface {
	RecordBatch(context.Context, []Occurrence) []Result
}, o Occurrence,
) (bool, error) {
	r := s.RecordBatch(ctx, []Occurrence{o})[0]
	return r.Recorded, r.Err
}

// sampleTimeLayout is how a sample's time reads in JSON: RFC 3339 in UTC, to the millisecond.
const sampleTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// MarshalJSON writes the sample with its timestamp as RFC 3339 (UTC, milliseconds), as
// every other time in the CLI's --json and the API.
func (s Sample) MarshalJSON() ([]byte, error) {
	type plain Sample
	return json.Marshal(struct {
		plain
		Timestamp string `json:"timestamp"`
	}{plain(s), time.UnixMilli(s.Timestamp).UTC().Format(sampleTimeLayout)})
}

// UnmarshalJSON reads a sample whose timestamp is RFC 3339 or, as stored before, unix
// milliseconds.
func (s *Sample) UnmarshalJSON(b []byte) error {
	type plain Sample
	var aux struct {
		plain
		Timestamp json.RawMessage `json:"timestamp"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*s = Sample(aux.plain)
	s.Timestamp = 0
	switch raw := strings.TrimSpace(string(aux.Timestamp)); {
	case raw == "" || raw == "null":
	case strings.HasPrefix(raw, `"`):
		var v string
		if err := json.Unmarshal(aux.Timestamp, &v); err != nil {
			return fmt.Errorf("sample timestamp: %w", err)
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return fmt.Errorf("sample timestamp: %w", err)
		}
		s.Timestamp = t.UnixMilli()
	default:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return fmt.Errorf("sample timestamp %s: %w", raw, err)
		}
		s.Timestamp = n
	}
	return nil
}
