package cwpayload

import (
	"context"
	"sync"

	"github.com/aient/firehose-drain/pkg/event"
)

// eventChunk is how many events one pooled chunk of a Decoded holds; a Decoder keeps at
// most maxFreeChunks of them (~16 MB) for its next requests.
const (
	eventChunk    = 1024
	maxFreeChunks = 64
)

// Decoded is the results of DecodeRecordsPooled and the memory they hold that the decoder
// reuses once Release is called: the results slice and the chunks the records' Errors are
// cut from (the Event values, not their strings: those are never reused).
type Decoded struct {
	Results []RecordResult

	d      *Decoder
	mu     sync.Mutex
	chunks []*[]event.Event // handed out to the records' Errors
}

// DecodeRecordsPooled is DecodeRecords with the results and their Errors slices in memory
// the decoder reuses: the caller reads x.Results, then calls x.Release, after which
// neither Results nor any Errors slice may be read (copy the events out first; their
// strings and breadcrumbs stay valid). The request's steady state then allocates only the
// events' text.
func (d *Decoder) DecodeRecordsPooled(ctx context.Context, records [][]byte, st *Stamp, workers int) *Decoded {
	if st == nil {
		st = &Stamp{}
	}
	x, _ := d.decoded.Get().(*Decoded)
	if x == nil {
		x = &Decoded{d: d}
	}
	if cap(x.Results) < len(records) {
		x.Results = make([]RecordResult, len(records))
	}
	x.Results = x.Results[:len(records)]
	d.decodeInto(ctx, records, st, workers, x.Results, x)
	return x
}

// Release gives x's memory back to its decoder; x must not be used after.
func (x *Decoded) Release() {
	clear(x.Results)
	x.Results = x.Results[:0]
	for _, c := range x.chunks {
		clear((*c)[:cap(*c)]) // no event's strings are kept alive by the pool
		if cap(*c) == eventChunk {
			select {
			case x.d.chunks <- c:
			default:
			}
		}
	}
	clear(x.chunks)
	x.chunks = x.chunks[:0]
	if cap(x.Results) <= maxPooledEvents {
		x.d.decoded.Put(x)
	}
}

// room returns room for n events of a record: cut from the parser's current chunk of x
// (full capacity n: an append by its holder never reaches the next record's), or exactly
// sized when x is nil.
func (p *parser) room(n int) []event.Event {
	x := p.kept
	if x == nil {
		return make([]event.Event, n)
	}
	if len(p.chunk)+n > cap(p.chunk) {
		var c *[]event.Event
		if n <= eventChunk {
			select {
			case c = <-x.d.chunks:
			default:
			}
		}
		if c == nil {
			s := make([]event.Event, 0, max(eventChunk, n))
			c = &s
		}
		x.mu.Lock()
		x.chunks = append(x.chunks, c)
		x.mu.Unlock()
		p.chunk = (*c)[:0]
	}
	start := len(p.chunk)
	p.chunk = p.chunk[:start+n]
	return p.chunk[start : start+n : start+n]
}
