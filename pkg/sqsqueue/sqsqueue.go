// Package sqsqueue sends events to the grouper's SQS queue with SendMessageBatch. Events
// are packed several to a message: a body is one JSON event.Event, or
// {"events":[event, ...]} for several (the grouper reads both shapes).
package sqsqueue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"

	"github.com/aient/firehose-drain/internal/awsretry"
	"github.com/aient/firehose-drain/pkg/event"
)

// SQS limits.
const (
	// MaxMessageBytes is the largest message body sent (SQS's classic 256 KiB limit).
	MaxMessageBytes = 256 * 1024
	// MaxBatchEntries is the most messages in one SendMessageBatch.
	MaxBatchEntries = 10
	// MaxBatchBytes is the most body bytes in one SendMessageBatch.
	MaxBatchBytes = 256 * 1024
)

// concurrency bounds the SendMessageBatch calls of one Send in flight at once.
const concurrency = 8

// Packing defaults: a message holds events up to about DefaultPackBytes of body and at
// most DefaultPackEvents events, so a batch of 10 messages stays within MaxBatchBytes and a
// redelivered message redoes little. A single event larger than that has a message of its
// own (up to MaxMessageBytes).
const (
	DefaultPackBytes  = MaxBatchBytes / MaxBatchEntries
	DefaultPackEvents = 100
)

// Send failures keep their class (as the claimer's do, see dedup.Error): an *Error wraps
// ErrUnavailable exactly when a retry may cure the failure (throttling, a 5xx answer, a
// timeout, a reset connection, ctx ended), and ErrThrottled too when SQS refused for rate.
// Anything else (access denied, a queue that does not exist, a KMS key that is disabled,
// an event too large to send) is permanent: the *Error wraps neither, and the ingest
// answers 500 instead of 503.
var (
	// ErrUnavailable: the send may succeed if retried; the caller answers 503.
	ErrUnavailable = errors.New("queue unavailable")
	// ErrThrottled: SQS (or its KMS key) refused for rate; always with ErrUnavailable.
	ErrThrottled = errors.New("queue throttled")
)

// Error is a failed Send: the queue, how many of how many events were not sent, and why.
// It wraps ErrUnavailable (and ErrThrottled) exactly when the failure is transient.
type Error struct {
	Queue   string
	NotSent int
	Of      int
	// Err is the failure, wrapping ErrUnavailable when it is transient.
	Err error
}

