package event

import "time"

// Breadcrumb is one log line that preceded an error-class event in the same invocation
// (the same Lambda request id in the same log stream), or, when the event names no
// request id, in the same log stream of its record: the evidence of what the invocation
// did before it failed.
type Breadcrumb struct {
	// Time is the line's own time.
	Time time.Time `json:"time"`
	// Level is the line's level as the classifier reads it ("" when unknown).
	Level   Level  `json:"level"`
	Message string `json:"message"`
}

// The caps of an event's breadcrumbs: at most MaxBreadcrumbs lines and MaxBreadcrumbBytes
// of message text, the oldest dropped first.
const (
	MaxBreadcrumbs     = 20
	MaxBreadcrumbBytes = 8 << 10
)
