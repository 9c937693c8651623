package ingest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/cwpayload"
	"github.com/aient/firehose-drain/pkg/ingest"
)

// countingBody is a request body of n bytes that counts what is read of it, without
// holding them in memory.
type countingBody struct {
	left int64
	read atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), b.left))
	for i := range n {
		p[i] = ' '
	}
	b.left -= int64(n)
	b.read.Add(int64(n))
	return n, nil
}

func (b *countingBody) Close() error { return nil }

// An unauthenticated request costs one digest: not a byte of its 63 MiB body is read.
func TestServeHTTPAuthenticatesBeforeReadingTheBody(t *testing.T) {
	r := newRig(t)
	for name, c := range map[string]struct {
		path, key string
		status    int
	}{
		"unknown drain, junk key": {"/aws/firehose/drn_nosuch", "fhd_junk", 401},
		"known drain, wrong key":  {"/aws/firehose/" + drainID, "fhd_junk", 401},
		"no key":                  {"/aws/firehose/" + drainID, "", 401},
		"revoked drain":           {"/aws/firehose/" + revokedID, key, 403},
		"right key":               {"/aws/firehose/" + drainID, key, 400}, // the body is read: all spaces
	} {
		body := &countingBody{left: 63 << 20}
		req := httptest.NewRequest(http.MethodPost, c.path, body)
		req.Header.Set("X-Amz-Firehose-Request-Id", reqID)
		if c.key != "" {
			req.Header.Set("X-Amz-Firehose-Access-Key", c.key)
		}
		rec := httptest.NewRecorder()
		r.h.ServeHTTP(rec, req)
		a := decodeAnswer(t, rec.Code, rec.Body.Bytes())
		if a.Status != c.status {
			t.Errorf("%s: answered %d %q, want %d", name, a.Status, a.ErrorMessage, c.status)
		}
		read := body.read.Load()
		if c.status == 400 && read != 63<<20 {
			t.Errorf("%s: read %d bytes of an authenticated body, want all of it", name, read)
		}
		if c.status != 400 && read != 0 {
			t.Errorf("%s: read %d bytes of the body before refusing it", name, read)
		}
	}
}

// blockingBody is a body whose first Read waits for release; it counts the bodies being
// read at once.
type blockingBody struct {
	started      bool
	active, peak *atomic.Int64
	release      <-chan struct{}
	entered      chan<- struct{}
	mu           *sync.Mutex
	done         bool
}

func (b *blockingBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	if !b.started {
		b.started = true
		n := b.active.Add(1)
		b.mu.Lock()
		if n > b.peak.Load() {
			b.peak.Store(n)
		}
		b.mu.Unlock()
		b.entered <- struct{}{}
		<-b.release
		b.active.Add(-1)
	}
	b.done = true
	return copy(p, "{}"), nil
}

func (b *blockingBody) Close() error { return nil }

// Authenticated requests read their bodies a bounded number at a time.
func TestServeHTTPBoundsConcurrentBodyReads(t *testing.T) {
	r := newRig(t)
	h := ingest.New(r.auth, r.books, r.claims, r.sender, ingest.Config{
		Limits: cwpayload.DefaultLimits(), MaxConcurrentBodies: 2, Now: func() time.Time { return r.now },
	})
	var (
		active, peak atomic.Int64
		mu           sync.Mutex
		wg           sync.WaitGroup
	)
	release := make(chan struct{})
	entered := make(chan struct{}, 8)
	const requests = 6
	for range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := &blockingBody{active: &active, peak: &peak, release: release, entered: entered, mu: &mu}
			req := httptest.NewRequest(http.MethodPost, "/aws/firehose/"+drainID, body)
			req.Header.Set("X-Amz-Firehose-Request-Id", reqID)
			req.Header.Set("X-Amz-Firehose-Access-Key", key)
			h.ServeHTTP(httptest.NewRecorder(), req)
		}()
	}
	// Two bodies are being read; the other four wait for a slot, not reading.
	<-entered
	<-entered
	select {
	case <-entered:
		t.Fatal("a third body is read while two are in progress")
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	wg.Wait()
	if p := peak.Load(); p != 2 {
		t.Fatalf("at most %d bodies were read at once, want 2", p)
	}
	if n := len(entered); n != requests-2 {
		t.Fatalf("%d more bodies were read after the first two, want %d", n, requests-2)
	}
}
