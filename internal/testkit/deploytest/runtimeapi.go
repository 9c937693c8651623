package deploytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Runtime API limits and paths (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
const (
	runtimeAPIPrefix = "/2018-06-01/runtime/"
	// MaxPayload is Lambda's limit on a synchronous invocation's request and response.
	MaxPayload = 6 * 1024 * 1024
)

// FunctionError is what a function reported on .../error or init/error (or the streamed
// error trailer): the runtime's error document.
type FunctionError struct {
	Type       string          `json:"errorType"`
	Message    string          `json:"errorMessage"`
	StackTrace json.RawMessage `json:"stackTrace,omitempty"`
	// Raw is the body as posted.
	Raw []byte `json:"-"`
}

// Error implements error.
func (e *FunctionError) Error() string {
	return fmt.Sprintf("function error %s: %s", e.Type, e.Message)
}

// Result is the outcome of one invocation: the response payload, or the function's error.
type Result struct {
	RequestID string
	// Payload is the body posted to .../response; nil when the function reported an error.
	Payload []byte
	// Err is the error the function reported on .../error; nil on success.
	Err *FunctionError
}

type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	done     chan *Result // buffered 1: written once by the response or error handler
}

// RuntimeAPI is an in-process Lambda Runtime API: a test queues invocations with Invoke,
// and a bootstrap process pointed at Address (AWS_LAMBDA_RUNTIME_API) long-polls
// .../invocation/next for them and posts .../response or .../error, as on Lambda.
type RuntimeAPI struct {
	srv       *httptest.Server
	queue     chan *invocation
	closing   chan struct{}
	closeOnce sync.Once
	initDone  chan struct{} // closed at the first init error
	initOnce  sync.Once

	// FunctionARN is sent as Lambda-Runtime-Invoked-Function-Arn.
	FunctionARN string

	mu      sync.Mutex
	pending map[string]*invocation // handed out by next, awaiting response or error
	initErr *FunctionError         // set once, before initDone closes
}

// NewRuntimeAPI starts a Runtime API on a loopback port. Close it when done.
func NewRuntimeAPI() *RuntimeAPI {
	r := &RuntimeAPI{
		queue:       make(chan *invocation),
		closing:     make(chan struct{}),
		initDone:    make(chan struct{}),
		pending:     map[string]*invocation{},
		FunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:deploytest",
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimeAPIPrefix+"invocation/next", r.next)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"invocation/{id}/response", r.response)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"invocation/{id}/error", r.invocationError)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"init/error", r.initError)
	r.srv = httptest.NewServer(mux)
	return r
}

// Address is host:port, the value of AWS_LAMBDA_RUNTIME_API.
func (r *RuntimeAPI) Address() string { return strings.TrimPrefix(r.srv.URL, "http://") }

// Close releases any poll in progress and stops the server.
func (r *RuntimeAPI) Close() {
	r.closeOnce.Do(func() { close(r.closing) })
	r.srv.Close()
}

// InitError returns the first error a runtime reported on init/error, or nil.
func (r *RuntimeAPI) InitError() *FunctionError {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.initErr
}

// Invoke hands payload to the next poll of .../invocation/next with a deadline timeout
// from now, and waits for the function's response or error, for ctx, for an init error,
// or for stop to close (the process exited).
func (r *RuntimeAPI) Invoke(ctx context.Context, payload []byte, timeout time.Duration) (*Result, error) {
	return r.invoke(ctx, payload, timeout, nil)
}

func (r *RuntimeAPI) invoke(ctx context.Context, payload []byte, timeout time.Duration, stop <-chan struct{}) (*Result, error) {
	if len(payload) > MaxPayload {
		return nil, fmt.Errorf("invoke: payload of %d bytes exceeds Lambda's %d byte limit", len(payload), MaxPayload)
	}
	inv := &invocation{
		id:       newRequestID(),
		payload:  payload,
		deadline: time.Now().Add(timeout),
		done:     make(chan *Result, 1),
	}
	select {
	case r.queue <- inv:
	case <-ctx.Done():
		return nil, fmt.Errorf("invoke: no runtime polled for the invocation: %w", ctx.Err())
	case <-stop:
		return nil, errors.New("invoke: the function process exited before it polled for the invocation")
	case <-r.closing:
		return nil, errors.New("invoke: runtime API closed")
	case <-r.initDone:
		return nil, fmt.Errorf("invoke: the runtime reported an init error: %w", r.InitError())
	}
	select {
	case res := <-inv.done:
		return res, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("invoke %s: no response: %w", inv.id, ctx.Err())
	case <-stop:
		return nil, fmt.Errorf("invoke %s: the function process exited without a response", inv.id)
	case <-r.closing:
		return nil, errors.New("invoke: runtime API closed")
	}
}

