package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// SQSHandler is the shape of an SQS-triggered Lambda handler with
// ReportBatchItemFailures: the grouper's HandleSQS.
type SQSHandler func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error)

// PollConfig tunes Poll as an event source mapping is tuned. Zero values take the defaults.
type PollConfig struct {
	// BatchSize is the most messages one call of the handler gets. Default 10.
	BatchSize int
	// WorkTimeout is the handler's time for one batch, as a Lambda function's timeout is:
	// its ctx ends then (the grouper answers the messages it finished before its margin
	// and names the rest as failed). Default DefaultWorkTimeout.
	WorkTimeout time.Duration
	// Visibility is how long a received batch is leased: never less than WorkTimeout plus
	// SettleMargin (a shorter value is raised to it, and that is the default), so a message
	// is never visible again while its handler may still work on it, and the batch of a
	// server killed mid-way is received again that soon after the kill, not later.
	Visibility time.Duration
	// MaxAttempts is the redrive count: a message received that many times that fails
	// again moves to the dead-letter table. Default 5.
	MaxAttempts int
	// Interval is how long Poll waits when the queue is empty. Default 200ms.
	Interval time.Duration
	Logger   *slog.Logger
}

// DefaultWorkTimeout is PollConfig.WorkTimeout's default: a batch of 10 messages takes the
// grouper milliseconds; the rest is room for a slow disk or a busy machine.
const DefaultWorkTimeout = 10 * time.Second

// SettleMargin is the lease kept beyond WorkTimeout for settling the batch once the
// handler has answered (the acks and retries: a write each).
const SettleMargin = time.Second

func (c *PollConfig) defaults() {
	if c.BatchSize <= 0 {
		c.BatchSize = 10
	}
	if c.WorkTimeout <= 0 {
		c.WorkTimeout = DefaultWorkTimeout
	}
	c.Visibility = max(c.Visibility, c.WorkTimeout+SettleMargin)
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.Interval <= 0 {
		c.Interval = 200 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Poll hands queued messages to handle as SQS batches until ctx ends, as Lambda's event
// source mapping does for the grouper: the messages handle reports as batch item failures
// (all of them when it returns an error) are retried after a backoff and dead-lettered
// after MaxAttempts receipts; the others are deleted.
func (q *Queue) Poll(ctx context.Context, handle SQSHandler, cfg PollConfig) error {
	cfg.defaults()
	for {
		n, err := q.PollOnce(ctx, handle, cfg)
		if err != nil && ctx.Err() == nil {
			cfg.Logger.ErrorContext(ctx, "queue poll", "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(cfg.Interval):
		}
	}
}

// PollOnce receives one batch, hands it to handle and settles each message by the answer.
// It returns how many messages it received.
func (q *Queue) PollOnce(ctx context.Context, handle SQSHandler, cfg PollConfig) (int, error) {
	cfg.defaults()
	leased := time.Now()
	msgs, err := q.Receive(ctx, cfg.BatchSize, cfg.Visibility)
	if err != nil || len(msgs) == 0 {
		return 0, err
	}
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(msgs))}
	for i, m := range msgs {
		ev.Records[i] = events.SQSMessage{
			MessageId:     strconv.FormatInt(m.ID, 10),
			Body:          string(m.Body),
			EventSource:   "aient:embedded-queue",
			Attributes:    map[string]string{"ApproximateReceiveCount": strconv.Itoa(m.Attempts)},
			ReceiptHandle: strconv.FormatInt(m.ID, 10),
		}
	}
	failed := map[string]bool{}
	// The lease began before Receive returned: the work ends WorkTimeout after that
	// start at the latest, within the lease less the time to settle.
	wctx, cancel := context.WithDeadline(ctx, leased.Add(cfg.WorkTimeout))
	resp, herr := handle(wctx, ev)
	cancel()
	if herr != nil {
		for _, r := range ev.Records {
			failed[r.MessageId] = true
		}
	} else {
		for _, f := range resp.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
	}
	var done []int64
	var errs []error
	if herr != nil {
		errs = append(errs, fmt.Errorf("handler: %w", herr))
	}
	for _, m := range msgs {
		if !failed[strconv.FormatInt(m.ID, 10)] {
			done = append(done, m.ID)
			continue
		}
		dead, err := q.Fail(ctx, m.ID, cfg.MaxAttempts)
		if err != nil {
			errs = append(errs, err)
		}
		if dead {
			cfg.Logger.WarnContext(ctx, "queued event dead-lettered", "queueId", m.ID, "attempts", m.Attempts)
		}
	}
	if err := q.Ack(ctx, done...); err != nil {
		errs = append(errs, err)
	}
	return len(msgs), errors.Join(errs...)
}
