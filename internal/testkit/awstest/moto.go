// Package awstest starts moto's server for tests of the AWS adapters: real HTTP, the real
// SDK, DynamoDB conditional writes and transactions, SQS and Secrets Manager.
//
// One server per test package: a package whose tests use moto runs them through Main,
//
//	func TestMain(m *testing.M) { awstest.Main(m) }
//
// and each Start then hands the test its own AWS account on the package's one server (moto
// keeps every account's tables, queues and secrets apart), so tests keep their fixed names
// and never see each other's resources. Without Main, Start starts a server per test.
//
// The server runs with motopatch (motopatch/sitecustomize.py, on its PYTHONPATH), two fixes
// of moto's own CPU costs that change none of its answers: a TransactWriteItems backs up each
// of its tables once, not once per item (a 100-item transaction deep-copied the whole table
// 100 times), and the Host header is checked against moto's list of services listed once,
// not on every request. AIENT_MOTO_UNPATCHED=1 runs moto as installed.
package awstest

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// RequireEnv makes a missing moto_server a failure instead of a skip (CI sets it).
const RequireEnv = "AIENT_REQUIRE_MOTO"

// Region is the region the tests' clients use.
const Region = "us-east-1"

// DefaultAccount is moto's account when a request names none (a server of the test's own).
const DefaultAccount = "123456789012"

// accountHeader picks the account of a request on moto's server.
const accountHeader = "x-moto-account-id"

// Moto is a running moto server, as one test sees it.
type Moto struct {
	// Endpoint is the test's way in: a proxy that sends one request at a time into moto
	// (see serialProxy) in the test's own account.
	Endpoint string
	// Account is the AWS account the test's requests act in.
	Account string
	// transport is this test's own: a transport shared across tests would keep idle
	// connections to servers (or proxies) that earlier tests stopped, and fail on them.
	transport *http.Transport
}

// server is one moto_server process.
type server struct {
	url  string // moto itself, not a proxy
	cmd  *exec.Cmd
	stop func()
	// patchDir holds motopatch and what it applied ("" without it: UnpatchedEnv).
	patchDir string
	// accounts holds one lock per account: one request at a time into an account,
	// whichever proxy sends it (see serialProxy); accounts apart take no turns.
	accountsMu sync.Mutex
	accounts   map[string]*sync.Mutex
}

// lock is the account's lock on s.
func (s *server) lock(account string) *sync.Mutex {
	s.accountsMu.Lock()
	defer s.accountsMu.Unlock()
	if s.accounts == nil {
		s.accounts = map[string]*sync.Mutex{}
	}
	mu, ok := s.accounts[account]
	if !ok {
		mu = new(sync.Mutex)
		s.accounts[account] = mu
	}
	return mu
}

// pkgServer is the package's one server under Main: started by the first Start that needs
// it, stopped when the package's tests end.
var pkgServer struct {
	sync.Mutex
	main     bool // Main is running the tests
	srv      *server
	err      error // the first start's failure, given to every test after it
	accounts atomic.Int64
}

// Main runs a test package's tests with one moto server for all of them, then atExit (the
// package's own clean-up: binaries built once for all its tests), and exits.
func Main(m *testing.M, atExit ...func()) {
	pkgServer.Lock()
	pkgServer.main = true
	pkgServer.Unlock()
	code := m.Run()
	pkgServer.Lock()
	if pkgServer.srv != nil {
		pkgServer.srv.stop()
	}
	pkgServer.Unlock()
	for _, f := range atExit {
		f()
	}
	os.Exit(code)
}

// Start gives the test a moto server: the package's (in an account of the test's own)
// under Main, else one started for the test and stopped when it ends. Where moto_server
// is absent the test is skipped with how to install it, unless AIENT_REQUIRE_MOTO is set,
// which makes it a failure.
func Start(t testing.TB) *Moto {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		msg := "moto_server not found: install it with `pip install 'moto[server]'` to run the AWS adapter tests"
		if os.Getenv(RequireEnv) != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	pkgServer.Lock()
	if !pkgServer.main {
		pkgServer.Unlock()
		srv, err := startServer(bin)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.stop)
		return srv.open(t, "")
	}
	if pkgServer.srv == nil && pkgServer.err == nil {
		pkgServer.srv, pkgServer.err = startServer(bin)
	}
	srv, err := pkgServer.srv, pkgServer.err
	pkgServer.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	// 12 digits, never moto's default, one per test.
	return srv.open(t, strconv.FormatInt(100000000000+pkgServer.accounts.Add(1), 10))
}

// UnpatchedEnv is the variable that, set, runs moto_server as installed, without motopatch
// (to compare).
const UnpatchedEnv = "AIENT_MOTO_UNPATCHED"

