// Package grouper turns error-class events into problem occurrences: it fingerprints each
// event's error and records a whole SQS batch at once, grouped by problem, exactly once
// per event identity.
package grouper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aient/firehose-drain/pkg/deadline"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/grouping"
	"github.com/aient/firehose-drain/pkg/invocation"
	"github.com/aient/firehose-drain/pkg/problems"
)

// Recorder records occurrences (a problems.Store).
type Recorder interface {
	RecordBatch(ctx context.Context, occs []problems.Occurrence) []problems.Result
}

// errPoison marks a message that can never be processed (not an event): it is reported
// as failed so that SQS's redrive moves it to the dead-letter queue.
var errPoison = errors.New("poison message")

// maxSampleMessage bounds the message kept as a problem's sample.
const maxSampleMessage = 16 << 10

// Grouper records events as problem occurrences.
type Grouper struct {
	rec Recorder
	log *slog.Logger
	now func() time.Time
	// rules and ignored: WithRules (nil: the default rules only).
	rules   *orgRules
	ignored IgnoreCounter
	// transition: WithTransition (nil: no version-1 problems to keep).
	transition *transition
}

// New returns a Grouper. A nil logger means slog.Default().
func New(rec Recorder, log *slog.Logger) *Grouper {
	if log == nil {
		log = slog.Default()
	}
	return &Grouper{rec: rec, log: log, now: time.Now}
}

// Occurrence fingerprints e with the default rules.
func Occurrence(e *event.Event) problems.Occurrence {
	o, _ := OccurrenceWith(grouping.Default(), e)
	return o
}

// OccurrenceWith fingerprints e with rs and returns the analysis too.
func OccurrenceWith(rs *grouping.Rules, e *event.Event) (problems.Occurrence, grouping.Result) {
	r := rs.Analyze(e.Message, e.LogGroup)
	msg := e.Message
	if len(msg) > maxSampleMessage {
		msg = msg[:maxSampleMessage]
	}
	return problems.Occurrence{
		Identity:    occurrenceIdentity(e, &r),
		Org:         e.Org,
		Env:         e.Env,
		Fingerprint: r.Fingerprint,
		Title:       r.Title,
		Culprit:     r.Culprit,
		Level:       string(e.Level),
		At:          time.UnixMilli(e.Timestamp).UTC(),
		Sample: problems.Sample{
			Account: e.Account, Region: e.Region,
			LogGroup: e.LogGroup, LogStream: e.LogStream, EventID: e.ID, RequestID: invocation.RequestIDOf(e.Message),
			Timestamp: e.Timestamp, Message: msg, Frames: r.Frames,
			Grouping: r.Explain(), Breadcrumbs: e.Breadcrumbs,
		},
	}, r
}

// occurrenceIdentity is the event's identity, except for a Lambda platform
// failure that names its invocation: the runtime's line ("Task timed out")
// and the platform's REPORT (text or JSON) of one request are one occurrence,
// whichever arrives first.
func occurrenceIdentity(e *event.Event, r *grouping.Result) string {
	if r.Platform == "" || r.RequestID == "" {
		return e.Identity()
	}
	return event.Identity(e.Drain, e.Account, e.LogGroup, "\x00invocation", r.Platform+"/"+r.RequestID)
}

// Process records one event. It reports whether the occurrence was new (false: a
// redelivery, counted before).
func (g *Grouper) Process(ctx context.Context, e *event.Event) (bool, error) {
	o, ignored, err := g.occurrence(ctx, e)
	if err != nil {
		return false, err
	}
	if ignored {
		d := dropped{}
		d.add(e.Drain, o.Identity, 0)
		for _, err := range g.countIgnored(ctx, d) {
			return false, err
		}
		return false, nil
	}
	r := g.rec.RecordBatch(ctx, []problems.Occurrence{o})[0]
	return r.Recorded, r.Err
}

// wireEvent is an event as the queue carries it; Message is a pointer to tell a missing
// message field from an empty one (both are poison: there is nothing to group).
type wireEvent struct {
	event.Event
	Message *string `json:"message"`
}

// wireBody is a queue message body: one event (the fields of event.Event), or several
// packed as {"events": [event, ...]} (Packed).
type wireBody struct {
	wireEvent
	Events []wireEvent `json:"events"`
}

// Packed is the body of a message that carries several events.
type Packed struct {
	Events []event.Event `json:"events"`
}

