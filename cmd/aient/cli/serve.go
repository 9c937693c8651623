package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/aient/firehose-drain/pkg/alerts"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/aient/firehose-drain/pkg/console"
	"github.com/aient/firehose-drain/pkg/dedup"
	drainsddb "github.com/aient/firehose-drain/pkg/drains/ddb"
	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/logs"
	problemsddb "github.com/aient/firehose-drain/pkg/problems/ddb"
)

// Timeouts of the local server's listener: a client that trickles its headers or body, or
// holds an idle connection, is cut off.
type timeouts struct {
	header, read, write, idle time.Duration
}

var serveTimeouts = timeouts{header: 10 * time.Second, read: time.Minute, write: 3 * time.Minute, idle: time.Minute}

func newHTTPServer(h http.Handler, t timeouts) *http.Server {
	return &http.Server{
		Handler: h, ReadHeaderTimeout: t.header, ReadTimeout: t.read, WriteTimeout: t.write, IdleTimeout: t.idle,
		MaxHeaderBytes: 64 << 10,
	}
}

func (c *command) serve(ctx context.Context, args []string) (err error) {
	f := c.newFlags("serve", false)
	listen := f.String("listen", "127.0.0.1:8080", "address to listen on (loopback unless --allow-remote)")
	allowRemote := f.Bool("allow-remote", false, "listen beyond loopback: remote callers reach the Firehose route only")
	lease := f.Duration("lease", dedup.DefaultLease, "how long a delivery's claims are its own before a retry may take them over (a server killed mid-delivery holds its claims this long)")
	groupTimeout := f.Duration("group-timeout", embedded.DefaultWorkTimeout, "the grouper's time for one batch of queued events (as the grouper Lambda's timeout); the batch stays leased that long plus 1s, so a server killed while grouping groups it again that soon after its restart")
	logRetention := f.String("log-retention", "7d", "keep log lines this long (event time): 7d, 24h, ...")
	logMaxBytes := f.String("log-max-bytes", "1GiB", "keep the log store under this size, the oldest lines dropped first: 1GiB, 500MB, ...")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("serve takes no arguments")
	}
	if *lease < time.Second {
		return usageError("--lease %v: at least 1s (the claims must outlast the delivery that holds them)", *lease)
	}
	if *groupTimeout < time.Second {
		return usageError("--group-timeout %v: at least 1s (the grouper keeps part of it to answer)", *groupTimeout)
	}
	remote := !console.LoopbackHost(*listen)
	if remote && !*allowRemote {
		return usageError("--listen %s is not a loopback address: the console would be reachable from other machines. Listen on 127.0.0.1, or add --allow-remote to expose the Firehose route only", *listen)
	}
	switch f.backend {
	case "aws":
		return c.serveAWS(ctx, f, *listen, remote)
	case "embedded", "":
	default:
		return usageError("--backend %q: embedded or aws", f.backend)
	}
	age, err := logs.ParseAge(*logRetention)
	if err != nil {
		return usageError("--log-retention: %v", err)
	}
	maxBytes, err := logs.ParseBytes(*logMaxBytes)
	if err != nil {
		return usageError("--log-max-bytes: %v", err)
	}
	st, err := embedded.Open(f.data, embedded.WithLogRetention(age, maxBytes))
	if err != nil {
		return fmt.Errorf("open the embedded store in %s: %w", f.data, err)
	}
	defer func() {
		if cerr := st.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close the embedded store: %w", cerr))
		}
	}()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}
	base := "http://" + ln.Addr().String()
	if f.endpointBase != "" {
		base = f.endpointBase
	}
	if err := os.WriteFile(filepath.Join(f.data, endpointFile), []byte(base+"\n"), 0o600); err != nil {
		_ = ln.Close() // never served: the error above is the one to report
		return fmt.Errorf("write %s: %w", endpointFile, err)
	}
	log := slog.New(slog.NewTextHandler(c.stderr, nil))
	lcfg := LocalConfig{
		EndpointBase: base, Hosts: listenHosts(*listen), Remote: remote, Logger: log, Lease: *lease,
		Poll:       embedded.PollConfig{WorkTimeout: *groupTimeout},
		ConsoleURL: f.consoleURL, Senders: alerts.NewSenders(nil, snsClient(ctx)),
	}
	if err := serveExport(&lcfg, c.getenv, log); err != nil {
		_ = ln.Close() // never served: the error above is the one to report
		return err
	}
	srv := NewLocal(st, lcfg)

	// A first start with no drain creates one, so `make run` is ready for Firehose bodies.
	existing, err := st.Drains().List(ctx)
	if err != nil {
		_ = ln.Close() // never served: the error above is the one to report
		return fmt.Errorf("list drains: %w", err)
	}
	if len(existing) == 0 {
		d, key, err := srv.Drains().Create(ctx, "local", "dev")
		if err != nil {
			_ = ln.Close() // never served: the error above is the one to report
			return err
		}
		c.printKey("No drain yet: created drain "+d.ID+" for org local, env dev.", Created{Endpoint: base + "/aws/firehose/" + d.ID, AccessKey: key})
		fmt.Fprintf(c.stdout, "\nTry it (a real CloudWatch delivery, and one with two errors):\n  aient send --endpoint %s/aws/firehose/%s --key %s events/url-cloudwatch-data.json events/url-gzip-request.json\n\n", base, d.ID, key)
	}
	if remote {
		fmt.Fprintf(c.stderr, "WARNING: listening on %s beyond loopback (--allow-remote): other machines reach the Firehose route /aws/firehose/{drainId}; the console and its API answer only on this machine.\n", *listen)
	}
	fmt.Fprintf(c.stdout, "Serving on %s (problems: %s/, drains: %s/drains, logs: %s/logs). Data in %s. Ctrl-C stops.\n", base, base, base, base, f.data)

	gctx, stopGrouper := context.WithCancel(ctx)
	grouperDone := make(chan struct{})
	go func() {
		defer close(grouperDone)
		_ = srv.RunGrouper(gctx)
	}()
	alertsDone := make(chan struct{})
	go func() {
		defer close(alertsDone)
		_ = srv.RunAlerts(gctx)
	}()
	retentionDone := make(chan struct{})
	go func() {
		defer close(retentionDone)
		srv.RunLogRetention(gctx)
	}()
	err = serveUntilDone(ctx, newHTTPServer(srv.Handler(), serveTimeouts), ln)
	stopGrouper()
	<-grouperDone
	<-alertsDone
	<-retentionDone
	return err
}