func (e *Error) Error() string {
	return fmt.Sprintf("sqsqueue: %d of %d events not sent to %s: %v", e.NotSent, e.Of, e.Queue, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// API is the one SQS call a Sender makes; *sqs.Client has it. The input's strings are
// valid only until the call returns: an API must not keep them.
type API interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

var _ API = (*sqs.Client)(nil)

// Sender sends events to one SQS queue. It is safe for concurrent use.
type Sender struct {
	client     *sqs.Client
	api        API
	queueURL   string
	packBytes  int
	packEvents int
	// free keeps the buffers of finished Sends for the next ones (see work).
	free chan *work
}

// Option configures a Sender.
type Option func(*Sender)

// WithPacking sets how many events, and about how many bytes of body, one message
// carries (defaults DefaultPackEvents and DefaultPackBytes). events 1 sends one event per
// message, in the single-event shape.
func WithPacking(events, bytes int) Option {
	return func(s *Sender) { s.packEvents, s.packBytes = max(events, 1), bytes }
}

// New returns a Sender to the queue at queueURL.
func New(client *sqs.Client, queueURL string, opts ...Option) *Sender {
	s := NewWithAPI(client, queueURL, opts...)
	s.client = client
	return s
}

// NewWithAPI returns a Sender that sends with api (a fake of SQS in tests and benchmarks);
// its Client is nil unless api is an *sqs.Client.
func NewWithAPI(api API, queueURL string, opts ...Option) *Sender {
	s := &Sender{api: api, queueURL: queueURL, packBytes: DefaultPackBytes, packEvents: DefaultPackEvents, free: make(chan *work, maxFreeWork)}
	if c, ok := api.(*sqs.Client); ok {
		s.client = c
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Client is the SQS client the Sender uses.
func (s *Sender) Client() *sqs.Client { return s.client }

// QueueURL is the queue the Sender sends to.
func (s *Sender) QueueURL() string { return s.queueURL }

// message is one message body and how many events it carries.
type message struct {
	body   string
	events int
}

// Send sends the events packed into messages (see New) with SendMessageBatch: at most 10
// entries and 256 KiB per batch, at most 8 batches in flight, within ctx. An event whose
// JSON exceeds 256 KiB is truncated (see Fit), never dropped. Entries that fail are sent
// once more; if any still fail, Send returns an error wrapping ErrUnavailable that says
// how many (an *Error, which keeps the failure's class: see ErrUnavailable). Events are
// not deduplicated here: a failed Send may have sent some of them.
//
// The bodies are written once, each at its place in its message, into a buffer the Sender
// keeps for its next Sends: the messages' strings are over that buffer and live only until
// Send returns (SendMessageBatch serializes them before it returns).
func (s *Sender) Send(ctx context.Context, events []event.Event) error {
	if len(events) == 0 {
		return nil
	}
	w := s.work()
	defer s.done(w)
	unfitN, unfit := w.build(events, s.packEvents, s.packBytes)

	failed, lastErr := s.sendAll(ctx, w, w.msgs)
	if len(failed) > 0 && ctx.Err() == nil {
		failed, lastErr = s.sendAll(ctx, w, failed)
	}
	if len(failed) == 0 && unfitN == 0 {
		return nil
	}
	notSent := unfitN
	for _, m := range failed {
		notSent += m.events
	}
	var err error
	if len(failed) > 0 {
		err = classify(ctx, lastErr)
	}
	// An event that does not fit is permanent; the class is the messages' that failed.
	err = errors.Join(err, unfit)
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		err = errors.Join(err, ctx.Err())
	}
	return &Error{Queue: s.queueURL, NotSent: notSent, Of: len(events), Err: err}
}

// classify wraps err with ErrUnavailable (and ErrThrottled) when a retry may cure it.
func classify(ctx context.Context, err error) error {
	switch {
	case err == nil:
		return nil
	case isThrottle(err):
		return fmt.Errorf("%w: %w: %w", ErrUnavailable, ErrThrottled, err)
	case ctx.Err() != nil || transient(err):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// throttleCodes are SQS's (and its KMS key's) refusals for rate, beside the SDK's list.
var throttleCodes = map[string]bool{
	"RequestThrottled": true, "AWS.SimpleQueueService.RequestThrottled": true,
	"KmsThrottled": true, "KMS.ThrottlingException": true, "ThrottlingException": true,
}

// isThrottle reports whether err is SQS refusing for rate: an API error or a failed entry
// with a throttling code.
func isThrottle(err error) bool {
	var ee *entryError
	if errors.As(err, &ee) {
		return throttleCode(ee.code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	return throttleCode(ae.ErrorCode())
}

func throttleCode(code string) bool {
	_, ok := retry.DefaultThrottleErrorCodes[code]
	return ok || throttleCodes[code]
}

// transient reports whether a retry may cure err: a failed entry that is not the sender's
// fault, or what awsretry.Transient says with SQS's own transient codes.
func transient(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var ee *entryError
	if errors.As(err, &ee) {
		return !ee.senderFault
	}
	return awsretry.Transient(err, "InternalError", "InternalFailure", "ServiceUnavailable", "AWS.SimpleQueueService.InternalError")
}

// entryError is a batch entry SQS answered as failed.
type entryError struct {
	failed, of  int
	code, msg   string
	senderFault bool
}

func (e *entryError) Error() string {
	return fmt.Sprintf("%d of %d entries not confirmed, first: %s: %s (sender fault %t)", e.failed, e.of, e.code, e.msg, e.senderFault)
}

// sendAll sends msgs in batches and returns the messages that were not sent, with the
// last error seen.
func (s *Sender) sendAll(ctx context.Context, w *work, msgs []message) ([]message, error) {
	var (
		g       errgroup.Group
		mu      sync.Mutex
		failed  []message
		lastErr error
	)
	g.SetLimit(concurrency)
	batches := batch(w.batches[:0], msgs)
	w.batches = batches
	entries := w.entryRoom(len(msgs))
	for bi, b := range batches {
		if ctx.Err() != nil {
			mu.Lock()
			for _, rest := range batches[bi:] {
				failed = append(failed, msgs[rest.start:rest.end]...)
			}
			lastErr = ctx.Err()
			mu.Unlock()
			break
		}
		g.Go(func() error {
			notSent, err := s.sendBatch(ctx, msgs[b.start:b.end], entries[b.start:b.end])
			if len(notSent) > 0 {
				mu.Lock()
				defer mu.Unlock()
				failed = append(failed, notSent...)
				lastErr = err
			}
			return nil // the messages not sent are the answer, not an error
		})
	}
	_ = g.Wait() // every Go func returns nil
	return failed, lastErr
}

// entryIDs are the batch entries' ids: an entry's index in its batch.
var entryIDs = func() (ids [MaxBatchEntries]string) {
	for i := range ids {
		ids[i] = strconv.Itoa(i)
	}
	return ids
}()

// sendBatch sends one batch, with entries as room for its entries, and returns the
// messages that failed.
func (s *Sender) sendBatch(ctx context.Context, b []message, entries []types.SendMessageBatchRequestEntry) ([]message, error) {
	for i := range b {
		entries[i] = types.SendMessageBatchRequestEntry{Id: &entryIDs[i], MessageBody: &b[i].body}
	}
	out, err := s.api.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &s.queueURL, Entries: entries})
	clear(entries) // nothing of this call's is kept past it
	if err != nil {
		return b, fmt.Errorf("send batch of %d: %w", len(b), err)
	}
	// Only entries the answer confirms count as sent.
	var sent [MaxBatchEntries]bool
	for _, r := range out.Successful {
		if i, err := strconv.Atoi(aws.ToString(r.Id)); err == nil && i >= 0 && i < len(b) {
			sent[i] = true
		}
	}
	var failed []message
	for i := range b {
		if !sent[i] {
			failed = append(failed, b[i])
		}
	}
	if len(failed) == 0 {
		return nil, nil
	}
	if len(out.Failed) == 0 {
		// Neither confirmed nor refused: SQS's answer is not whole; a retry may do.
		return failed, &entryError{failed: len(failed), of: len(b), code: "NotConfirmed", msg: "the answer names neither success nor failure"}
	}
	f := out.Failed[0]
	return failed, &entryError{failed: len(failed), of: len(b), code: aws.ToString(f.Code), msg: aws.ToString(f.Message), senderFault: f.SenderFault}
}

// The packed shape: {"events":[e1,e2,...]}.
const (
	packOpen  = `{"events":[`
	packClose = `]}`
)

// pack puts consecutive event bodies into messages of at most maxEvents events and about
// maxBytes bytes (a body alone may be larger, up to MaxMessageBytes); one event keeps its
// own shape. It is the reference the Sender's packing (work.build) is tested against.
func pack(bodies [][]byte, maxEvents, maxBytes int) []message {
	var out []message
	for start := 0; start < len(bodies); {
		end, size := start+1, len(packOpen)+len(bodies[start])+len(packClose)
		for end < len(bodies) && end-start < maxEvents && size+1+len(bodies[end]) <= maxBytes {
			size += 1 + len(bodies[end])
			end++
		}
		if end == start+1 {
			out = append(out, message{body: string(bodies[start]), events: 1})
		} else {
			b := make([]byte, 0, size)
			b = append(b, packOpen...)
			for i, body := range bodies[start:end] {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, body...)
			}
			b = append(b, packClose...)
			out = append(out, message{body: string(b), events: end - start})
		}
		start = end
	}
	return out
}

// span is msgs[start:end], one batch.
type span struct{ start, end int }

// batch appends to out the batches of msgs: at most MaxBatchEntries and MaxBatchBytes each.
func batch(out []span, msgs []message) []span {
	cur := span{}
	bytes := 0
	for i, m := range msgs {
		if n := i - cur.start; n == MaxBatchEntries || (n > 0 && bytes+len(m.body) > MaxBatchBytes) {
			cur.end = i
			out = append(out, cur)
			cur, bytes = span{start: i}, 0
		}
		bytes += len(m.body)
	}
	if cur.start < len(msgs) {
		cur.end = len(msgs)
		out = append(out, cur)
	}
	return out
}
