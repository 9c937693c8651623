package embedded_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/dedup"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/problems"
)

// The test binary doubles as a second process: with these variables set, TestMain runs
// workload instead of the tests.
const (
	envChildDir  = "EMBEDDED_TEST_CHILD_DIR"
	envChildName = "EMBEDDED_TEST_CHILD_NAME"
	envChildN    = "EMBEDDED_TEST_CHILD_N"
	envChildHang = "EMBEDDED_TEST_CHILD_HANG"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(envChildDir); dir != "" {
		n, err := strconv.Atoi(os.Getenv(envChildN))
		switch {
		case err != nil:
		case os.Getenv(envChildHang) != "":
			err = sendAndHang(context.Background(), dir, n)
		default:
			err = workload(context.Background(), dir, os.Getenv(envChildName), n, os.Stdout)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const sharedDrain = "drn_shared"

// workload is what each "process" does on one data dir, starting from nothing: create the
// shared drain (whoever is first), then n rounds of the server's writes — enqueue events,
// record a delivery, record an occurrence of its own and one that every process records,
// claim an identity every process claims — and finally print a digest of the pepper, so
// that processes can tell whether they agree without the pepper leaving the process.
func workload(ctx context.Context, dir, name string, n int, out *os.File) error {
	s, err := embedded.Open(dir)
	if err != nil {
		return err
	}
	defer s.Close()
	err = s.Drains().Create(ctx, drains.Drain{ID: sharedDrain, Org: "acme", Env: "prod", State: drains.StateActive})
	if err != nil && !errors.Is(err, drains.ErrExists) {
		return err
	}
	now := time.UnixMilli(1_800_000_000_000).UTC()
	for i := range n {
		if err := s.Queue().Send(ctx, events(i*5, i*5+5)); err != nil {
			return fmt.Errorf("%s round %d: %w", name, i, err)
		}
		d := drains.Delivery{At: now, Data: true, Counters: drains.Counters{Deliveries: 1, Events: 5}}
		if err := s.Drains().RecordDelivery(ctx, sharedDrain, d); err != nil {
			return fmt.Errorf("%s round %d: %w", name, i, err)
		}
		for _, identity := range []string{name + "-" + strconv.Itoa(i), "everyone-" + strconv.Itoa(i)} {
			o := problems.Occurrence{
				Identity: identity, Org: "acme", Env: "prod", Fingerprint: "fp",
				Title: "Error: boom", Level: "error", At: now.Add(time.Duration(i) * time.Millisecond),
				Sample: problems.Sample{LogGroup: "/aws/lambda/" + name},
			}
			if _, err := s.Problems().Record(ctx, o); err != nil {
				return fmt.Errorf("%s round %d: %w", name, i, err)
			}
		}
		c := dedup.Claim{Key: "claim-" + strconv.Itoa(i), Token: name, LeaseUntil: now.Add(time.Minute), ExpiresAt: now.Add(24 * time.Hour)}
		outcome, err := s.Claims().Claim(ctx, c, now)
		if err != nil {
			return fmt.Errorf("%s round %d: %w", name, i, err)
		}
		if outcome == dedup.Fresh {
			fmt.Fprintf(out, "fresh %d\n", i)
		}
	}
	p, err := s.Pepper(ctx)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(p)
	fmt.Fprintf(out, "pepper %s\n", hex.EncodeToString(sum[:]))
	return nil
}

// sendAndHang is a server that dies mid-way: it enqueues n events one Send at a time,
// leases the first half, says so, and hangs until it is killed.
func sendAndHang(ctx context.Context, dir string, n int) error {
	s, err := embedded.Open(dir)
	if err != nil {
		return err
	}
	for i := range n {
		if err := s.Queue().Send(ctx, events(i, i+1)); err != nil {
			return err
		}
	}
	if _, err := s.Queue().Receive(ctx, n/2, time.Minute); err != nil {
		return err
	}
	fmt.Println("sent")
	time.Sleep(time.Hour) // until killed
	return errors.New("was not killed")
}

// result is what one workload printed.
type result struct {
	fresh  int
	pepper string
}

func parseResult(t *testing.T, out []byte) result {
	t.Helper()
	var r result
	for line := range strings.Lines(string(out)) {
		switch f := strings.Fields(line); f[0] {
		case "fresh":
			r.fresh++
		case "pepper":
			r.pepper = f[1]
		}
	}
	if r.pepper == "" {
		t.Fatalf("workload printed no pepper: %q", out)
	}
	return r
}

// checkWorkloads checks the data dir after procs workloads of rounds rounds each ran on it.
func checkWorkloads(t *testing.T, dir string, procs, rounds int, results []result) {
	t.Helper()
	ctx := context.Background()
	s := openStore(t, dir)

	fresh := 0
	for _, r := range results {
		fresh += r.fresh
		if r.pepper != results[0].pepper {
			t.Errorf("processes disagree on the pepper: %s vs %s", r.pepper, results[0].pepper)
		}
	}
	if fresh != rounds {
		t.Errorf("%d claims were fresh, want exactly one per key: %d", fresh, rounds)
	}

	ready, inflight, dead, err := s.Queue().Depth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := procs * rounds * 5; ready != want || inflight != 0 || dead != 0 {
		t.Errorf("queue depth = %d ready, %d inflight, %d dead; want %d ready", ready, inflight, dead, want)
	}

	d, err := s.Drains().Get(ctx, sharedDrain)
	if err != nil {
		t.Fatal(err)
	}
	if want := (drains.Counters{Deliveries: int64(procs * rounds), Events: int64(procs * rounds * 5)}); d.Counters != want {
		t.Errorf("drain counters = %+v, want %+v", d.Counters, want)
	}

	ps, err := s.Problems().List(ctx, "acme", "prod")
	if err != nil {
		t.Fatal(err)
	}
	// Each process's own occurrences, plus the shared ones counted once.
	if want := int64(procs*rounds + rounds); len(ps) != 1 || ps[0].Count != want {
		t.Fatalf("problems = %+v, want one with count %d", ps, want)
	}
	if len(ps[0].LogGroups) != procs {
		t.Errorf("log groups = %v, want one per process", ps[0].LogGroups)
	}
}

func TestTwoHandlesOnOneDirWriteAtOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	const procs, rounds = 2, 150
	var (
		wg   sync.WaitGroup
		outs = make([]string, procs)
		errs = make([]error, procs)
	)
	for i := range procs {
		wg.Go(func() {
			f, err := os.CreateTemp(t.TempDir(), "out")
			if err != nil {
				errs[i] = err
				return
			}
			defer f.Close()
			errs[i] = workload(context.Background(), dir, "handle"+strconv.Itoa(i), rounds, f)
			outs[i] = f.Name()
		})
	}
	wg.Wait()
	results := make([]result, procs)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("handle %d: %v", i, err)
		}
		out, err := os.ReadFile(outs[i])
		if err != nil {
			t.Fatal(err)
		}
		results[i] = parseResult(t, out)
	}
	checkWorkloads(t, dir, procs, rounds, results)
}

func TestThreeProcessesOnOneDirWriteAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "data")
	const procs, rounds = 3, 150
	cmds := make([]*exec.Cmd, procs)
	outs := make([]*bytes.Buffer, procs)
	errs := make([]*bytes.Buffer, procs)
	for i := range procs {
		cmds[i] = exec.Command(exe, "-test.run=^$")
		cmds[i].Env = append(os.Environ(), envChildDir+"="+dir, envChildName+"=proc"+strconv.Itoa(i), envChildN+"="+strconv.Itoa(rounds))
		outs[i], errs[i] = new(bytes.Buffer), new(bytes.Buffer)
		cmds[i].Stdout, cmds[i].Stderr = outs[i], errs[i]
	}
	// Start them together on a dir that does not exist yet, so that they also race to
	// create the database, its schema and the pepper.
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	results := make([]result, procs)
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("process %d: %v\n%s", i, err, errs[i])
		}
		results[i] = parseResult(t, outs[i].Bytes())
	}
	checkWorkloads(t, dir, procs, rounds, results)
}

func TestAKilledServerLosesNoQueuedEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	const n = 40
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), envChildDir+"="+dir, envChildN+"="+strconv.Itoa(n), envChildHang+"=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if line != "sent\n" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("server said %q, %v; stderr:\n%s", line, err, stderr.String())
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no Close, no deferred cleanup
		t.Fatal(err)
	}
	_ = cmd.Wait()

	// The next server, after the dead one's leases ran out, gets every event once.
	clk := &clock{now: time.Now().Add(2 * time.Minute)}
	q := openStore(t, dir, embedded.WithClock(clk.Now)).Queue()
	msgs, err := q.Receive(context.Background(), 2*n, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		seen[m.Event.ID] = true
	}
	for i := range n {
		if !seen[errorEvent(i).ID] {
			t.Errorf("event %d was lost", i)
		}
	}
	if len(msgs) != n {
		t.Errorf("received %d messages, want %d", len(msgs), n)
	}
}
