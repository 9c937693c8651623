package chaos_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aient/firehose-drain/internal/testkit/chaos"
	"github.com/aient/firehose-drain/pkg/embedded"
)

// serveSize is how much of the SIGKILL drill runs.
type serveSize struct {
	deliveries, parallel, kills int
	minUp, maxUp                time.Duration // how long the server lives between kills
	window                      time.Duration // Firehose's retry duration
	lease                       time.Duration // --lease: a killed delivery's claims come free after it
	budget                      time.Duration
}

func serveDrillSize() serveSize {
	if *longDrill {
		return serveSize{
			deliveries: 600, parallel: 4, kills: 200, minUp: 30 * time.Millisecond, maxUp: time.Second,
			window: 300 * time.Second, lease: 2 * time.Second, budget: 15 * time.Minute,
		}
	}
	return serveSize{
		deliveries: 40, parallel: 3, kills: 12, minUp: 30 * time.Millisecond, maxUp: 300 * time.Millisecond,
		window: 120 * time.Second, lease: 2 * time.Second, budget: 4 * time.Minute,
	}
}

// server is `aient serve` as a process on a fixed address, killed and restarted.
type server struct {
	bin, dir  string
	addr      string
	args      []string
	mu        sync.Mutex
	cmd       *exec.Cmd
	exited    chan struct{}
	endpoint  string // the drain's, from the first start's output
	accessKey string
	starts    int
}

var (
	endpointRE = regexp.MustCompile(`Endpoint URL:\s+(\S+)`)
	keyRE      = regexp.MustCompile(`X-Amz-Firehose-Access-Key:\s+(\S+)`)
)

