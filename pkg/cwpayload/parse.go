package cwpayload

import (
	"bytes"
	"strconv"
	"unsafe"

	"github.com/aient/firehose-drain/internal/jsonscan"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/level"
)

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

	// text holds the ids and messages of kept events, textChunk bytes at a time: one
	// allocation for many events. It is only appended to, so the strings handed out over
	// it never change; a chunk that is full is left to them.
	text []byte

	// visitor, when set, sees every event of the record (visit.go).
	visitor Visitor
	view    View
}

// textChunk is the size of the parser's text arena chunks.
const textChunk = 32 << 10

// span is a JSON string in b: b[start:end] is its raw content (without quotes).
type span struct {
	start, end int
	esc        bool
	set        bool
}

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
		i = jsonscan.SkipWS(b, i)
		if i >= len(b) {
			break
		}
		if b[i] != '{' {
			if docs == 0 {
				return notCW, &jsonscan.SyntaxError{Offset: i, Msg: "not a JSON object"}
			}
			return notCW, &jsonscan.SyntaxError{Offset: i, Msg: "text after the documents"}
		}
		end, reason, err := p.parseDoc(i)
		if reason != "" {
			return reason, err
		}
		docs++
		i = end
	}
	if docs == 0 {
		return notCW, &jsonscan.SyntaxError{Offset: 0, Msg: "no JSON document"}
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
		next, done, err := jsonscan.Member(b, i, first, '}', "document")
		if err != nil {
			return 0, notCW, err
		}
		if i = next; done {
			break
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
				if i, err = jsonscan.SkipValue(b, i, 0); err != nil {
					return 0, notCW, err
				}
			}
		default:
			if i, err = jsonscan.SkipValue(b, i, 0); err != nil {
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
		return span{}, 0, &jsonscan.SyntaxError{Offset: i, Msg: "expected a key"}
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
		j = jsonscan.SkipWS(b, j)
		if j >= len(b) || b[j] != ':' {
			return span{}, 0, &jsonscan.SyntaxError{Offset: j, Msg: "expected :"}
		}
		j++
	}
	if j < len(b) && b[j] > ' ' {
		return k, j, nil
	}
	return k, jsonscan.SkipWS(b, j), nil
}

// stringSpan reads the JSON string at b[i].
func (p *parser) stringSpan(i int) (span, int, error) {
	b := p.b
	if i >= len(b) || b[i] != '"' {
		return span{}, 0, &jsonscan.SyntaxError{Offset: i, Msg: "expected a string"}
	}
	end, esc, ok := jsonscan.ScanString(b, i)
	if !ok {
		return span{}, 0, &jsonscan.SyntaxError{Offset: i, Msg: "unterminated string"}
	}
	return span{start: i + 1, end: end - 1, esc: esc, set: true}, end, nil
}

// stringOf allocates the string of s.
func (p *parser) stringOf(s span) (string, error) {
	if !s.esc {
		return string(p.b[s.start:s.end]), nil
	}
	out, ok := jsonscan.Unescape(nil, p.b[s.start:s.end])
	if !ok {
		return "", &jsonscan.SyntaxError{Offset: s.start, Msg: "bad string escape"}
	}
	return string(out), nil
}

