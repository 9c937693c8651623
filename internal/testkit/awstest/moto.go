// Package awstest starts moto's server for tests of the AWS adapters: real HTTP, the real
// SDK, DynamoDB conditional writes and transactions, SQS and Secrets Manager.
package awstest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// RequireEnv makes a missing moto_server a failure instead of a skip (CI sets it).
const RequireEnv = "AIENT_REQUIRE_MOTO"

// Region is the region the tests' clients use.
const Region = "us-east-1"

// Moto is a running moto server.
type Moto struct {
	Endpoint string
	// transport is this server's own: a transport shared across tests would keep idle
	// connections to servers that earlier tests stopped, and fail on them.
	transport *http.Transport
}

// Start starts moto_server on a free loopback port and stops it when the test ends.
// Where moto_server is absent the test is skipped with how to install it, unless
// AIENT_REQUIRE_MOTO is set, which makes it a failure.
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
	port, err := freePort()
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.Env = append(os.Environ(), "MOTO_ALLOW_NONEXISTENT_REGION=true")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	m := &Moto{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), transport: newTransport()}
	t.Cleanup(func() {
		m.transport.CloseIdleConnections()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(m.Endpoint + "/moto-api/")
		if err == nil {
			_ = resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not answer on %s within 30s: %v", m.Endpoint, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	m.Endpoint = serialProxy(t, m.Endpoint)
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

// Transport is the server's own HTTP transport.
func (m *Moto) Transport() http.RoundTripper { return m.transport }

// Reset drops every resource moto holds.
func (m *Moto) Reset(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.Endpoint+"/moto-api/reset", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
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
