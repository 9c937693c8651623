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

	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/localserver"
)

func (c *command) serve(ctx context.Context, args []string) (err error) {
	f := c.newFlags("serve", false)
	listen := f.String("listen", "127.0.0.1:8080", "address to listen on")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("serve takes no arguments")
	}
	if f.backend != "embedded" && f.backend != "" {
		return usageError("serve runs over the embedded store only")
	}
	st, err := embedded.Open(f.data)
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
	srv := localserver.New(st, localserver.Config{EndpointBase: base, Logger: log})

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
		fmt.Fprintf(c.stdout, "\nTry it (a real CloudWatch delivery, and one with two errors):\n  go run ./cmd/aient send --endpoint %s/aws/firehose/%s --key %s events/url-cloudwatch-data.json events/url-gzip-request.json\n\n", base, d.ID, key)
	}
	fmt.Fprintf(c.stdout, "Serving on %s (problems: %s/, drains: %s/drains). Data in %s. Ctrl-C stops.\n", base, base, base, f.data)

	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 3 * time.Minute}
	gctx, stopGrouper := context.WithCancel(ctx)
	grouperDone := make(chan struct{})
	go func() {
		defer close(grouperDone)
		_ = srv.RunGrouper(gctx)
	}()
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()

	select {
	case err = <-serveErr:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = hs.Shutdown(sctx)
		cancel()
	}
	stopGrouper()
	<-grouperDone
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