// listenHosts are the host names the console answers to besides the loopback ones: the
// listen address's own host.
func listenHosts(listen string) []string {
	host, _, err := net.SplitHostPort(listen)
	if err != nil || host == "" {
		return nil
	}
	return []string{host}
}

// serveUntilDone serves on ln until ctx ends, then shuts the server down gracefully.
func serveUntilDone(ctx context.Context, hs *http.Server, ln net.Listener) error {
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	var err error
	select {
	case err = <-serveErr:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = hs.Shutdown(sctx)
		cancel()
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// serveAWS serves the console over a deployed stack's tables, with the operator's own
// credentials, on a loopback address; no ingest runs in it.
func (c *command) serveAWS(ctx context.Context, f *flags, listen string, remote bool) error {
	if remote {
		return usageError("serve --backend aws listens on loopback only: it reads the stack with your credentials")
	}
	cfg, err := f.awsConfig(ctx, "--drains-table", "--problems-table")
	if err != nil {
		return err
	}
	db := dynamodb.NewFromConfig(cfg)
	log := slog.New(slog.NewTextHandler(c.stderr, nil))
	ps := problemsddb.New(db, f.problemsTable)
	con := console.New(console.Backend{
		Problems: ps,
		Drains:   drainsddb.New(db, f.drainsTable),
		Actions:  ps,
	}, console.Config{EndpointBase: f.endpointBase, Hosts: listenHosts(listen), Logger: log})
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", listen, err)
	}
	base := "http://" + ln.Addr().String()
	what := "tables " + f.drainsTable + " and " + f.problemsTable
	if f.stack != "" {
		what = "stack " + f.stack + " (" + what + ")"
	}
	fmt.Fprintf(c.stdout, "Serving the console of %s on %s (problems: %s/, drains: %s/drains), read with your AWS credentials; no ingest runs here. Ctrl-C stops.\n", what, base, base, base)
	return serveUntilDone(ctx, newHTTPServer(con.Handler(), serveTimeouts), ln)
}
