package cli

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/aient/firehose-drain/pkg/alerts"
	"github.com/aient/firehose-drain/pkg/console"
	"github.com/aient/firehose-drain/pkg/dedup"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/grouper"
	"github.com/aient/firehose-drain/pkg/ingest"
)

// LocalConfig tunes the local server. Zero values take the documented defaults.
type LocalConfig struct {
	// EndpointBase is the server's base URL, for the endpoints shown on drain pages.
	EndpointBase string
	// Hosts and Remote are the console's guard (console.Config).
	Hosts  []string
	Remote bool
	// Poll tunes the queue consumer (the local event source mapping).
	Poll embedded.PollConfig
	// ConsoleURL is the base of the problem links in alerts (default EndpointBase).
	ConsoleURL string
	// AlertPoll is how often the alert deliverer looks at the outbox (default 1s).
	AlertPoll time.Duration
	// Senders are the alert destinations' senders (default alerts.NewSenders(nil, nil):
	// webhooks and Slack; SNS fails without a client).
	Senders alerts.Senders
	// Now is the server's clock (ingest, drains, pages). Default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// Export, when set, exports every data event as OTLP logs (otlplogs).
	Export ingest.Exporter
	// NoLogStore keeps no logs (the paired benchmark's baseline); aient serve always keeps them.
	NoLogStore bool
	// Lease is the claim lease of the ingest's deliveries (`serve --lease`; default
	// dedup.DefaultLease): how long a delivery cut off mid-way holds its claims.
	Lease time.Duration
}

// Local is `aient serve` wired over one embedded store: the ingest handler on the
// Firehose route, the grouper's own SQS handler driven by the durable queue, and the
// console beside them. Exported for the CLI's tests.
type Local struct {
	store     *embedded.Store
	drains    *drains.Service
	grouper   *grouper.Grouper
	deliverer *alerts.Deliverer
	handler   http.Handler
	cfg       LocalConfig
}

// NewLocal wires the local server over st.
func NewLocal(st *embedded.Store, cfg LocalConfig) *Local {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Poll.Logger = cfg.Logger
	if cfg.ConsoleURL == "" {
		cfg.ConsoleURL = cfg.EndpointBase
	}
	if cfg.AlertPoll <= 0 {
		cfg.AlertPoll = time.Second
	}
	if cfg.Senders == nil {
		cfg.Senders = alerts.NewSenders(nil, nil)
	}
	// No drain cache: the CLI rotates and revokes from another process, and that must hold
	// from the next delivery (reads of the embedded store are cheap).
	svc := drains.NewService(st.Drains(), drains.PepperFunc(st.Pepper), drains.Config{Now: cfg.Now, CacheTTL: drains.NoCache})
	claims := dedup.New(st.Claims(), dedup.Config{Now: cfg.Now, Lease: cfg.Lease})
	icfg := ingest.Config{Logger: cfg.Logger, Now: cfg.Now, Export: cfg.Export, Logs: st.Logs()}
	if cfg.NoLogStore {
		icfg.Logs = nil
	}
	in := ingest.New(svc, st.Drains(), claims, st.Queue(), icfg)
	con := console.New(console.Backend{Problems: st.Reader(), Drains: st.Drains(), Actions: st.Problems(), Logs: st.Logs()}, console.Config{
		EndpointBase: cfg.EndpointBase, Ingest: in, Hosts: cfg.Hosts, Remote: cfg.Remote,
		Now: cfg.Now, Logger: cfg.Logger,
	})
	return &Local{
		store: st, drains: svc, grouper: grouper.New(st.Problems(), cfg.Logger).WithRules(st.Rules(), st.Ignored()).WithTransition(st.Problems()),
		deliverer: alerts.NewDeliverer(st.Destinations(), st.Secrets(), st.Outbox(), cfg.Senders, alerts.Config{
			ConsoleURL: cfg.ConsoleURL, Now: cfg.Now, Logger: cfg.Logger, Affected: affectedReader(st.Problems()),
		}),
		handler: con.Handler(), cfg: cfg,
	}
}

// Handler serves the Firehose route and the console.
func (l *Local) Handler() http.Handler { return l.handler }

// Drains is the drain service of the server.
func (l *Local) Drains() *drains.Service { return l.drains }

// RunGrouper drives the grouper's SQS handler from the queue until ctx ends.
func (l *Local) RunGrouper(ctx context.Context) error {
	return l.store.Queue().Poll(ctx, l.grouper.HandleSQS, l.cfg.Poll)
}

// GroupOnce hands one batch of queued events to the grouper; it returns how many it took.
func (l *Local) GroupOnce(ctx context.Context) (int, error) {
	return l.store.Queue().PollOnce(ctx, l.grouper.HandleSQS, l.cfg.Poll)
}

// RunAlerts delivers the outbox's notices until ctx ends: what is due every AlertPoll
// (a failed send is retried with backoff, then dead-lettered on its destination).
func (l *Local) RunAlerts(ctx context.Context) error {
	for {
		n, err := l.DeliverOnce(ctx)
		if err != nil && ctx.Err() == nil && !errors.Is(err, alerts.ErrRetry) {
			l.cfg.Logger.ErrorContext(ctx, "alerts", "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(l.cfg.AlertPoll):
		}
	}
}

// RunLogRetention applies the log store's retention until ctx ends: every minute, and
// whenever a delivery left the store over its byte cap.
func (l *Local) RunLogRetention(ctx context.Context) {
	l.store.Logs().RunRetention(ctx, time.Minute, func(err error) {
		l.cfg.Logger.ErrorContext(ctx, "log retention", "err", err)
	})
}

// DeliverOnce delivers the notices due now; it returns how many it looked at.
func (l *Local) DeliverOnce(ctx context.Context) (int, error) {
	return l.deliverer.DeliverPending(ctx, 100)
}
