package alerts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/aient/firehose-drain/pkg/problems"
)

// Noise control and retries.
const (
	// DigestOver is how many alerts one destination takes within DigestWindow before
	// the rest come as digests.
	DigestOver   = 10
	DigestWindow = time.Minute
	// DigestMax is the most problems one digest lists (so it fits Slack's limits).
	DigestMax = 25
	// DefaultMaxAttempts is how many times a notice is tried per destination before it
	// is dead-lettered.
	DefaultMaxAttempts = 5
)

// Config tunes a Deliverer. Zero values take the documented defaults.
type Config struct {
	// ConsoleURL is the console's base URL for the problems' links (default the local
	// server's, http://127.0.0.1:8080).
	ConsoleURL string
	// MaxAttempts per notice and destination (default DefaultMaxAttempts).
	MaxAttempts int
	// RetryDelay is the base of the backoff between attempts (default 10 s): attempt n
	// waits n² times it.
	RetryDelay time.Duration
	Now        func() time.Time
	Logger     *slog.Logger
	// Affected, when set, gives each alert every affected account and region (the
	// console's counts, problems.Reader.Detail's Affected) instead of the sample's.
	Affected problems.AffectedReader
}

// DefaultConsoleURL is the local server's address.
const DefaultConsoleURL = "http://127.0.0.1:8080"

// Deliverer sends notices to the destinations that match them.
type Deliverer struct {
	dests   Destinations
	secrets SecretStore
	outbox  Outbox
	senders Senders
	cfg     Config

	// rate is the digest rule's shared count (the destinations' own Rate when they have
	// one).
	rate Rate
}

