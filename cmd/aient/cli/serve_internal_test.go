package cli

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A client trickling its body is cut off at the read timeout; one holding an idle
// connection at the idle timeout. The test waits for the server to close each connection.
func TestListenerTimeoutsCutOffSlowClients(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := newHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}), timeouts{header: 200 * time.Millisecond, read: 300 * time.Millisecond, write: time.Second, idle: 300 * time.Millisecond})
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()

	closed := func(c net.Conn) bool {
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
		_, err := io.Copy(io.Discard, c)
		return err == nil || !strings.Contains(err.Error(), "timeout")
	}

	// Trickle: headers, then a byte of body every 100ms; the server gives up.
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "POST /aws/firehose/x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				if _, err := c.Write([]byte{'x'}); err != nil {
					return
				}
			}
		}
	}()
	ok := closed(c)
	close(stop)
	if !ok {
		t.Fatal("a trickling client kept its connection")
	}

	// Idle keep-alive connection.
	c2, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := io.WriteString(c2, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := http.ReadResponse(bufio.NewReader(c2), nil); err != nil {
		t.Fatal(err)
	}
	if !closed(c2) {
		t.Fatal("an idle connection was kept open")
	}
}

func TestServeTimeoutsAreSet(t *testing.T) {
	hs := newHTTPServer(http.NotFoundHandler(), serveTimeouts)
	if hs.ReadHeaderTimeout <= 0 || hs.ReadTimeout <= 0 || hs.IdleTimeout <= 0 || hs.WriteTimeout <= 0 {
		t.Fatalf("a timeout is unset: %+v", hs)
	}
}
