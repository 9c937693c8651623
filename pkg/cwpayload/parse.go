package cwpayload

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/level"
)

// maxDepth bounds the nesting of skipped JSON values.
const maxDepth = 128

const notCW = "not a CloudWatch Logs document"

// parser walks the CloudWatch Logs documents of one record. It is reused across records;
// scratch holds unescaped strings.
type parser struct {
	b       []byte
	st      *Stamp
	res     *RecordResult
	scratch []byte

	// The current document's header, as raw spans of b, and their strings once needed.
	owner, group, stream span
	ownerS, groupS       string
	streamS              string
	haveStrings          bool

	// Strings reused across events while they repeat.
	lastAccount, lastRegion string
}

// span is a JSON string in b: b[start:end] is its raw content (without quotes).
type span struct {
	start, end int
	esc        bool
	set        bool
}

// syntaxError is a malformed document at an offset.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s at byte %d", e.msg, e.off) }

func (p *parser) reset(b []byte, st *Stamp, res *RecordResult) {
	p.b, p.st, p.res = b, st, res
	p.lastAccount, p.lastRegion = "", ""
}

// parseRecord reads every document in b. It returns a user-facing reason when b is not a
// sequence of CloudWatch Logs documents.
func (p *parser) parseRecord(b []byte, st *Stamp, res *RecordResult) (string, error) {
	p.reset(b, st, res)
	if cap(p.scratch) < len(b)+8 {
		p.scratch = make([]byte, 0, len(b)+8+len(b)/4)
	}
	defer p.reset(nil, nil, nil)
	docs := 0
	i := 0
	for {
		i = skipWS(b, i)
		if i >= len(b) {
			break
		}
		if b[i] != '{' {
			if docs == 0 {
				return notCW, &syntaxError{i, "not a JSON object"}
			}
			return notCW, &syntaxError{i, "text after the documents"}
		}
		end, reason, err := p.parseDoc(i)
		if reason != "" {
			return reason, err
		}
		docs++
		i = end
	}
	if docs == 0 {
		return notCW, &syntaxError{0, "no JSON document"}
	}
	return "", nil
}

// parseDoc reads the document at b[i] == '{' and returns the index after it.
func (p *parser) parseDoc(i int) (int, string, error) {
	b := p.b
	p.owner, p.group, p.stream = span{}, span{}, span{}
	p.ownerS, p.groupS, p.streamS, p.haveStrings = "", "", "", false
	var msgType span
	eventsAt := -1 // logEvents seen before the header was complete
	sawEvents := false
	control, data := false, false
	i++
	for first := true; ; first = false {
		i = skipWS(b, i)
		if i >= len(b) {
			return 0, notCW, &syntaxError{i, "unexpected end of document"}
		}
		if b[i] == '}' {
			i++
			break
		}
		if !first {
			if b[i] != ',' {
				return 0, notCW, &syntaxError{i, "expected , or }"}
			}
			i = skipWS(b, i+1)
		}
		key, next, err := p.key(i)
		if err != nil {
			return 0, notCW, err
		}
		i = next
		switch string(b[key.start:key.end]) {
		case "messageType":
			if msgType, i, err = p.stringSpan(i); err != nil {
				return 0, notCW, err
			}
			switch string(b[msgType.start:msgType.end]) {
			case "DATA_MESSAGE":
				data = true
			case "CONTROL_MESSAGE":
				control = true
			default:
				return 0, notCW + ": unknown messageType " + strconv.Quote(string(b[msgType.start:msgType.end])), nil
			}
		case "owner":
			if p.owner, i, err = p.stringSpan(i); err != nil {
				return 0, notCW, err
			}
		case "logGroup":
			if p.group, i, err = p.stringSpan(i); err != nil {
				return 0, notCW, err
			}
		case "logStream":
			if p.stream, i, err = p.stringSpan(i); err != nil {
				return 0, notCW, err
			}
		case "logEvents":
			sawEvents = true
			if i >= len(b) || b[i] != '[' {
				return 0, notCW + ": logEvents is not an array", nil
			}
			if control || (data && p.owner.set && p.group.set && p.stream.set) {
				if i, err = p.events(i, data); err != nil {
					return 0, notCW, err
				}
			} else {
				eventsAt = i
				if i, err = skipValue(b, i, 0); err != nil {
					return 0, notCW, err
				}
			}
		default:
			if i, err = skipValue(b, i, 0); err != nil {
				return 0, notCW, err
			}
		}
	}
	switch {
	case !msgType.set:
		return 0, notCW + ": no messageType", nil
	case !sawEvents:
		return 0, notCW + ": no logEvents", nil
	}
	if control {
		p.res.Control = true
	}
	if data {
		p.res.Data = true
		if eventsAt >= 0 {
			if _, err := p.events(eventsAt, true); err != nil {
				return 0, notCW, err
			}
		}
	}
	return i, "", nil
}

