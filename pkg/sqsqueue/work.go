package sqsqueue

import (
	"bytes"
	"encoding/json"
	"errors"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/aient/firehose-drain/pkg/event"
)

// A Sender keeps at most maxFreeWork buffers of finished Sends, none larger than
// maxKeptBody bytes of bodies: the next Sends write into them instead of allocating.
const (
	maxFreeWork = 4
	maxKeptBody = 64 << 20
)

// work is the memory of one Send, kept by the Sender for the next: the message bodies,
// written once each at its place (buf), the messages over them, the batches and their
// entries.
type work struct {
	buf     []byte
	msgs    []message
	ends    []msgBounds
	batches []span
	entries []types.SendMessageBatchRequestEntry
	enc     *json.Encoder
	out     appender
}

// msgBounds is a message in buf: buf[start:end], or, for one event, buf[first:firstEnd]
// (the event's own body, without the packed shape's framing).
type msgBounds struct {
	start, end      int
	first, firstEnd int
	events          int
}

// appender is an io.Writer appending to b.
type appender struct{ b []byte }

func (a *appender) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

func (s *Sender) work() *work {
	select {
	case w := <-s.free:
		return w
	default:
	}
	w := &work{}
	w.enc = json.NewEncoder(&w.out)
	w.enc.SetEscapeHTML(false)
	return w
}

// done gives w back to the Sender once its Send has returned: nothing refers to its
// bodies any more.
func (s *Sender) done(w *work) {
	if cap(w.buf) > maxKeptBody {
		return
	}
	clear(w.msgs) // the strings over buf
	w.msgs, w.ends, w.batches = w.msgs[:0], w.ends[:0], w.batches[:0]
	w.buf, w.out.b = w.buf[:0], nil
	select {
	case s.free <- w:
	default:
	}
}

// entryRoom returns room for n batch entries.
func (w *work) entryRoom(n int) []types.SendMessageBatchRequestEntry {
	if cap(w.entries) < n {
		w.entries = make([]types.SendMessageBatchRequestEntry, n)
	}
	return w.entries[:n]
}

// frame is the room the packed shape takes between the last body of a message and the
// first of the next: "]}" and `{"events":[` where a ',' was.
var frame = []byte(packClose + packOpen)

// build writes the bodies of events into w.buf, packed as pack does (consecutive events,
// at most maxEvents and about maxBytes a message; one event in its own shape), and sets
// w.msgs. Each body is encoded once, at its place: a body that does not fit in the
// message before it moves by len(frame)-1 bytes to open the next. It returns how many
// events could not be encoded or fit, and why.
func (w *work) build(events []event.Event, maxEvents, maxBytes int) (unfitN int, unfit error) {
	// Room for the packed shape's framing, so a packed message never passes the limit.
	room := MaxMessageBytes - len(packOpen) - len(packClose)
	buf := w.buf[:0]
	var cur msgBounds // the open message; events 0: none
	size := 0         // its packed size, framing included
	for i := range events {
		mark := len(buf)
		if cur.events == 0 {
			buf = append(buf, packOpen...)
		} else {
			buf = append(buf, ',')
		}
		at := len(buf)
		var err error
		if buf, err = w.appendFit(buf, &events[i], room); err != nil {
			buf = buf[:mark]
			unfitN++
			unfit = errors.Join(unfit, err)
			continue
		}
		n := len(buf) - at
		if cur.events > 0 && (cur.events >= maxEvents || size+1+n > maxBytes) {
			// Close the open message where its ',' is and open the next before this body.
			buf = append(buf, frame[:len(frame)-1]...)
			copy(buf[at+len(frame)-1:], buf[at:at+n])
			copy(buf[mark:], frame)
			cur.end = mark + len(packClose)
			w.ends = append(w.ends, cur)
			at += len(frame) - 1
			cur = msgBounds{}
		}
		if cur.events == 0 {
			cur = msgBounds{start: at - len(packOpen), first: at, firstEnd: at + n}
			size = len(packOpen) + n + len(packClose)
		} else {
			size += 1 + n
		}
		cur.events++
	}
	if cur.events > 0 {
		buf = append(buf, packClose...)
		cur.end = len(buf)
		w.ends = append(w.ends, cur)
	}
	w.buf = buf
	// buf is not written again until the Send returns: the bodies are strings over it.
	for _, m := range w.ends {
		body := buf[m.start:m.end]
		if m.events == 1 {
			body = buf[m.first:m.firstEnd]
		}
		w.msgs = append(w.msgs, message{body: unsafe.String(unsafe.SliceData(body), len(body)), events: m.events})
	}
	return unfitN, unfit
}

// appendFit appends e's body, as Fit(e, max) returns it, to dst: encoded in place when it
// fits whole (nearly always), else by Fit.
func (w *work) appendFit(dst []byte, e *event.Event, max int) ([]byte, error) {
	at := len(dst)
	w.out.b = dst
	err := w.enc.Encode(e)
	dst, w.out.b = w.out.b, nil
	if err != nil {
		return dst[:at], encodeError(e, err)
	}
	dst = dst[:len(dst)-1] // Encode's newline
	body := dst[at:]
	if len(body) <= max && !bytes.Contains(body, []byte("\uFFFE")) && !bytes.Contains(body, []byte("\uFFFF")) {
		return dst, nil
	}
	fit, err := Fit(e, max)
	if err != nil {
		return dst[:at], err
	}
	return append(dst[:at], fit...), nil
}
