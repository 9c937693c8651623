package embedded_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/event"

	"github.com/aient/firehose-drain/pkg/embedded"
)

// openStore opens the store in dir and closes it when the test ends.
func openStore(t testing.TB, dir string, opts ...embedded.Option) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(dir, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// clock is a settable clock for the queue, safe for concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.UnixMilli(1_800_000_000_000).UTC()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// errorEvent is a distinct error-class event numbered n.
func errorEvent(n int) event.Event {
	return event.Event{
		Drain: "drn_test", Org: "acme", Env: "prod", Account: "123456789012", Region: "eu-west-1",
		LogGroup: "/aws/lambda/checkout", LogStream: "2026/11/21/[$LATEST]abc", ID: fmt.Sprintf("%056d", n),
		Timestamp: 1_800_000_000_000 + int64(n), Message: fmt.Sprintf("ERROR boom %d", n), Level: event.Error,
		Attributes: map[string]string{"requestId": fmt.Sprintf("req-%d", n)},
	}
}
