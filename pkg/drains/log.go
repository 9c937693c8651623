package drains

import (
	"context"
	"net/http"
	"time"
)

// How much of a drain's delivery log the stores keep: the latest LogDeliveries answered
// requests, and the latest LogErrors of them that were auth or payload errors.
const (
	LogDeliveries = 50
	LogErrors     = 20
)

// LogEntry is one answered request in a drain's delivery log.
type LogEntry struct {
	At     time.Time `json:"at"`
	Status int       `json:"status"`
	// Source is the kind of source (SourceKinds); empty is SourceFirehose.
	Source      string `json:"source,omitempty"`
	Records     int64  `json:"records"`
	Events      int64  `json:"events"`
	ErrorEvents int64  `json:"errorEvents"`
	Duplicates  int64  `json:"duplicates"`
	// Reason is why the request was refused or rejected; empty on success.
	Reason string `json:"reason,omitempty"`
}

// IsError reports whether the entry is an auth or payload error (what the drain's error log
// keeps): 401 and 403 (auth), 400 (payload). A 503 is the service's, not the sender's.
func (e LogEntry) IsError() bool {
	switch e.Status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		return true
	}
	return false
}

// LogReader reads a drain's delivery log, newest first: at most LogDeliveries answered
// requests and LogErrors auth or payload errors. Both backends' drain stores implement it;
// their RecordDelivery appends Delivery.Log in the same write as the counters.
type LogReader interface {
	DeliveryLog(ctx context.Context, id string) (deliveries, errors []LogEntry, err error)
}
