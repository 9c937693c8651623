package cli

import (
	"context"
	"log/slog"
	"net/http"
	"time"

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
	// Now is the server's clock (ingest, drains, pages). Default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Local is `aient serve` wired over one embedded store: the ingest handler on the
// Firehose route, the grouper's own SQS handler driven by the durable queue, and the
// console beside them. Exported for the CLI's tests.
type Local struct {
	store   *embedded.Store
	drains  *drains.Service
	grouper *grouper.Grouper
	handler http.Handler
	cfg     LocalConfig
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
	// No drain cache: the CLI rotates and revokes from another process, and that must hold
	// from the next delivery (reads of the embedded store are cheap).
	svc := drains.NewService(st.Drains(), drains.PepperFunc(st.Pepper), drains.Config{Now: cfg.Now, CacheTTL: drains.NoCache})
	claims := dedup.New(st.Claims(), dedup.Config{Now: cfg.Now})
	in := ingest.New(svc, st.Drains(), claims, st.Queue(), ingest.Config{Logger: cfg.Logger, Now: cfg.Now})
	con := console.New(console.Backend{Problems: st.Reader(), Drains: st.Drains()}, console.Config{
		EndpointBase: cfg.EndpointBase, Ingest: in, Hosts: cfg.Hosts, Remote: cfg.Remote,
		Now: cfg.Now, Logger: cfg.Logger,
	})
	return &Local{
		store: st, drains: svc, grouper: grouper.New(st.Problems(), cfg.Logger),
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
