package awsconf

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// connsForTwoBursts sends two bursts of n concurrent requests through client and returns
// how many connections the server saw opened.
func connsForTwoBursts(t *testing.T, client interface {
	Do(*http.Request) (*http.Response, error)
}, n int,
) int64 {
	t.Helper()
	var opened atomic.Int64
	var release sync.WaitGroup
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		release.Wait() // every request of a burst in flight at once
		_, _ = io.WriteString(w, "{}")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	for range 2 {
		release.Add(1)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				req, _ := http.NewRequest(http.MethodPost, srv.URL, nil)
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			})
		}
		time.Sleep(50 * time.Millisecond) // let the burst's requests reach the server
		release.Done()
		wg.Wait()
	}
	return opened.Load()
}

// TestABurstReusesItsConnections: the second burst of 64 concurrent requests opens no
// connection with HTTPClient, where the SDK's default client opens all but 10 again.
func TestABurstReusesItsConnections(t *testing.T) {
	const n = 64
	if got := connsForTwoBursts(t, HTTPClient(), n); got != n {
		t.Errorf("HTTPClient: %d connections for two bursts of %d, want %d (the second burst reuses the first's)", got, n, n)
	}
	if got := connsForTwoBursts(t, awshttp.NewBuildableClient(), n); got <= n {
		t.Errorf("the SDK's default client: %d connections for two bursts of %d; the test no longer shows the default's limit", got, n)
	}
}

func TestLoadUsesTheClient(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-west-1")
	cfg, err := Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	bc, ok := cfg.HTTPClient.(*awshttp.BuildableClient)
	if !ok {
		t.Fatalf("HTTPClient is %T", cfg.HTTPClient)
	}
	if got := bc.GetTransport().MaxIdleConnsPerHost; got != IdleConnsPerHost {
		t.Errorf("MaxIdleConnsPerHost = %d, want %d", got, IdleConnsPerHost)
	}
}
