package awstest

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
)

// serialProxy puts a reverse proxy in front of moto that forwards one request at a time,
// and returns its URL. Serial does the same for the test's own clients; the proxy extends
// it to other processes (the real bootstrap binaries the deploy tests run). It is needed
// for more than single-item atomicity: moto's TransactWriteItems backs up the whole table
// before it starts and restores that backup when the transaction is cancelled, so a
// cancelled transaction running beside another writer erases that writer's items — a
// committed problem update can lose its occurrence records, and a redelivery then counts
// them again. DynamoDB isolates transactions; one request at a time gives moto that
// property, and nothing more: callers still interleave request by request.
func serialProxy(t testing.TB, upstream string) string {
	t.Helper()
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatalf("moto endpoint %q: %v", upstream, err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = newProxyTransport()
	var mu sync.Mutex
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen for the moto proxy: %v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + l.Addr().String()
}

// newProxyTransport is the proxy's transport to moto: its own, so that idle connections
// never outlive the server they were opened to.
func newProxyTransport() *http.Transport {
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		return t.Clone()
	}
	return &http.Transport{Proxy: http.ProxyFromEnvironment}
}