// events reads the logEvents array at b[i] == '['. Events of CONTROL_MESSAGE documents are
// checked for shape and dropped.
func (p *parser) events(i int, data bool) (int, error) {
	b := p.b
	i++
	var err error
	for first := true; ; first = false {
		if !first && len(b)-i >= 2 && b[i] == ',' && b[i+1] == '{' {
			i++ // the compact layout: the next event follows at once
		} else {
			next, done, err := jsonscan.Member(b, i, first, ']', "logEvents")
			if err != nil || done {
				return next, err
			}
			if i = next; i >= len(b) || b[i] != '{' {
				return 0, &jsonscan.SyntaxError{Offset: i, Msg: "log event is not an object"}
			}
		}
		if !data {
			if i, err = jsonscan.SkipValue(b, i, 0); err != nil {
				return 0, err
			}
			continue
		}
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
	closed := false // the fast path read the whole event
	// The fast path: CloudWatch's own compact layout, {"id":"..","timestamp":N,"message":".."}.
	// (Literal comparisons: the compiler turns them into a few word loads.)
	if len(b)-i >= 7 && string(b[i:i+7]) == `{"id":"` {
		j := i + 7
		// A quote with no backslash before it ends the id. Whether the id holds escapes
		// matters only for a kept event: keep looks.
		if k := bytes.IndexByte(b[j:], '"') + j; k >= j && b[k-1] != '\\' {
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
					if i < len(b) && b[i] == '}' {
						i, closed = i+1, true
					}
				}
			}
		}
	}
	if first {
		i++
	}
	for ; !closed; first = false {
		var done bool
		if i, done, err = jsonscan.Member(b, i, first, '}', "log event"); err != nil {
			return 0, err
		}
		if done {
			break
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
				i, err = jsonscan.SkipValue(b, i, 0)
			}
		case "id":
			if i < len(b) && b[i] != '"' {
				// A numeric id (hand-written payloads): keep its text.
				start := i
				i, err = jsonscan.SkipValue(b, i, 0)
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
			i, err = jsonscan.SkipValue(b, i, 0)
		}
		if err != nil {
			return 0, err
		}
	}
	p.res.Events++
	if p.visitor != nil {
		return p.visit(i, msg, id, tsAt, account, region)
	}
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
		// The fast path of event leaves esc to be found here.
		id.esc = bytes.IndexByte(p.b[id.start:id.end], '\\') >= 0
	}
	if id.set && !id.esc {
		// The id and the message go together into the text arena.
		raw := p.b[id.start:id.end]
		n := len(raw) + len(msg)
		if cap(p.text)-len(p.text) < n {
			p.text = make([]byte, 0, max(textChunk, n))
		}
		start := len(p.text)
		p.text = append(append(p.text, raw...), msg...)
		// These bytes are never written again (the arena is only appended to): the
		// strings may share them.
		both := unsafe.String(unsafe.SliceData(p.text[start:]), n)
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
	end, err := jsonscan.SkipValue(p.b, i, 0)
	return span{}, end, err
}

// extracted reads @aws.account and @aws.region from the extractedFields object at b[i].
func (p *parser) extracted(i int, account, region *span) (int, error) {
	b := p.b
	if i >= len(b) || b[i] != '{' {
		return jsonscan.SkipValue(b, i, 0)
	}
	i++
	for first := true; ; first = false {
		next, done, err := jsonscan.Member(b, i, first, '}', "extractedFields")
		if err != nil || done {
			return next, err
		}
		key, next, err := p.key(next)
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
			i, err = jsonscan.SkipValue(b, i, 0)
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
		return 0, 0, &jsonscan.SyntaxError{Offset: start, Msg: "expected a number"}
	}
	if i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E') || digits > 18 {
		end, err := jsonscan.SkipValue(b, start, 0)
		if err != nil {
			return 0, 0, err
		}
		f, err := strconv.ParseFloat(string(b[start:end]), 64)
		if err != nil {
			return 0, 0, &jsonscan.SyntaxError{Offset: start, Msg: "bad number"}
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
	j := jsonscan.SkipNumber(b, i)
	if j == i {
		return 0, &jsonscan.SyntaxError{Offset: i, Msg: "expected a number"}
	}
	return j, nil
}

// readMessage reads the JSON string at b[i] == '"': a slice of b when it has no escapes,
// else unescaped into p.scratch (valid until the next call), which parseRecord sizes for
// the whole record.
func (p *parser) readMessage(i int) ([]byte, int, error) {
	return jsonscan.ReadString(p.b, i, p.scratch)
}