// key reads `"name" :` at b[i] and returns the name's span and the index of the value.
// Keys are short: a plain loop finds their end faster than a search.
func (p *parser) key(i int) (span, int, error) {
	b := p.b
	if i >= len(b) || b[i] != '"' {
		return span{}, 0, &syntaxError{i, "expected a key"}
	}
	j := i + 1
	for j < len(b) && b[j] != '"' && b[j] != '\\' {
		j++
	}
	var k span
	if j < len(b) && b[j] == '"' {
		k = span{start: i + 1, end: j, set: true}
		j++
	} else {
		var err error
		if k, j, err = p.stringSpan(i); err != nil {
			return span{}, 0, err
		}
	}
	if j < len(b) && b[j] == ':' {
		j++
	} else {
		j = skipWS(b, j)
		if j >= len(b) || b[j] != ':' {
			return span{}, 0, &syntaxError{j, "expected :"}
		}
		j++
	}
	if j < len(b) && b[j] > ' ' {
		return k, j, nil
	}
	return k, skipWS(b, j), nil
}

// stringSpan reads the JSON string at b[i].
func (p *parser) stringSpan(i int) (span, int, error) {
	b := p.b
	if i >= len(b) || b[i] != '"' {
		return span{}, 0, &syntaxError{i, "expected a string"}
	}
	end, esc, ok := scanString(b, i)
	if !ok {
		return span{}, 0, &syntaxError{i, "unterminated string"}
	}
	return span{start: i + 1, end: end - 1, esc: esc, set: true}, end, nil
}

// stringOf allocates the string of s.
func (p *parser) stringOf(s span) (string, error) {
	if !s.esc {
		return string(p.b[s.start:s.end]), nil
	}
	out, ok := unescape(nil, p.b[s.start:s.end])
	if !ok {
		return "", &syntaxError{s.start, "bad string escape"}
	}
	return string(out), nil
}

// events reads the logEvents array at b[i] == '['. Events of CONTROL_MESSAGE documents are
// checked for shape and dropped.
func (p *parser) events(i int, data bool) (int, error) {
	b := p.b
	i++
	for first := true; ; first = false {
		i = skipWS(b, i)
		if i >= len(b) {
			return 0, &syntaxError{i, "unexpected end of logEvents"}
		}
		if b[i] == ']' {
			return i + 1, nil
		}
		if !first {
			if b[i] != ',' {
				return 0, &syntaxError{i, "expected , or ]"}
			}
			i = skipWS(b, i+1)
		}
		if i >= len(b) || b[i] != '{' {
			return 0, &syntaxError{i, "log event is not an object"}
		}
		if !data {
			var err error
			if i, err = skipValue(b, i, 0); err != nil {
				return 0, err
			}
			continue
		}
		var err error
		if i, err = p.event(i); err != nil {
			return 0, err
		}
	}
}