// Decode reads a queue message body: one event or several packed (Packed). It returns
// the valid events and, when some are not events, an errPoison error saying why; a body
// that is not JSON, or holds no event, is poison as a whole.
func Decode(body []byte) ([]event.Event, error) {
	wires, ok := decodeFast(body)
	if !ok {
		var err error
		if wires, err = decodeJSON(body); err != nil {
			return nil, err
		}
	}
	return checked(wires)
}

// decodeJSON reads a body with encoding/json: what decodeFast does not read, and the
// reference it is held to.
func decodeJSON(body []byte) ([]wireEvent, error) {
	var b wireBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("%w: body is not an event: %w", errPoison, err)
	}
	wires := []wireEvent{b.wireEvent}
	if b.Events != nil {
		if b.Drain != "" || b.ID != "" {
			return nil, fmt.Errorf("%w: body is both one event and packed events", errPoison)
		}
		if len(b.Events) == 0 {
			return nil, fmt.Errorf("%w: packed body without events", errPoison)
		}
		wires = b.Events
	}
	return wires, nil
}

// checked checks the decoded events: the valid ones, and an errPoison error naming the
// others.
func checked(wires []wireEvent) ([]event.Event, error) {
	out := make([]event.Event, 0, len(wires))
	var errs []error
	for i, w := range wires {
		if err := valid(&w); err != nil {
			errs = append(errs, fmt.Errorf("event %d: %w", i, err))
			continue
		}
		w.Event.Message = *w.Message
		out = append(out, w.Event)
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("%w: %w", errPoison, errors.Join(errs...))
	}
	return out, nil
}

func valid(w *wireEvent) error {
	switch {
	case w.Org == "" || w.Drain == "" || w.ID == "":
		return errors.New("event without drain, org or id")
	case w.Message == nil:
		return errors.New("event without a message field")
	case *w.Message == "":
		return errors.New("event with an empty message")
	}
	return nil
}

// HandleSQS records an SQS batch and names as batch item failures exactly the messages
// not recorded: poison messages, and those with an occurrence that could not be written
// (SQS redelivers only those; the occurrences of theirs already counted are no-ops then).
// Occurrences of the whole batch are recorded together, grouped by problem. Writing stops
// deadline.Margin before the deadline: messages not finished by then are named as failed, so the
// answer always leaves before the Lambda timeout. Nothing is acknowledged before it is
// recorded.
func (g *Grouper) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	work, cancel := g.workContext(ctx)
	defer cancel()

	var (
		occs    []problems.Occurrence
		owner   []int // owner[i]: the message of occs[i]
		failed  = make([]error, len(ev.Records))
		ignored = dropped{} // per drain: events an ignore rule dropped
	)
	for mi, p := range g.prepare(work, ev.Records) {
		evs := p.evs
		failed[mi] = p.err
		for i := range evs {
			o, drop, err := p.occs[i], p.drop[i], p.errs[i]
			switch {
			case err != nil:
				if failed[mi] == nil {
					failed[mi] = err
				}
				continue
			case drop:
				ignored.add(evs[i].Drain, o.Identity, mi)
				continue
			}
			occs = append(occs, o)
			owner = append(owner, mi)
		}
	}
	for mi, err := range g.countIgnored(work, ignored) {
		if failed[mi] == nil {
			failed[mi] = err
		}
	}
	recorded, duplicates := 0, 0
	if len(occs) > 0 {
		for i, r := range g.rec.RecordBatch(work, occs) {
			switch {
			case r.Err != nil:
				if failed[owner[i]] == nil {
					failed[owner[i]] = r.Err
				}
			case r.Recorded:
				recorded++
			default:
				duplicates++
			}
		}
	}
	var resp events.SQSEventResponse
	for mi, err := range failed {
		if err == nil {
			continue
		}
		id := ev.Records[mi].MessageId
		g.log.ErrorContext(ctx, "message not recorded", "messageId", id, "poison", errors.Is(err, errPoison), "err", err)
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
	}
	g.log.InfoContext(ctx, "batch grouped", "messages", len(ev.Records), "events", len(occs),
		"recorded", recorded, "duplicates", duplicates, "failedMessages", len(resp.BatchItemFailures))
	return resp, nil
}

// workContext is ctx ending deadline.Margin before ctx's deadline (ctx itself when it has
// none): the grouper stops writing then, answers the messages it finished and names the
// rest as failed.
func (g *Grouper) workContext(ctx context.Context) (context.Context, context.CancelFunc) {
	work, _, cancel := deadline.Split(ctx, g.now())
	return work, cancel
}
