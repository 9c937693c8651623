package awstest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"testing"
)

// serialProxy puts a reverse proxy in front of moto that forwards one request at a time
// into an account, and returns its URL; with an account, every request it forwards acts
// in that account. Serial does the same for the test's own clients; the proxy extends it
// to other processes (the real bootstrap binaries the deploy tests run), and the lock is
// the account's on the server, so every proxy into one account takes turns with the
// others. It is needed for more than single-item atomicity: moto's TransactWriteItems
// backs up the tables before it starts and restores that backup when the transaction is
// cancelled, so a cancelled transaction running beside another writer erases that
// writer's items — a committed problem update can lose its occurrence records, and a
// redelivery then counts them again. DynamoDB isolates transactions; one request at a
// time gives moto that property, and nothing more: callers still interleave request by
// request. Moto keeps each account's resources in a backend of its own (its tables, and
// the backup a transaction takes, are the account's; backends are created under moto's
// own lock), so requests into different accounts — different tests of a package — need
// no turns and run at once.
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
		mu := s.lock(account)
		mu.Lock()
		defer mu.Unlock()
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() {
		_ = srv.Close()
		tr.CloseIdleConnections()
	})
	return "http://" + l.Addr().String(), nil
}
