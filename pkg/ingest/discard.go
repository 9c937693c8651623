package ingest

import (
	"sync"

	"github.com/aient/firehose-drain/internal/alias"
)

// consumed tells Request.Discard which part of a Firehose body the decoder is done with,
// while it decodes: the records are decoded from the last to the first, so the records
// region empties from its end, and each time every record from some index to the last is
// done, the span from that record's first byte to the last record's end (record data
// and the JSON between records, which nothing refers to once the body is parsed) goes to
// discard, once. The bytes before the first record and after the last (the requestId,
// the event's other members) are never given. Records that do not alias the body
// (copied because their JSON string held escapes, or a body inflated from gzip) are
// skipped: their escaped original is in the span, but nothing reads it.
type consumed struct {
	body    []byte
	offs    []int // each record's offset in body; -1 when it does not alias it
	discard func([]byte)

	mu   sync.Mutex
	done []bool
	low  int // every record from low on is done
	from int // body[from:end] has been given to discard
	end  int // the last aliasing record's end
}

// newConsumed returns the tracker of records parsed from body, or nil when none of them
// aliases body (nothing to give back) or the aliasing ones are not in body order.
func newConsumed(body []byte, records [][]byte, discard func([]byte)) *consumed {
	c := &consumed{body: body, offs: make([]int, len(records)), discard: discard, done: make([]bool, len(records)), low: len(records), end: -1}
	for i, r := range records {
		off := alias.Offset(body, r)
		if off >= 0 && off < c.end {
			return nil // out of order or overlapping: not what ParseBody makes; give nothing
		}
		if c.offs[i] = off; off >= 0 {
			c.end = off + len(r)
		}
	}
	if c.end < 0 {
		return nil
	}
	c.from = c.end
	return c
}

// record notes that record i is done (cwpayload.Stamp.Done).
func (c *consumed) record(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done[i] = true
	from := c.from
	for c.low > 0 && c.done[c.low-1] {
		c.low--
		if off := c.offs[c.low]; off >= 0 {
			from = off
		}
	}
	if from < c.from {
		c.discard(c.body[from:c.from:c.from])
		c.from = from
	}
}