func (r *RuntimeAPI) next(w http.ResponseWriter, req *http.Request) {
	var inv *invocation
	select {
	case inv = <-r.queue:
	case <-req.Context().Done():
		return
	case <-r.closing:
		http.Error(w, "runtime API closed", http.StatusGone)
		return
	}
	r.mu.Lock()
	r.pending[inv.id] = inv
	r.mu.Unlock()
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", r.FunctionARN)
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-"+strconv.FormatInt(time.Now().Unix(), 16)+"-"+inv.id[:24]+";Sampled=0")
	h.Set("Content-Type", "application/json")
	if _, err := w.Write(inv.payload); err != nil {
		r.finish(inv.id, &Result{RequestID: inv.id, Err: &FunctionError{Type: "Runtime.Unavailable", Message: "writing the invocation to the runtime: " + err.Error()}})
	}
}

// take removes a pending invocation; nil when the id is unknown or already answered.
func (r *RuntimeAPI) take(id string) *invocation {
	r.mu.Lock()
	defer r.mu.Unlock()
	inv := r.pending[id]
	delete(r.pending, id)
	return inv
}

func (r *RuntimeAPI) finish(id string, res *Result) {
	if inv := r.take(id); inv != nil {
		inv.done <- res
	}
}

func writeAPIError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"errorType": typ, "errorMessage": msg})
}

func (r *RuntimeAPI) response(w http.ResponseWriter, req *http.Request) {
	inv := r.take(req.PathValue("id"))
	if inv == nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "unknown or already answered request id")
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, MaxPayload+1))
	switch {
	case err != nil:
		inv.done <- &Result{RequestID: inv.id, Err: &FunctionError{Type: "Runtime.Unavailable", Message: "reading the response: " + err.Error()}}
		writeAPIError(w, http.StatusBadRequest, "InvalidResponse", err.Error())
		return
	case len(body) > MaxPayload:
		inv.done <- &Result{RequestID: inv.id, Err: &FunctionError{Type: "Function.ResponseSizeTooLarge", Message: "response payload exceeds 6 MB"}}
		writeAPIError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "response payload exceeds 6 MB")
		return
	}
	// A streamed response that failed midway carries the error in trailers.
	if typ := req.Trailer.Get("Lambda-Runtime-Function-Error-Type"); typ != "" {
		fe := &FunctionError{Type: typ, Raw: []byte(req.Trailer.Get("Lambda-Runtime-Function-Error-Body"))}
		_ = json.Unmarshal(fe.Raw, fe)
		inv.done <- &Result{RequestID: inv.id, Err: fe}
	} else {
		inv.done <- &Result{RequestID: inv.id, Payload: body}
	}
	w.WriteHeader(http.StatusAccepted)
}

// readFunctionError decodes an error document; a body that is not one is kept as Raw.
func readFunctionError(req *http.Request) *FunctionError {
	raw, err := io.ReadAll(io.LimitReader(req.Body, MaxPayload))
	fe := &FunctionError{Raw: raw}
	if err != nil {
		fe.Type, fe.Message = "Runtime.Unavailable", "reading the error: "+err.Error()
		return fe
	}
	if json.Unmarshal(raw, fe) != nil {
		fe.Message = string(raw)
	}
	if typ := req.Header.Get("Lambda-Runtime-Function-Error-Type"); fe.Type == "" {
		fe.Type = typ
	}
	return fe
}

func (r *RuntimeAPI) invocationError(w http.ResponseWriter, req *http.Request) {
	inv := r.take(req.PathValue("id"))
	if inv == nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "unknown or already answered request id")
		return
	}
	inv.done <- &Result{RequestID: inv.id, Err: readFunctionError(req)}
	w.WriteHeader(http.StatusAccepted)
}

func (r *RuntimeAPI) initError(w http.ResponseWriter, req *http.Request) {
	fe := readFunctionError(req)
	r.initOnce.Do(func() {
		r.mu.Lock()
		r.initErr = fe
		r.mu.Unlock()
		close(r.initDone)
	})
	w.WriteHeader(http.StatusAccepted)
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// builds are the bootstraps built by this test process, each once, in a directory of
// its own that RemoveBuilds removes.
var builds struct {
	sync.Mutex
	dir  string
	bins map[string]string // package -> binary
}

// BuildBootstrap builds a Lambda main package (for example "./functions/ingest") for this
// machine, the way the Makefile builds it for Lambda (CGO off, -tags lambda.norpc), and
// returns the path of the binary, named bootstrap. A package is built once per test
// process (its tests only run it); the package's TestMain removes the binaries with
// RemoveBuilds.
func BuildBootstrap(t testing.TB, pkg string) string {
	t.Helper()
	builds.Lock()
	defer builds.Unlock()
	if bin, ok := builds.bins[pkg]; ok {
		return bin
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("build %s: no go command: %v", pkg, err)
	}
	if builds.dir == "" {
		if builds.dir, err = os.MkdirTemp("", "deploytest-bootstraps-"); err != nil {
			t.Fatalf("build %s: %v", pkg, err)
		}
		builds.bins = map[string]string{}
	}
	dir := filepath.Join(builds.dir, strconv.Itoa(len(builds.bins)))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("build %s: %v", pkg, err)
	}
	out := filepath.Join(dir, "bootstrap")
	cmd := exec.Command(goBin, "build", "-tags", "lambda.norpc", "-trimpath", "-o", out, pkg)
	cmd.Dir = moduleRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	builds.bins[pkg] = out
	return out
}