// motopatch is a sitecustomize.py that moto_server's Python loads at startup: it takes out
// two costs of moto's own that change no answer (a transaction's backup of a table copied
// once per item instead of once, and a directory listing on every request). See the file.
//
//go:embed motopatch/sitecustomize.py
var motopatch []byte

// patchApplied is the file, in the server's patch directory, where motopatch names each fix
// it applied.
const patchApplied = "applied"

// startServer starts moto_server on a free loopback port and waits until it answers.
func startServer(bin string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("free port: %w", err)
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Env = append(os.Environ(), "MOTO_ALLOW_NONEXISTENT_REGION=true")
	var patchDir string
	if os.Getenv(UnpatchedEnv) == "" {
		if patchDir, err = os.MkdirTemp("", "awstest-motopatch-"); err != nil {
			return nil, fmt.Errorf("moto patch: %w", err)
		}
		if err := os.WriteFile(filepath.Join(patchDir, "sitecustomize.py"), motopatch, 0o600); err != nil {
			_ = os.RemoveAll(patchDir)
			return nil, fmt.Errorf("moto patch: %w", err)
		}
		path := patchDir
		if old := os.Getenv("PYTHONPATH"); old != "" {
			path += string(os.PathListSeparator) + old
		}
		cmd.Env = append(cmd.Env, "PYTHONPATH="+path, "AIENT_MOTO_PATCH_MARK="+filepath.Join(patchDir, patchApplied))
	}
	if err := cmd.Start(); err != nil {
		if patchDir != "" {
			_ = os.RemoveAll(patchDir)
		}
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	s := &server{url: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, patchDir: patchDir}
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			if patchDir != "" {
				_ = os.RemoveAll(patchDir)
			}
		})
	}
	probe := &http.Client{Transport: newTransport(), Timeout: 5 * time.Second}
	defer probe.CloseIdleConnections()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := probe.Get(s.url + "/moto-api/")
		if err == nil {
			_ = resp.Body.Close()
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("moto_server did not answer on %s within 30s: %w", s.url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// open is the test's view of s: a proxy of its own into s in account (moto's default
// when empty), closed when the test ends.
func (s *server) open(t testing.TB, account string) *Moto {
	t.Helper()
	endpoint, err := s.serialProxy(t, account)
	if err != nil {
		t.Fatal(err)
	}
	m := &Moto{Endpoint: endpoint, Account: account, transport: newTransport()}
	if account == "" {
		m.Account = DefaultAccount
	}
	t.Cleanup(m.transport.CloseIdleConnections)
	return m
}

// Config is an SDK config that talks to this moto server with dummy credentials. Its
// requests go one at a time (see Serial), so each is atomic, as on AWS. The SDK's default
// retries stay on, as in production: moto's server answers with Connection: close and
// now and then resets a connection, which the SDK retries like any reset on AWS — so the
// adapters are tested against retried requests whose first attempt may have landed.
func (m *Moto) Config() aws.Config {
	return m.ConfigWith(m.transport)
}

// ConfigWith is Config with requests sent through rt (to count or fail them); Transport
// gives the server's own transport to wrap.
func (m *Moto) ConfigWith(rt http.RoundTripper) aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(m.Endpoint),
		HTTPClient:   Serial(rt),
	}
}

// Serial is an HTTP client that sends one request at a time. moto applies a request's
// read-modify-write without a lock, so two concurrent conditional writes on one item can
// both pass their condition, or lose an ADD — which DynamoDB never does: each of its
// single requests is atomic. Sending requests one at a time restores that guarantee and
// nothing more: callers still run concurrently and interleave request by request, so a
// design that needs more than one request to stay correct is still put to the test.
func Serial(rt http.RoundTripper) aws.HTTPClient {
	return &serialClient{c: &http.Client{Transport: rt}}
}

type serialClient struct {
	mu sync.Mutex
	c  *http.Client
}

func (s *serialClient) Do(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c.Do(r)
}

// Transport is the test's own HTTP transport to the server.
func (m *Moto) Transport() http.RoundTripper { return m.transport }

// Reset drops every resource moto holds, in every account: only for a server of the
// test's own (Start without Main).
func (m *Moto) Reset(ctx context.Context) error {
	if m.Account != DefaultAccount {
		return errors.New("awstest: Reset would drop the resources of every test of the package's shared server")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.Endpoint+"/moto-api/reset", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: m.transport}).Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// newTransport is a transport of the server's own, with the default's settings.
func newTransport() *http.Transport {
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		return t.Clone()
	}
	return &http.Transport{Proxy: http.ProxyFromEnvironment}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		_ = l.Close()
		return 0, fmt.Errorf("listener address %v is not TCP", l.Addr())
	}
	return addr.Port, l.Close()
}