// event reads one log event object at b[i] == '{', counts it and keeps it when error-class.
func (p *parser) event(i int) (int, error) {
	b := p.b
	var id, account, region span
	tsAt := -1   // the timestamp is parsed only for events that are kept
	var msg span // the message's raw (escaped) content
	var err error
	first := true
	// The fast path: CloudWatch's own compact layout, {"id":"..","timestamp":N,"message":".."}.
	// (Literal comparisons: the compiler turns them into a few word loads.)
	if len(b)-i >= 7 && string(b[i:i+7]) == `{"id":"` {
		j := i + 7
		if k := bytes.IndexByte(b[j:], '"') + j; k >= j && bytes.IndexByte(b[j:k], '\\') < 0 {
			id = span{start: j, end: k, set: true}
			i, first = k+1, false
			if len(b)-k >= 14 && string(b[k+1:k+14]) == `,"timestamp":` {
				tsAt = k + 14
				if i, err = skipNumber(b, tsAt); err != nil {
					return 0, err
				}
				if len(b)-i >= 12 && string(b[i:i+12]) == `,"message":"` {
					if msg, i, err = p.stringSpan(i + 11); err != nil {
						return 0, err
					}
				}
			}
		}
	}
	if first {
		i++
	}
	for ; ; first = false {
		i = skipWS(b, i)
		if i >= len(b) {
			return 0, &syntaxError{i, "unexpected end of log event"}
		}
		if b[i] == '}' {
			i++
			break
		}
		if !first {
			if b[i] != ',' {
				return 0, &syntaxError{i, "expected , or }"}
			}
			i = skipWS(b, i+1)
		}
		var key span
		if key, i, err = p.key(i); err != nil {
			return 0, err
		}
		switch string(b[key.start:key.end]) {
		case "message":
			if i < len(b) && b[i] == '"' {
				msg, i, err = p.stringSpan(i)
			} else {
				msg = span{}
				i, err = skipValue(b, i, 0)
			}
		case "id":
			if i < len(b) && b[i] != '"' {
				// A numeric id (hand-written payloads): keep its text.
				start := i
				i, err = skipValue(b, i, 0)
				id = span{start: start, end: i, set: true}
			} else {
				id, i, err = p.stringSpan(i)
			}
		case "timestamp":
			tsAt = i
			i, err = skipNumber(b, i)
		case "extractedFields":
			i, err = p.extracted(i, &account, &region)
		case "@aws.account":
			account, i, err = p.optString(i)
		case "@aws.region":
			region, i, err = p.optString(i)
		default:
			i, err = skipValue(b, i, 0)
		}
		if err != nil {
			return 0, err
		}
	}
	p.res.Events++
	// Classify: messages without escapes in place; escaped ones from their escaped form when
	// that decides (most Lambda and JSON lines), else unescaped once into p.scratch.
	var m []byte
	var l event.Level
	switch {
	case !msg.set:
		l = level.Of(nil)
	case !msg.esc:
		m = b[msg.start:msg.end]
		l = level.Of(m)
	default:
		var ok bool
		if l, ok = level.OfEscaped(b[msg.start:msg.end]); ok && !l.IsErrorClass() {
			return i, nil
		}
		if m, _, err = p.readMessage(msg.start - 1); err != nil {
			return 0, err
		}
		if !ok {
			l = level.Of(m)
		}
	}
	if !l.IsErrorClass() {
		return i, nil
	}
	var ts int64
	if tsAt >= 0 {
		if ts, _, err = p.number(tsAt); err != nil {
			return 0, err
		}
	}
	return i, p.keep(m, l, id, ts, account, region)
}

// keep materialises an error-class event.
func (p *parser) keep(msg []byte, l event.Level, id span, ts int64, account, region span) error {
	if !p.haveStrings {
		var err error
		if p.ownerS, err = p.stringOf(p.owner); err != nil {
			return err
		}
		if p.groupS, err = p.stringOf(p.group); err != nil {
			return err
		}
		if p.streamS, err = p.stringOf(p.stream); err != nil {
			return err
		}
		p.haveStrings = true
	}
	st := p.st
	ev := event.Event{
		Drain: st.Drain, Org: st.Org, Env: st.Env,
		Account: p.ownerS, Region: st.Region,
		LogGroup: p.groupS, LogStream: p.streamS,
		Timestamp: ts, Level: l,
		FirehoseRequestID: st.RequestID, Attributes: st.Attributes,
	}
	var err error
	if id.set && !id.esc {
		// One allocation for the id and the message.
		raw := p.b[id.start:id.end]
		buf := make([]byte, 0, len(raw)+len(msg))
		buf = append(append(buf, raw...), msg...)
		both := ""
		if len(buf) > 0 {
			// buf is fresh and never written again: the string may share it.
			both = unsafe.String(&buf[0], len(buf))
		}
		ev.ID, ev.Message = both[:len(raw)], both[len(raw):]
	} else {
		ev.Message = string(msg)
		if id.set {
			if ev.ID, err = p.stringOf(id); err != nil {
				return err
			}
		}
	}

	if account.set {
		if ev.Account, err = p.reuse(account, &p.lastAccount); err != nil {
			return err
		}
	}
	if region.set {
		if ev.Region, err = p.reuse(region, &p.lastRegion); err != nil {
			return err
		}
	}
	p.res.Errors = append(p.res.Errors, ev)
	return nil
}

