// Package problems keeps problems: one per bug per org and environment, with an
// occurrence count that is exact per event identity.
package problems

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// ErrNotFound is returned when no problem has that id.
var ErrNotFound = errors.New("problem not found")

// Frame is one parsed stack frame of a sample.
type Frame struct {
	Function string `json:"function,omitempty"`
	Module   string `json:"module,omitempty"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
	InApp    bool   `json:"inApp"`
}

// String renders the frame as a person reads it: "function (file:line)".
func (f Frame) String() string {
	where := f.File
	if where == "" {
		where = f.Module
	}
	if f.Line > 0 {
		where = fmt.Sprintf("%s:%d", where, f.Line)
	}
	switch {
	case f.Function == "":
		return where
	case where == "":
		return f.Function
	}
	return f.Function + " (" + where + ")"
}

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
}

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
}

// ID is the problem id for a fingerprint within an org and env.
func ID(org, env, fingerprint string) string {
	h := sha256.Sum256([]byte(org + "\x00" + env + "\x00" + fingerprint))
	return hex.EncodeToString(h[:12])
}

// Store keeps problems. Implementations: the DynamoDB adapter and the embedded store.
type Store interface {
	// Record counts the occurrence exactly once per o.Identity: in one transaction it
	// stores the occurrence (only if its identity is new) and creates or updates the
	// problem (count+1, firstSeen = min, lastSeen = max, log group added, sample and
	// level refreshed when the occurrence is the newest). It reports false, nil when the
	// identity was already recorded: a redelivery, which changes nothing.
	Record(ctx context.Context, o Occurrence) (bool, error)
	// List returns the problems of an org and env (both empty: all), most recent
	// LastSeen first.
	List(ctx context.Context, org, env string) ([]Problem, error)
	// Get returns one problem; ErrNotFound when there is none.
	Get(ctx context.Context, id string) (Problem, error)
}
