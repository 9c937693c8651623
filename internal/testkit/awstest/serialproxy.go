package awstest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"testing"
)

// serialProxy puts a reverse proxy in front of moto that forwards one request at a time,
// and returns its URL; with an account, every request it forwards acts in that account.
// Serial does the same for the test's own clients; the proxy extends it to other
// processes (the real bootstrap binaries the deploy tests run), and the lock is the
// server's, so the proxies of all the tests sharing one server take turns too. It is
// needed for more than single-item atomicity: moto's TransactWriteItems backs up the
// table before it starts and restores that backup when the transaction is cancelled, so a
// cancelled transaction running beside another writer erases that writer's items — a
// committed problem update can lose its occurrence records, and a redelivery then counts
// them again. DynamoDB isolates transactions; one request at a time gives moto that
// property, and nothing more: callers still interleave request by request.
func (s *server) serialProxy(t testing.TB, account string) (string, error) {
	target, err := url.Parse(s.url)
	if err != nil {
		return "", fmt.Errorf("moto endpoint %q: %w", s.url, err)
	}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Host = pr.In.Host // moto builds queue URLs from it: they name this proxy
		if account != "" {
			pr.Out.Header.Set(accountHeader, account)
		}
	}}
	tr := newTransport()
	rp.Transport = tr
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listen for the moto proxy: %w", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() {
		_ = srv.Close()
		tr.CloseIdleConnections()
	})
	return "http://" + l.Addr().String(), nil
}