// reuse returns the string of s, reusing *last when it is the same.
func (p *parser) reuse(s span, last *string) (string, error) {
	if !s.esc && string(p.b[s.start:s.end]) == *last {
		return *last, nil
	}
	v, err := p.stringOf(s)
	if err != nil {
		return "", err
	}
	*last = v
	return v, nil
}

// optString reads a string value, or skips a value of another type.
func (p *parser) optString(i int) (span, int, error) {
	if i < len(p.b) && p.b[i] == '"' {
		return p.stringSpan(i)
	}
	end, err := skipValue(p.b, i, 0)
	return span{}, end, err
}

// extracted reads @aws.account and @aws.region from the extractedFields object at b[i].
func (p *parser) extracted(i int, account, region *span) (int, error) {
	b := p.b
	if i >= len(b) || b[i] != '{' {
		return skipValue(b, i, 0)
	}
	i++
	for first := true; ; first = false {
		i = skipWS(b, i)
		if i >= len(b) {
			return 0, &syntaxError{i, "unexpected end of extractedFields"}
		}
		if b[i] == '}' {
			return i + 1, nil
		}
		if !first {
			if b[i] != ',' {
				return 0, &syntaxError{i, "expected , or }"}
			}
			i = skipWS(b, i+1)
		}
		key, next, err := p.key(i)
		if err != nil {
			return 0, err
		}
		i = next
		var v span
		switch string(b[key.start:key.end]) {
		case "@aws.account":
			if v, i, err = p.optString(i); v.set {
				*account = v
			}
		case "@aws.region":
			if v, i, err = p.optString(i); v.set {
				*region = v
			}
		default:
			i, err = skipValue(b, i, 0)
		}
		if err != nil {
			return 0, err
		}
	}
}

// number reads an integer (or a float, truncated) at b[i].
func (p *parser) number(i int) (int64, int, error) {
	b := p.b
	start := i
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	var n int64
	digits := 0
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		if digits < 18 {
			n = n*10 + int64(b[i]-'0')
		}
		digits++
		i++
	}
	if digits == 0 {
		return 0, 0, &syntaxError{start, "expected a number"}
	}
	if i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E') || digits > 18 {
		end, err := skipValue(b, start, 0)
		if err != nil {
			return 0, 0, err
		}
		f, err := strconv.ParseFloat(string(b[start:end]), 64)
		if err != nil {
			return 0, 0, &syntaxError{start, "bad number"}
		}
		return int64(f), end, nil
	}
	if neg {
		n = -n
	}
	return n, i, nil
}