// start runs the server and waits until it listens.
func (s *server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := exec.Command(s.bin, append([]string{"serve", "--listen", s.addr, "--data", s.dir}, s.args...)...)
	out := &lockedBuffer{}
	cmd.Stdout = out
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start aient serve: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.cmd, s.exited, s.starts = cmd, exited, s.starts+1
	deadline := time.Now().Add(30 * time.Second)
	for {
		// Up when it listens; on the first start, once it has printed the drain it made.
		if s.endpoint != "" || strings.Contains(out.String(), "Serving on") {
			if c, err := net.DialTimeout("tcp", s.addr, time.Second); err == nil {
				_ = c.Close()
				break
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("aient serve exited at start: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("aient serve did not listen on %s within 30s: %s", s.addr, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s.endpoint == "" {
		e, k := endpointRE.FindStringSubmatch(out.String()), keyRE.FindStringSubmatch(out.String())
		if e == nil || k == nil {
			return fmt.Errorf("aient serve's first start printed no drain: %q", out.String())
		}
		s.endpoint, s.accessKey = e[1], k[1]
	}
	return nil
}

// kill ends the server with SIGKILL and waits for it.
func (s *server) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
	s.cmd = nil
}

// stop ends the server gracefully (SIGTERM), or kills it after 10 s.
func (s *server) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

// TestDrillKillServe is the SIGKILL drill of the local server: `aient serve` (the embedded
// store: claims, durable queue, problems in one SQLite file) is killed with SIGKILL at
// random moments and restarted, while Firehose-like clients retry each delivery until a
// conforming 200. At the end every error event sent is counted exactly once.
func TestDrillKillServe(t *testing.T) {
	if testing.Short() {
		t.Skip("the SIGKILL drill builds aient and runs it as a process")
	}
	t.Parallel()
	size := serveDrillSize()
	seed := drillSeed(t)
	ctx, cancel := context.WithTimeout(t.Context(), size.budget)
	defer cancel()
	rng := rand.New(rand.NewPCG(seed, 3))
	work := newWorkload(rand.New(rand.NewPCG(seed, 4)), size.deliveries)

	bin := buildAient(t)
	srv := &server{bin: bin, dir: t.TempDir(), addr: freeAddr(t), args: []string{"--lease", size.lease.String(), "--group-timeout", "2s"}}
	if err := srv.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.kill)
	tally := &chaos.Counter{}

	start := time.Now()
	deliveriesDone := make(chan struct{})
	killerDone := make(chan struct{})
	go func() {
		defer close(killerDone)
		for range size.kills {
			up := size.minUp + time.Duration(rng.Int64N(int64(size.maxUp-size.minUp)))
			select {
			case <-deliveriesDone:
				return
			case <-ctx.Done():
				return
			case <-time.After(up):
			}
			srv.kill()
			tally.Add("kills (SIGKILL)", 1)
			if err := srv.start(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: size.parallel}}
	defer client.CloseIdleConnections()
	// Deliveries are spread over the kill schedule (Firehose sends a buffer every few
	// seconds), so the kills land on deliveries and on the grouper at work.
	span := time.Duration(size.kills) * (size.minUp + size.maxUp) / 2
	pause := 2 * span * time.Duration(size.parallel) / time.Duration(size.deliveries)
	jobs := make(chan delivery)
	var wg sync.WaitGroup
	for w := range size.parallel {
		wg.Add(1)
		prng := rand.New(rand.NewPCG(seed, uint64(10+w)))
		go func() {
			defer wg.Done()
			for dl := range jobs {
				postUntilOK(ctx, t, client, srv, dl, size.window, tally)
				time.Sleep(time.Duration(prng.Int64N(int64(pause) + 1)))
			}
		}()
	}
	for _, dl := range work.deliveries {
		jobs <- dl
	}
	close(jobs)
	wg.Wait()
	close(deliveriesDone)
	<-killerDone

	// The server runs on (unkilled) until the queue is empty: messages a killed grouper
	// had leased come back after their visibility timeout.
	st, err := embedded.Open(srv.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	var ready, inflight, dead int
	for ctx.Err() == nil {
		ready, inflight, dead, err = st.Queue().Depth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ready+inflight == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	srv.stop()
	elapsed := time.Since(start)
	ps, err := st.Problems().List(context.Background(), "local", "dev")
	if err != nil {
		t.Fatal(err)
	}
	counted, errs := work.check(ps)
	if dead > 0 {
		errs = append(errs, fmt.Errorf("%d messages dead-lettered", dead))
	}
	if ready+inflight > 0 {
		errs = append(errs, fmt.Errorf("the queue still holds %d messages (%d in flight)", ready+inflight, inflight))
	}
	if n := tally.Get("deliveries lost (retry duration over: to the S3 backup)"); n > 0 {
		errs = append(errs, fmt.Errorf("%d deliveries ran out of Firehose's retry duration", n))
	}
	if n := tally.Get("answers not Firehose's"); n > 0 {
		errs = append(errs, fmt.Errorf("%d answers were not Firehose answers", n))
	}
	if ctx.Err() != nil {
		errs = append(errs, fmt.Errorf("the drill did not finish within %v", size.budget))
	}

	s := &chaos.Summary{Title: fmt.Sprintf("SIGKILL drill against aient serve (embedded store), seed %d, %v", seed, elapsed.Round(time.Second))}
	s.Row("kills (SIGKILL)", tally.Get("kills (SIGKILL)"))
	s.Row("server starts", srv.starts)
	s.Row("deliveries", len(work.deliveries))
	s.Row("delivery attempts", tally.Get("delivery attempts"))
	s.Row("retries", tally.Get("delivery attempts")-int64(len(work.deliveries)))
	s.Counts("answers: ", tally.WithPrefix("answer "))
	s.Row("error events sent (repeats included)", work.sent)
	s.Row("distinct error events", work.distinct)
	s.Row("events counted in problems", counted)
	result := "PASS: every distinct error event counted exactly once"
	if len(errs) > 0 {
		result = fmt.Sprintf("FAIL: %v", errors.Join(errs...))
	}
	s.Row("result", result)
	report(t, s)
	for _, e := range errs {
		t.Error(e)
	}
}

// postUntilOK is Firehose delivering one batch to the local server: the same request
// until a conforming 200, with backoff, within the retry duration.
func postUntilOK(ctx context.Context, t *testing.T, client *http.Client, srv *server, dl delivery, window time.Duration, tally *chaos.Counter) {
	start := time.Now()
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		tally.Add("delivery attempts", 1)
		status, body, err := post(ctx, client, srv.endpoint, srv.accessKey, dl)
		if err != nil {
			tally.Add("answer none (connection refused, reset or timed out)", 1)
		} else {
			ok, what, aerr := firehoseAnswer(status, body, dl.requestID)
			tally.Add("answer "+what, 1)
			if aerr != nil {
				tally.Add("answers not Firehose's", 1)
				t.Errorf("delivery %s: %v", dl.requestID, aerr)
			}
			if ok {
				return
			}
			if status != 503 {
				t.Errorf("delivery %s: status %d (%s): only 200 or 503 are right for a valid delivery", dl.requestID, status, body)
			}
		}
		if time.Since(start) > window {
			tally.Add("deliveries lost (retry duration over: to the S3 backup)", 1)
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
}

func post(ctx context.Context, client *http.Client, endpoint, key string, dl delivery) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(dl.body))
	if err != nil {
		return 0, nil, err
	}
	for k, v := range firehoseHeaders(dl, key) {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(bufio.NewReader(resp.Body))
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, body, nil
}

// freeAddr is a loopback address nothing listens on (the server keeps it across restarts).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// lockedBuffer is a process's output, written while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// buildAient builds the aient command as deploytest builds the bootstraps (sharing the build
// cache with them).
func buildAient(t *testing.T) string {
	t.Helper()
	root, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "aient")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/aient")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(root)))
	// As deploytest builds the Lambda bootstraps (-trimpath, no cgo): the packages they share
	// are compiled once, and a fresh clone finds them in the build cache.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/aient: %v\n%s", err, out)
	}
	return bin
}
