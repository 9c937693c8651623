package sqsqueue_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/sqsqueue"
)

func withCrumbs(msg string, n, size int) event.Event {
	e := sample(msg)
	for i := range n {
		e.Breadcrumbs = append(e.Breadcrumbs, event.Breadcrumb{
			Time: time.UnixMilli(1_800_000_000_000 + int64(i)).UTC(), Level: event.Info,
			Message: fmt.Sprintf("%02d %s", i, strings.Repeat("b", size)),
		})
	}
	return e
}

// TestFitCutsBreadcrumbsFirst: an event over the limit loses its oldest breadcrumbs
// before anything else; the message is cut only when none is left.
func TestFitCutsBreadcrumbsFirst(t *testing.T) {
	e := withCrumbs("panic: boom", 20, 400)
	whole, err := sqsqueue.Fit(&e, sqsqueue.MaxMessageBytes)
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeMessage(t, whole); len(got.Breadcrumbs) != 20 || got.Truncated {
		t.Fatalf("an event that fits: %d breadcrumbs, truncated %v", len(got.Breadcrumbs), got.Truncated)
	}
	for _, max := range []int{len(whole) - 1, len(whole) - 2000, len(whole) - 7000} {
		body, err := sqsqueue.Fit(&e, max)
		if err != nil {
			t.Fatal(err)
		}
		got := decodeMessage(t, body)
		n := len(got.Breadcrumbs)
		if len(body) > max || got.Message != e.Message || got.Truncated || n == 0 || n == 20 {
			t.Fatalf("max %d: body %d bytes, %d breadcrumbs, message kept %v, truncated %v", max, len(body), n, got.Message == e.Message, got.Truncated)
		}
		if got.Breadcrumbs[n-1].Message != e.Breadcrumbs[19].Message || got.Breadcrumbs[0].Message != e.Breadcrumbs[20-n].Message {
			t.Errorf("max %d: kept %q..%q, want the newest %d", max, got.Breadcrumbs[0].Message[:2], got.Breadcrumbs[n-1].Message[:2], n)
		}
		// One more would not have fit: the fewest were dropped.
		more := e
		more.Breadcrumbs = e.Breadcrumbs[20-n-1:]
		if b, _ := sqsqueue.Fit(&more, 1<<20); len(b) <= max {
			t.Errorf("max %d: %d breadcrumbs kept, but %d fit", max, n, n+1)
		}
	}
	// Without room for any breadcrumb, the message is cut as before.
	bare := sample("panic: boom " + strings.Repeat("m", 3000))
	bareBody, _ := sqsqueue.Fit(&bare, 1<<20)
	e = withCrumbs(bare.Message, 20, 400)
	body, err := sqsqueue.Fit(&e, len(bareBody)-100)
	if err != nil {
		t.Fatal(err)
	}
	got := decodeMessage(t, body)
	if len(got.Breadcrumbs) != 0 || !got.Truncated || !strings.HasPrefix(e.Message, got.Message) || len(body) > len(bareBody)-100 {
		t.Errorf("no room: %d breadcrumbs, truncated %v, body %d", len(got.Breadcrumbs), got.Truncated, len(body))
	}
	if len(e.Breadcrumbs) != 20 {
		t.Errorf("Fit modified the event")
	}
}