// skipNumber returns the index after the JSON number at b[i].
func skipNumber(b []byte, i int) (int, error) {
	j := i
	for j < len(b) && b[j]-'0' < 10 {
		j++
	}
	for j < len(b) {
		if c := b[j]; ('0' <= c && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			j++
			continue
		}
		break
	}
	if j == i {
		return 0, &syntaxError{i, "expected a number"}
	}
	return j, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipWS(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// scanString returns the index just past the JSON string at b[i] == '"' and whether it
// holds escapes. Most strings end at the first quote: it is found with bytes.IndexByte
// (vectorised), and a second search tells whether a backslash precedes it. A string with
// escaped quotes (a JSON log line) continues with the 8-bytes-at-a-time scan.
func scanString(b []byte, i int) (end int, esc bool, ok bool) {
	j := i + 1
	q := bytes.IndexByte(b[j:], '"')
	if q < 0 {
		return 0, false, false
	}
	q += j
	if b[q-1] != '\\' {
		return q + 1, bytes.IndexByte(b[j:q], '\\') >= 0, true
	}
	end, ok = scanEscaped(b, j)
	return end, true, ok
}

// scanEscaped finds the closing quote of a string that holds escapes, from b[j] on (just
// after the opening quote). It tests eight bytes at a time without stopping at each
// escape: a quote counts unless the byte before it is a backslash; a word with a backslash
// that is itself escaped (`\\\\`) is rare and stepped through byte by byte.
func scanEscaped(b []byte, j int) (int, bool) {
	const low7 = 0x7f7f7f7f7f7f7f7f
	var carry uint64 // 0x80 when b[j] is escaped by a backslash ending the previous word
	for j+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[j:])
		q := w ^ quotes
		s := w ^ backslash
		// 0x80 in exactly the bytes that are '"' (qm) or '\\' (bm).
		qm := ^(((q & low7) + low7) | q | low7)
		bm := ^(((s & low7) + low7) | s | low7)
		if bm&(bm<<8|carry) != 0 {
			break
		}
		if real := qm &^ (bm<<8 | carry); real != 0 {
			return j + bits.TrailingZeros64(real)/8 + 1, true
		}
		carry = bm >> 56 & 0x80
		j += 8
	}
	if carry != 0 {
		j++
	}
	for j < len(b) {
		switch b[j] {
		case '"':
			return j + 1, true
		case '\\':
			j += 2
		default:
			j++
		}
	}
	return 0, false
}

const (
	lsb       = 0x0101010101010101
	msb       = 0x8080808080808080
	quotes    = '"' * lsb
	backslash = '\\' * lsb
)

// findSpecial returns the index of the first '"' or '\\' in b at or after j, or len(b).
// It tests eight bytes at a time.
func findSpecial(b []byte, j int) int {
	for ; j+8 <= len(b); j += 8 {
		w := binary.LittleEndian.Uint64(b[j:])
		q := w ^ quotes
		s := w ^ backslash
		m := ((q-lsb)&^q | (s-lsb)&^s) & msb
		if m != 0 {
			return j + bits.TrailingZeros64(m)/8
		}
	}
	for ; j < len(b); j++ {
		if c := b[j]; c == '"' || c == '\\' {
			return j
		}
	}
	return len(b)
}

// readMessage reads the JSON string at b[i] == '"' and returns its content: a slice of b
// when it has no escapes, else unescaped into p.scratch (valid until the next call). One
// pass: eight bytes at a time are copied and tested for '"' and '\\' together.
// p.scratch has room for len(b)+8 bytes (parseRecord sees to it), and the unescaped text
// is never longer than the escaped one, so the 8-byte stores never run out of room.
func (p *parser) readMessage(i int) ([]byte, int, error) {
	b := p.b
	start := i + 1
	j := findSpecial(b, start)
	if j >= len(b) {
		return nil, 0, &syntaxError{i, "unterminated string"}
	}
	if b[j] == '"' {
		return b[start:j], j + 1, nil
	}
	out := p.scratch[:cap(p.scratch)]
	n := copy(out, b[start:j])
	for {
		// b[j] == '\\'
		if j+1 >= len(b) {
			return nil, 0, &syntaxError{i, "unterminated string"}
		}
		switch c := b[j+1]; c {
		case '"', '\\', '/':
			out[n] = c
		case 'n':
			out[n] = '\n'
		case 't':
			out[n] = '\t'
		case 'r':
			out[n] = '\r'
		case 'b':
			out[n] = '\b'
		case 'f':
			out[n] = '\f'
		case 'u':
			r, size := unicodeEscape(b[j:])
			if size == 0 {
				return nil, 0, &syntaxError{j, "bad string escape"}
			}
			n += utf8.EncodeRune(out[n:], r)
			j += size
			goto scan
		default:
			return nil, 0, &syntaxError{j, "bad string escape"}
		}
		n++
		j += 2
	scan:
		for j+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[j:])
			binary.LittleEndian.PutUint64(out[n:], w)
			q := w ^ quotes
			s := w ^ backslash
			if m := ((q-lsb)&^q | (s-lsb)&^s) & msb; m != 0 {
				t := bits.TrailingZeros64(m) / 8
				n += t
				j += t
				break scan
			}
			n += 8
			j += 8
		}
		for j < len(b) && b[j] != '"' && b[j] != '\\' {
			out[n] = b[j]
			n++
			j++
		}
		if j >= len(b) {
			return nil, 0, &syntaxError{i, "unterminated string"}
		}
		if b[j] == '"' {
			return out[:n], j + 1, nil
		}
	}
}

