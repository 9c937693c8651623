package alerts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// NoticeKeyPrefix is the key prefix of the notice items in the problems table (the
// stream's filter keeps only their inserts).
const NoticeKeyPrefix = "notice#"

// StreamConfig tunes HandleStream.
type StreamConfig struct {
	// Reserve is the time left to the invocation's deadline at which HandleStream stops
	// waiting for retries and reports what is still undelivered (default 10 s).
	Reserve time.Duration
	// MaxHold is the longest HandleStream waits, in all, for retries within one
	// invocation (default DefaultMaxHold): a destination that keeps failing holds the
	// stream's shard that long at most, then the undelivered record is handed back as the
	// batch item failure; the outbox keeps the attempts made, so the stream's retry goes
	// on counting them toward the dead letter.
	MaxHold time.Duration
	// Sleep waits d or until ctx ends (default a timer); tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultMaxHold is StreamConfig.MaxHold's default.
const DefaultMaxHold = time.Minute

// StreamRetryDelay is the alerts function's Config.RetryDelay: attempts 2, 8, 18 and 32 s
// apart, so the DefaultMaxAttempts of a failing destination fit in one DefaultMaxHold and
// its notice is dead-lettered within about a minute (plus the sends' own timeouts).
const StreamRetryDelay = 2 * time.Second

// HandleStream is the alerts function's handler of the problems table's stream: the
// notice items' inserts. It delivers them (what the outbox says was sent is not sent
// again), and while a send keeps failing it waits for the retry and tries again within
// the invocation, until each notice is sent or dead-lettered for each destination, for
// at most MaxHold of waiting in all. What is still undelivered then, or when the deadline
// nears, is reported as the batch item failure of the first such record, so the stream
// retries from there (and its on-failure destination keeps what runs out of retries).
func (d *Deliverer) HandleStream(ctx context.Context, ev events.DynamoDBEvent, cfg StreamConfig) (events.DynamoDBEventResponse, error) {
	if cfg.Reserve <= 0 {
		cfg.Reserve = 10 * time.Second
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleepCtx
	}
	if cfg.MaxHold <= 0 {
		cfg.MaxHold = DefaultMaxHold
	}
	var held time.Duration
	var (
		ids   []string
		seqOf = map[string]string{}
		order []string
	)
	for _, r := range ev.Records {
		pk, ok := r.Change.Keys["pk"]
		if !ok || pk.DataType() != events.DataTypeString {
			continue
		}
		id, ok := strings.CutPrefix(pk.String(), NoticeKeyPrefix)
		if !ok || id == "" {
			continue
		}
		if _, dup := seqOf[id]; !dup {
			ids = append(ids, id)
			order = append(order, id)
		}
		seqOf[id] = r.Change.SequenceNumber
	}
	var resp events.DynamoDBEventResponse
	if len(ids) == 0 {
		return resp, nil
	}
	for {
		err := d.DeliverIDs(ctx, ids)
		if err == nil {
			return resp, nil
		}
		due, pending, lerr := d.nextDue(ctx, ids)
		if lerr != nil {
			err = errors.Join(err, lerr)
		}
		deadline, has := ctx.Deadline()
		wait := due.Sub(d.cfg.Now())
		wait = max(wait, 0)
		if lerr != nil || len(pending) == 0 || (has && time.Until(deadline)-cfg.Reserve < wait) || held+wait > cfg.MaxHold {
			d.cfg.Logger.WarnContext(ctx, "alerts left for the stream to retry", "notices", len(pending), "err", err)
			for _, id := range order {
				if pending[id] || lerr != nil {
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: seqOf[id]})
					break
				}
			}
			if len(resp.BatchItemFailures) == 0 {
				return resp, fmt.Errorf("alerts: %w", err)
			}
			return resp, nil
		}
		if err := cfg.Sleep(ctx, wait); err != nil {
			return resp, fmt.Errorf("alerts: %w", err)
		}
		held += wait
	}
}

// nextDue reads the notices back: which are still to deliver and when the first of them
// is due again.
func (d *Deliverer) nextDue(ctx context.Context, ids []string) (time.Time, map[string]bool, error) {
	ds, err := d.outbox.Load(ctx, ids)
	if err != nil {
		return time.Time{}, nil, err
	}
	dests, err := d.dests.List(ctx)
	if err != nil {
		return time.Time{}, nil, err
	}
	pending := map[string]bool{}
	var due time.Time
	now := d.cfg.Now()
	for _, dl := range ds {
		for _, dest := range dests {
			n := dl.Notice.Problem
			if !dest.Matches(n.Org, n.Env) || dl.finished(dest.ID) {
				continue
			}
			pending[dl.Notice.ID] = true
			a := dl.Attempts[dest.ID]
			at := now.Add(time.Duration(a*a) * d.cfg.RetryDelay)
			if due.IsZero() || at.Before(due) {
				due = at
			}
		}
	}
	return due, pending, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
