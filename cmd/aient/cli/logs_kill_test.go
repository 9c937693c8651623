package cli_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
	"github.com/aient/firehose-drain/pkg/logs"
)

// built is the real aient command, built once for the package's tests that run it as a
// process (TestMain removes it).
var built struct {
	sync.Mutex
	dir, bin string
}

// buildAient builds the real aient command (once per test process) and returns its path.
func buildAient(t *testing.T) string {
	t.Helper()
	built.Lock()
	defer built.Unlock()
	if built.bin != "" {
		return built.bin
	}
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	dir, err := os.MkdirTemp("", "cli-aient-")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "aient")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/aient")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	// As deploytest builds the Lambda bootstraps (-trimpath, no cgo): the packages they share
	// are compiled once, and a fresh clone finds them in the build cache.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		t.Fatalf("go build ./cmd/aient: %v\n%s", err, out)
	}
	built.dir, built.bin = dir, bin
	return bin
}

// removeAient removes the command buildAient built.
func removeAient() {
	built.Lock()
	defer built.Unlock()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
}

// serveProcess starts `aient serve [args]` as a process of its own on dir and returns its
// base URL.
func serveProcess(t *testing.T, bin, dir string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--data", dir}, args...)...)
	cmd.Stderr = io.Discard
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case base := <-found:
		return cmd, base
	case <-time.After(60 * time.Second):
		t.Fatal("aient serve did not start")
	}
	return nil, ""
}

// killDelivery is delivery n of poster p: lines unique to it, at most a minute old.
func killDelivery(p, n, lines int, at int64) []byte {
	evs := make([]fht.LogEvent, lines)
	for i := range evs {
		evs[i] = fht.LogEvent{
			ID:        fmt.Sprintf("p%dn%di%d", p, n, i),
			Timestamp: at + int64(i),
			Message:   fmt.Sprintf("kill drill poster %d delivery %d line %d", p, n, i),
		}
	}
	return fht.Body(fmt.Sprintf("req-%d-%d", p, n), fht.Record("/aws/lambda/drill", fmt.Sprintf("stream-%d", p), evs...))
}

// post sends a delivery; it returns the status, or 0 when there was no answer.
func postDelivery(base, id, key string, body []byte) int {
	var b struct {
		RequestID string `json:"requestId"`
	}
	_ = json.Unmarshal(body, &b)
	req, err := http.NewRequest(http.MethodPost, base+"/aws/firehose/"+id, bytes.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("X-Amz-Firehose-Request-Id", b.RequestID)
	req.Header.Set("X-Amz-Firehose-Access-Key", key)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// allLines pages through GET /api/logs and counts each line's event id.
func allLines(t *testing.T, base string) map[string]int {
	t.Helper()
	seen := map[string]int{}
	cursor := ""
	for {
		u := base + "/api/logs?limit=1000"
		if cursor != "" {
			u += "&cursor=" + cursor
		}
		status, body := getLogsJSON(t, u)
		var p logs.Page
		if status != 200 || json.Unmarshal(body, &p) != nil {
			t.Fatalf("GET %s: %d %s", u, status, body)
		}
		for _, l := range p.Logs {
			seen[l.EventID]++
		}
		if p.Next == "" {
			return seen
		}
		cursor = p.Next
	}
}

// The real `aient serve` process is killed with SIGKILL while four Firehose streams post to
// it; restarted, it has every line of every delivery it answered 200, and Firehose's retries
// of all of them (answered or not) store each line exactly once.
func TestLogStoreSurvivesSIGKILLOfTheServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real server")
	}
	bin := buildAient(t)
	dir := t.TempDir()
	id, key := createDrain(t, dir, "drains", "create", "--org", "acme", "--env", "prod", "--json")
	cmd, base := serveProcess(t, bin, dir)

	const posters, lines = 4, 400
	at := time.Now().Add(-time.Minute).UnixMilli()
	var mu sync.Mutex
	answered := map[[2]int]bool{} // (poster, delivery) answered 200
	sent := map[[2]int]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for p := range posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				sent[[2]int{p, n}] = true
				mu.Unlock()
				st := postDelivery(base, id, key, killDelivery(p, n, lines, at))
				if st == 0 {
					return // the server is gone
				}
				if st == 200 {
					mu.Lock()
					answered[[2]int{p, n}] = true
					mu.Unlock()
				}
			}
		}()
	}
	// Kill it mid-stream: once it has answered a few deliveries, with requests in flight.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		n := len(answered)
		mu.Unlock()
		if n >= 12 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d deliveries answered in a minute", n)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	close(stop)
	wg.Wait()

	_, base = serveProcess(t, bin, dir)
	seen := allLines(t, base)
	for d := range answered {
		for i := range lines {
			if eid := fmt.Sprintf("p%dn%di%d", d[0], d[1], i); seen[eid] != 1 {
				t.Fatalf("line %s of a delivery answered 200 is stored %d times after the SIGKILL", eid, seen[eid])
			}
		}
	}
	for eid, n := range seen {
		if n != 1 {
			t.Errorf("line %s stored %d times", eid, n)
		}
	}
	t.Logf("%d deliveries answered 200 before the SIGKILL, %d sent; %d lines stored", len(answered), len(sent), len(seen))

	// Firehose retries what it sent, answered or not: every line once.
	for d := range sent {
		if st := postDelivery(base, id, key, killDelivery(d[0], d[1], lines, at)); st != 200 {
			t.Fatalf("retry of delivery %v: %d", d, st)
		}
	}
	seen = allLines(t, base)
	if len(seen) != len(sent)*lines {
		t.Errorf("after the retries %d lines, want %d", len(seen), len(sent)*lines)
	}
	for eid, n := range seen {
		if n != 1 {
			t.Errorf("after the retries line %s is stored %d times", eid, n)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "logs.db")); err != nil {
		t.Errorf("the log store is not in the data dir: %v", err)
	}
}