// RemoveBuilds removes the binaries BuildBootstrap built (a TestMain calls it at the end).
func RemoveBuilds() {
	builds.Lock()
	defer builds.Unlock()
	if builds.dir != "" {
		_ = os.RemoveAll(builds.dir)
		builds.dir, builds.bins = "", nil
	}
}

func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// lockedBuffer collects a process's output while it runs.
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

// Function is a bootstrap binary running as a process against its own RuntimeAPI, as
// `sam local invoke` runs it in a container.
type Function struct {
	API *RuntimeAPI
	// Timeout is the deadline each invocation gets (the template's Timeout); default 60 s.
	Timeout time.Duration

	cmd     *exec.Cmd
	logs    *lockedBuffer
	exited  chan struct{}
	waitErr error // set before exited closes
}

// StartFunction runs binary with AWS_LAMBDA_RUNTIME_API pointed at a new RuntimeAPI. The
// process gets a Lambda-like environment (not the test's: no AWS profile leaks in), plus
// env, which wins over the defaults. Both stop when the test ends.
func StartFunction(t testing.TB, binary string, env map[string]string) *Function {
	t.Helper()
	api := NewRuntimeAPI()
	vars := map[string]string{
		"AWS_LAMBDA_RUNTIME_API":          api.Address(),
		"AWS_LAMBDA_FUNCTION_NAME":        "deploytest",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/deploytest",
		"AWS_LAMBDA_LOG_STREAM_NAME":      "2026/01/01/[$LATEST]deploytest",
		"AWS_REGION":                      "us-east-1",
		"AWS_DEFAULT_REGION":              "us-east-1",
		"LAMBDA_TASK_ROOT":                filepath.Dir(binary),
		"_HANDLER":                        "bootstrap",
		"HOME":                            t.TempDir(),
		"PATH":                            "/usr/local/bin:/usr/bin:/bin",
		"TZ":                              ":UTC",
	}
	for k, v := range env {
		vars[k] = v
	}
	f := &Function{API: api, Timeout: 60 * time.Second, logs: &lockedBuffer{}, exited: make(chan struct{})}
	f.cmd = exec.Command(binary)
	f.cmd.Dir = filepath.Dir(binary)
	for k, v := range vars {
		f.cmd.Env = append(f.cmd.Env, k+"="+v)
	}
	f.cmd.Stdout, f.cmd.Stderr = f.logs, f.logs
	if err := f.cmd.Start(); err != nil {
		api.Close()
		t.Fatalf("start %s: %v", binary, err)
	}
	go func() {
		f.waitErr = f.cmd.Wait()
		close(f.exited)
	}()
	t.Cleanup(func() {
		_ = f.cmd.Process.Kill()
		<-f.exited
		api.Close()
		if t.Failed() {
			t.Logf("function output:\n%s", f.logs.String())
		}
	})
	return f
}

// Stop kills the process and returns its state (its resource usage: peak RSS, CPU).
func (f *Function) Stop() *os.ProcessState {
	_ = f.cmd.Process.Kill()
	<-f.exited
	return f.cmd.ProcessState
}

// Invoke sends one event and waits for the answer. It fails fast when the process exits
// or reports an init error, with the process's output in the error.
func (f *Function) Invoke(ctx context.Context, payload []byte) (*Result, error) {
	res, err := f.API.invoke(ctx, payload, f.Timeout, f.exited)
	if err != nil {
		select {
		case <-f.exited:
			return nil, fmt.Errorf("%w (exit: %w)\noutput:\n%s", err, f.waitErr, f.logs.String())
		default:
		}
		return nil, err
	}
	return res, nil
}

// Exited reports whether the process has ended, and how.
func (f *Function) Exited() (bool, error) {
	select {
	case <-f.exited:
		return true, f.waitErr
	default:
		return false, nil
	}
}

// Logs is everything the process wrote to stdout and stderr so far.
func (f *Function) Logs() string { return f.logs.String() }

// Kill ends the process with SIGKILL, as Lambda ends a sandbox whose invocation ran past
// its deadline, and waits until it has exited. A Function is not restarted: start another.
func (f *Function) Kill() {
	_ = f.cmd.Process.Kill()
	<-f.exited
}