// skipValue returns the index just past the JSON value at b[i].
func skipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, &syntaxError{i, "unexpected end of input"}
	}
	if depth > maxDepth {
		return 0, &syntaxError{i, "nested too deeply"}
	}
	switch c := b[i]; c {
	case '"':
		end, _, ok := scanString(b, i)
		if !ok {
			return 0, &syntaxError{i, "unterminated string"}
		}
		return end, nil
	case '{', '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		i++
		for first := true; ; first = false {
			i = skipWS(b, i)
			if i >= len(b) {
				return 0, &syntaxError{i, "unexpected end of input"}
			}
			if b[i] == closer {
				return i + 1, nil
			}
			if !first {
				if b[i] != ',' {
					return 0, &syntaxError{i, "expected , or " + string(closer)}
				}
				i = skipWS(b, i+1)
			}
			if c == '{' {
				if i >= len(b) || b[i] != '"' {
					return 0, &syntaxError{i, "expected a key"}
				}
				end, _, ok := scanString(b, i)
				if !ok {
					return 0, &syntaxError{i, "unterminated string"}
				}
				i = skipWS(b, end)
				if i >= len(b) || b[i] != ':' {
					return 0, &syntaxError{i, "expected :"}
				}
				i = skipWS(b, i+1)
			}
			end, err := skipValue(b, i, depth+1)
			if err != nil {
				return 0, err
			}
			i = end
		}
	case 't':
		return literal(b, i, "true")
	case 'f':
		return literal(b, i, "false")
	case 'n':
		return literal(b, i, "null")
	default:
		j := i
		for j < len(b) {
			c := b[j]
			if ('0' <= c && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
				j++
				continue
			}
			break
		}
		if j == i {
			return 0, &syntaxError{i, "unexpected character " + strconv.QuoteRune(rune(c))}
		}
		return j, nil
	}
}

func literal(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, &syntaxError{i, "bad literal"}
	}
	return i + len(lit), nil
}

// unescape appends the unescaped JSON string content src to dst.
func unescape(dst, src []byte) ([]byte, bool) {
	for {
		k := bytes.IndexByte(src, '\\')
		if k < 0 {
			return append(dst, src...), true
		}
		dst = append(dst, src[:k]...)
		src = src[k:]
		if len(src) < 2 {
			return dst, false
		}
		switch src[1] {
		case '"', '\\', '/':
			dst = append(dst, src[1])
		case 'n':
			dst = append(dst, '\n')
		case 't':
			dst = append(dst, '\t')
		case 'r':
			dst = append(dst, '\r')
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'u':
			r, n := unicodeEscape(src)
			if n == 0 {
				return dst, false
			}
			dst = utf8.AppendRune(dst, r)
			src = src[n:]
			continue
		default:
			return dst, false
		}
		src = src[2:]
	}
}

// unicodeEscape decodes \uXXXX (and a following low surrogate) at src; n is the bytes used.
func unicodeEscape(src []byte) (rune, int) {
	r, ok := hex4(src)
	if !ok {
		return 0, 0
	}
	if 0xD800 <= r && r < 0xDC00 {
		if len(src) >= 12 && src[6] == '\\' && src[7] == 'u' {
			if r2, ok := hex4(src[6:]); ok && 0xDC00 <= r2 && r2 < 0xE000 {
				return 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00), 12
			}
		}
		return utf8.RuneError, 6
	}
	if 0xDC00 <= r && r < 0xE000 {
		return utf8.RuneError, 6
	}
	return r, 6
}

func hex4(src []byte) (rune, bool) {
	if len(src) < 6 {
		return 0, false
	}
	var r rune
	for _, c := range src[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
