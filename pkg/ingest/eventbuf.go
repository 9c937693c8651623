package ingest

import "github.com/aient/firehose-drain/pkg/event"

// A Handler keeps at most maxFreeEventBufs event buffers of finished requests, none of
// more than maxKeptEvents events: a request's error-class events are copied into one
// instead of into new memory.
const (
	maxFreeEventBufs = 4
	maxKeptEvents    = 64 << 10
)

// eventBuf is the memory of one request's error-class events.
type eventBuf struct{ evs []event.Event }

// events returns an empty buffer with room for n events.
func (h *Handler) events(n int) *eventBuf {
	var b *eventBuf
	select {
	case b = <-h.free:
	default:
		b = &eventBuf{}
	}
	if cap(b.evs) < n {
		b.evs = make([]event.Event, 0, n)
	}
	b.evs = b.evs[:0]
	return b
}

// doneEvents takes b back once its request has been answered: no claim, send or log of
// it refers to the events any more (a Sender or Claimer copies what it keeps).
func (h *Handler) doneEvents(b *eventBuf) {
	clear(b.evs) // nothing of the request stays reachable from the pool
	if cap(b.evs) > maxKeptEvents {
		return
	}
	b.evs = b.evs[:0]
	select {
	case h.free <- b:
	default:
	}
}
