// Package grouper turns error-class events into problem occurrences: it fingerprints each
// event's error and records it exactly once per event identity.
package grouper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/grouping"
	"github.com/aient/firehose-drain/pkg/problems"
)

// Recorder records occurrences (a problems.Store).
type Recorder interface {
	Record(ctx context.Context, o problems.Occurrence) (bool, error)
}

// ErrPoison marks a message that can never be processed (not an event): it is reported
// as failed so that SQS's redrive moves it to the dead-letter queue.
var ErrPoison = errors.New("poison message")

// maxSampleMessage bounds the message kept as a problem's sample.
const maxSampleMessage = 16 << 10

// Grouper records events as problem occurrences.
type Grouper struct {
	rec Recorder
	log *slog.Logger
}

// New returns a Grouper. A nil logger means slog.Default().
func New(rec Recorder, log *slog.Logger) *Grouper {
	if log == nil {
		log = slog.Default()
	}
	return &Grouper{rec: rec, log: log}
}

// Occurrence fingerprints e.
func Occurrence(e *event.Event) problems.Occurrence {
	r := grouping.Analyze(e.Message, e.LogGroup)
	msg := e.Message
	if len(msg) > maxSampleMessage {
		msg = msg[:maxSampleMessage]
	}
	return problems.Occurrence{
		Identity:    e.Identity(),
		Org:         e.Org,
		Env:         e.Env,
		Fingerprint: r.Fingerprint,
		Title:       r.Title,
		Culprit:     r.Culprit,
		Level:       string(e.Level),
		At:          time.UnixMilli(e.Timestamp).UTC(),
		Sample: problems.Sample{
			Account: e.Account, Region: e.Region,
			LogGroup: e.LogGroup, LogStream: e.LogStream, EventID: e.ID,
			Timestamp: e.Timestamp, Message: msg, Frames: r.Frames,
		},
	}
}

// Process records one event. It reports whether the occurrence was new (false: a
// redelivery, counted before).
func (g *Grouper) Process(ctx context.Context, e *event.Event) (bool, error) {
	o := Occurrence(e)
	fresh, err := g.rec.Record(ctx, o)
	if err != nil {
		return false, fmt.Errorf("record occurrence of problem %s: %w", problems.ID(o.Org, o.Env, o.Fingerprint), err)
	}
	return fresh, nil
}

// ProcessBody decodes one queue message body and records it.
func (g *Grouper) ProcessBody(ctx context.Context, body []byte) (bool, error) {
	var e event.Event
	if err := json.Unmarshal(body, &e); err != nil {
		return false, fmt.Errorf("%w: body is not an event: %w", ErrPoison, err)
	}
	if e.Org == "" || e.Drain == "" || e.ID == "" {
		return false, fmt.Errorf("%w: event without drain, org or id", ErrPoison)
	}
	return g.Process(ctx, &e)
}

// HandleSQS records an SQS batch and reports each message that was not recorded as a
// batch item failure: SQS redelivers only those, and after the redrive count moves them
// to the dead-letter queue. Nothing is acknowledged before it is recorded.
func (g *Grouper) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, m := range ev.Records {
		fresh, err := g.ProcessBody(ctx, []byte(m.Body))
		if err != nil {
			g.log.ErrorContext(ctx, "message not recorded", "messageId", m.MessageId, "err", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			continue
		}
		if !fresh {
			g.log.InfoContext(ctx, "redelivered occurrence ignored", "messageId", m.MessageId)
		}
	}
	return resp, nil
}