// NewDeliverer wires a deliverer.
func NewDeliverer(dests Destinations, secrets SecretStore, outbox Outbox, senders Senders, cfg Config) *Deliverer {
	if cfg.ConsoleURL == "" {
		cfg.ConsoleURL = DefaultConsoleURL
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	rate, ok := dests.(Rate)
	if !ok {
		rate = newMemRate()
	}
	return &Deliverer{dests: dests, secrets: secrets, outbox: outbox, senders: senders, cfg: cfg, rate: rate}
}

// ErrRetry reports that some deliveries failed and will be tried again.
var ErrRetry = errors.New("some alerts were not delivered and will be retried")

// DeliverPending delivers the notices due now, up to limit. It returns how many it
// looked at.
func (d *Deliverer) DeliverPending(ctx context.Context, limit int) (int, error) {
	pending, err := d.outbox.Pending(ctx, d.cfg.Now(), limit)
	if err != nil {
		return 0, fmt.Errorf("alerts: read the outbox: %w", err)
	}
	if len(pending) == 0 {
		return 0, nil
	}
	return len(pending), d.Deliver(ctx, pending)
}

// DeliverIDs delivers the notices with these ids as the outbox has them now (the AWS
// stream hands over ids; what was already sent is not sent again).
func (d *Deliverer) DeliverIDs(ctx context.Context, ids []string) error {
	ds, err := d.outbox.Load(ctx, ids)
	if err != nil {
		return fmt.Errorf("alerts: read the outbox: %w", err)
	}
	return d.Deliver(ctx, ds)
}

// Deliver sends each delivery to every matching destination that has not taken it yet:
// one message per notice, or digests when the destination would get more than
// DigestOver single alerts within one minute (Rate, shared by the deliverers). A send that fails is recorded on the notice and
// the destination; after MaxAttempts the notice is dead-lettered for that destination
// (the destination shows failing, with the last error). It returns ErrRetry when a
// failed send will be retried.
func (d *Deliverer) Deliver(ctx context.Context, ds []Delivery) error {
	dests, err := d.dests.List(ctx)
	if err != nil {
		return fmt.Errorf("alerts: list destinations: %w", err)
	}
	var errs []error
	for _, dest := range dests {
		var todo []*Delivery
		for i := range ds {
			n := ds[i].Notice.Problem
			if dest.Matches(n.Org, n.Env) && !ds[i].finished(dest.ID) {
				todo = append(todo, &ds[i])
			}
		}
		if len(todo) == 0 {
			continue
		}
		if err := d.deliverTo(ctx, dest, todo); err != nil {
			errs = append(errs, err)
		}
	}
	for _, dl := range ds {
		done := true
		for _, dest := range dests {
			n := dl.Notice.Problem
			if dest.Matches(n.Org, n.Env) && !dl.finished(dest.ID) {
				done = false
			}
		}
		if done {
			if err := d.outbox.Done(ctx, dl.Notice.ID, d.cfg.Now()); err != nil {
				errs = append(errs, fmt.Errorf("alerts: mark notice %s done: %w", dl.Notice.ID, err))
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(append([]error{ErrRetry}, errs...)...)
	}
	return nil
}

// deliverTo sends todo to one destination, individually or as digests.
func (d *Deliverer) deliverTo(ctx context.Context, dest Destination, todo []*Delivery) error {
	sender, ok := d.senders[dest.Type]
	if !ok {
		return fmt.Errorf("alerts: destination %s: no sender for type %q", dest.ID, dest.Type)
	}
	secret, err := d.secretOf(ctx, dest)
	if err != nil {
		return d.failed(ctx, dest, todo, err)
	}
	now := d.cfg.Now()
	var batches [][]*Delivery
	if d.singles(ctx, dest.ID, len(todo), now) {
		for _, t := range todo {
			batches = append(batches, []*Delivery{t})
		}
	} else {
		for c := range slices.Chunk(todo, DigestMax) {
			batches = append(batches, c)
		}
	}
	aff := d.affectedOf(ctx, todo)
	var errs []error
	for _, batch := range batches {
		var doc Document
		if len(batch) == 1 && len(batches) == len(todo) {
			doc = DocumentOf(batch[0].Notice, d.cfg.ConsoleURL, now)
		} else {
			ns := make([]problems.Notice, len(batch))
			for i, b := range batch {
				ns[i] = b.Notice
			}
			doc = DigestOf(ns, d.cfg.ConsoleURL, now)
		}
		withAffected(&doc, aff)
		if err := sender.Send(ctx, dest, secret, doc); err != nil {
			errs = append(errs, d.failed(ctx, dest, batch, err))
			continue
		}
		for _, b := range batch {
			if err := d.outbox.MarkSent(ctx, b.Notice.ID, dest.ID, now); err != nil {
				// Sent but not marked: it goes again (at least once).
				errs = append(errs, fmt.Errorf("alerts: mark notice %s sent to %s: %w", b.Notice.ID, dest.ID, err))
				continue
			}
			if b.Sent == nil {
				b.Sent = map[string]time.Time{}
			}
			b.Sent[dest.ID] = now
		}
		if err := d.dests.Report(ctx, dest.ID, Report{At: now}); err != nil {
			d.cfg.Logger.WarnContext(ctx, "alert destination status not recorded", "destination", dest.ID, "err", err)
		}
	}
	return errors.Join(errs...)
}

// failed records a failed send of batch to dest and returns the error to report (nil
// when every notice of the batch was dead-lettered: nothing more will be tried).
func (d *Deliverer) failed(ctx context.Context, dest Destination, batch []*Delivery, cause error) error {
	now := d.cfg.Now()
	dead := false
	var errs []error
	for _, b := range batch {
		n := b.Attempts[dest.ID] + 1
		isDead := n >= d.cfg.MaxAttempts
		dead = dead || isDead
		retryAt := now.Add(time.Duration(n*n) * d.cfg.RetryDelay)
		if err := d.outbox.MarkFailed(ctx, b.Notice.ID, dest.ID, n, isDead, retryAt); err != nil {
			errs = append(errs, fmt.Errorf("alerts: record the failed attempt of %s: %w", b.Notice.ID, err))
		}
		if b.Attempts == nil {
			b.Attempts = map[string]int{}
		}
		b.Attempts[dest.ID] = n
		if isDead {
			if b.Dead == nil {
				b.Dead = map[string]bool{}
			}
			b.Dead[dest.ID] = true
		} else {
			errs = append(errs, fmt.Errorf("alerts: send %s to %s (attempt %d of %d): %w", b.Notice.ID, dest.ID, n, d.cfg.MaxAttempts, cause))
		}
	}
	msg := cause.Error()
	if err := d.dests.Report(ctx, dest.ID, Report{At: now, Err: msg, Dead: dead}); err != nil {
		errs = append(errs, fmt.Errorf("alerts: record the status of %s: %w", dest.ID, err))
	}
	level := slog.LevelWarn
	if dead {
		level = slog.LevelError
	}
	d.cfg.Logger.Log(ctx, level, "alert not delivered", "destination", dest.ID, "type", dest.Type, "target", dest.Target, "notices", len(batch), "deadLettered", dead, "err", msg)
	return errors.Join(errs...)
}

func (d *Deliverer) secretOf(ctx context.Context, dest Destination) (Secret, error) {
	if dest.SecretRef == "" {
		return Secret{}, nil
	}
	s, err := d.secrets.GetSecret(ctx, dest.SecretRef)
	if err != nil {
		return Secret{}, fmt.Errorf("read the destination's secret: %w", err)
	}
	return s, nil
}

// Test sends the sample alert (SampleNotice) to one destination, outside the outbox.
func (d *Deliverer) Test(ctx context.Context, id string) error {
	dest, err := d.dests.Get(ctx, id)
	if err != nil {
		return err
	}
	sender, ok := d.senders[dest.Type]
	if !ok {
		return fmt.Errorf("alerts: destination %s: no sender for type %q", dest.ID, dest.Type)
	}
	secret, err := d.secretOf(ctx, dest)
	if err != nil {
		return err
	}
	now := d.cfg.Now()
	doc := DocumentOf(SampleNotice(now), d.cfg.ConsoleURL, now)
	err = sender.Send(ctx, dest, secret, doc)
	r := Report{At: now}
	if err != nil {
		r.Err = err.Error()
	}
	if rerr := d.dests.Report(ctx, dest.ID, r); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return err
}
