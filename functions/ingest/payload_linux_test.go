//go:build linux

package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// discard gives back the pages wholly inside the part, and only those: they read as
// zeros, the bytes around (the partial pages at both ends, the rest of the event) keep
// theirs, and the next event is read whole into the same memory. A part of the heap is
// left alone.
func TestPayloadDiscardDropsOnlyWholePagesOfThePart(t *testing.T) {
	b := newPayloadBuffer()
	if b.mem == nil {
		t.Skip("no anonymous mapping here")
	}
	page := os.Getpagesize()
	event := bytes.Repeat([]byte("0123456789abcdef"), 40*page/16)
	payload, err := b.read(bytes.NewReader(event))
	if err != nil || !bytes.Equal(payload, event) {
		t.Fatalf("read: %v", err)
	}
	from, to := 3*page+100, 17*page-5 // pages 4..16 are wholly inside
	b.discard(payload[from:to])
	for i, c := range payload {
		inside := i >= 4*page && i < 16*page
		switch {
		case inside && c != 0:
			t.Fatalf("byte %d (page %d) is %q, want the page dropped (0)", i, i/page, c)
		case !inside && c != event[i]:
			t.Fatalf("byte %d (page %d) is %q, want %q: outside the whole pages of the part", i, i/page, c, event[i])
		}
	}
	heap := bytes.Clone(event)
	b.discard(heap[page : 10*page])
	if !bytes.Equal(heap, event) {
		t.Fatal("a heap slice was changed")
	}
	b.discard(payload[from : from+page/2]) // no whole page: nothing
	b.done()
	next := bytes.Repeat([]byte("x"), 20*page)
	if p, err := b.read(bytes.NewReader(next)); err != nil || !bytes.Equal(p, next) {
		t.Fatalf("the next event: %v", err)
	}
}

// discarder is an invoker that gives back its whole payload while it runs.
type discarder struct {
	recorder
	discarding int // calls of InvokeDiscarding
}

func (d *discarder) InvokeDiscarding(ctx context.Context, payload []byte, discard func([]byte)) ([]byte, error) {
	answer, err := d.Invoke(ctx, payload)
	discard(payload)
	d.mu.Lock()
	d.discarding++
	d.mu.Unlock()
	return answer, err
}

// The loop gives a discardingInvoker its buffer's discard: an event the handler gave back
// does not leak into the next one's, big or small.
func TestRuntimeLoopDiscards(t *testing.T) {
	d := &discarder{}
	api, _ := startLoop(t, d)
	big := `"` + strings.Repeat("y", 3<<20) + `"`
	for _, p := range []string{big, `{"b":2}`, big} {
		res, err := api.Invoke(context.Background(), []byte(p), 30*time.Second)
		if err != nil || res.Err != nil {
			t.Fatalf("invoke: %v %v", err, res.Err)
		}
		if string(res.Payload) != `{"got":`+p+`}` {
			t.Fatalf("answer %.80q, want the payload back", res.Payload)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.payloads) != 3 || string(d.payloads[2]) != big || d.discarding != 3 {
		t.Fatalf("%d payloads, %d through InvokeDiscarding: want each of 3 whole, all given a discard", len(d.payloads), d.discarding)
	}
}
