package cwpayload

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"sync/atomic"
	"unsafe"

	"github.com/aient/firehose-drain/internal/jsonscan"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/level"
	"github.com/aient/firehose-drain/pkg/stitch"
)

const notCW = "not a CloudWatch Logs document"

// parser walks the CloudWatch Logs documents of one record. It is reused across records;
// scratch holds unescaped strings.
//
// What it accepts is what encoding/json accepts, read into the typed shape of section 4 of
// docs/design.md (the differential fuzz targets hold it to that): any JSON layout; null
// for a member is the member left out; a member of the wrong type, a member the decoder
// reads given twice in one object, or a data event without an id rejects the record.
type parser struct {
	b []byte
	// strict is set for a record that holds a control byte (pretty-printed, or bad):
	// every string is then validated by ValidString. Otherwise jsonscan.CheckText has
	// checked every escape of the record already, and ScanString finds a string's end.
	strict  bool
	st      *Stamp
	res     *RecordResult
	scratch []byte
	name    []byte // an unescaped member name or short value

	// The current document's header, as raw spans of b, and their strings once needed.
	owner, group, stream span
	ownerS, groupS       string
	streamS              string
	haveStrings          bool

	// Strings reused across events while they repeat.
	lastAccount, lastRegion string

	// noStitch turns pkg/stitch off (Decoder.WithoutStitching).
	noStitch bool

	// text holds the ids and messages of kept events, textChunk bytes at a time: one
	// allocation for many events. It is only appended to, so the strings handed out over
	// it never change; a chunk that is full is left to them.
	text []byte

	// visitor, when set, sees every event of the record (visit.go).
	visitor Visitor
	view    View

	// The current document's events, for breadcrumbs (crumbs.go), and its error-class
	// events waiting for theirs.
	crumbs   []crumb
	pends    []pend
	rids     []byte             // the crumbs' request ids
	bcs      []event.Breadcrumb // the crumbs made breadcrumbs
	crumbBuf []byte
	crumbFix []byte
	// crumbArena holds the breadcrumbs handed out, crumbChunk at a time; like text, a
	// chunk is left to the events that hold it.
	crumbArena []event.Breadcrumb
	// crumbBudget is what is left of the request's breadcrumb weight, carryBudget of the
	// bytes its carried lines may allocate; nil: unbounded.
	crumbBudget, carryBudget *atomic.Int64

	// evs holds the kept events while a record is parsed; they are copied out, exactly
	// sized, at its end, and evs is reused for the next record.
	evs []event.Event
	// kept, when set, is the Decoded of DecodeRecordsPooled the copies are cut from, chunk
	// its chunk being filled (pooled.go).
	kept  *Decoded
	chunk []event.Event
}

// textChunk is the size of the parser's text arena chunks.
const textChunk = 32 << 10

// span is a JSON string (or, for a numeric id, a number) in b: b[start:end] is its raw
// content (without quotes).
type span struct {
	start, end int
	esc        bool
	set        bool
	number     bool
}

func (p *parser) reset(b []byte, st *Stamp, res *RecordResult) {
	p.b, p.st, p.res = b, st, res
	p.lastAccount, p.lastRegion = "", ""
}

// reject is the record's error for a document that is not of the CloudWatch Logs shape.
func reject(what string) *RecordError { return &RecordError{Reason: notCW + ": " + what} }

// syntax is the record's error for malformed JSON.
func syntax(err error) *RecordError { return &RecordError{Reason: notCW, Err: err} }

// parseRecord reads every document in b.
func (p *parser) parseRecord(b []byte, st *Stamp, res *RecordResult) *RecordError {
	from := len(res.Errors)
	if from == 0 {
		// Kept events go to p.evs and are copied out once, exactly sized: a record's
		// events are not known in advance, and growing res.Errors by appending cost
		// about twice what it keeps.
		res.Errors = p.evs[:0]
	}
	defer func() {
		n := len(res.Errors)
		if !p.noStitch {
			// Traces split one line per event become one event (pkg/stitch).
			res.Errors = res.Errors[:from+len(stitch.Join(res.Errors[from:]))]
		}
		if from == 0 {
			evs := res.Errors
			res.Errors = nil
			if len(evs) > 0 {
				res.Errors = p.room(len(evs))
				copy(res.Errors, evs)
			}
			clear(evs[:n])
			p.evs = evs[:0]
		}
	}()
	p.reset(b, st, res)
	if cap(p.scratch) < len(b)+8 {
		p.scratch = make([]byte, 0, len(b)+8+len(b)/4)
	}
	defer p.reset(nil, nil, nil)
	controls, bad := jsonscan.CheckText(b)
	if bad >= 0 {
		return syntax(&jsonscan.SyntaxError{Offset: bad, Msg: "bad string escape"})
	}
	p.strict = controls
	docs := 0
	i := 0
	for {
		i = jsonscan.SkipWS(b, i)
		if i >= len(b) {
			break
		}
		if b[i] != '{' {
			if docs == 0 {
				return syntax(&jsonscan.SyntaxError{Offset: i, Msg: "not a JSON object"})
			}
			return syntax(&jsonscan.SyntaxError{Offset: i, Msg: "text after the documents"})
		}
		end, err := p.parseDoc(i)
		if err != nil {
			var re *RecordError
			if errors.As(err, &re) {
				return re
			}
			return syntax(err)
		}
		docs++
		i = end
	}
	if docs == 0 {
		return syntax(&jsonscan.SyntaxError{Offset: 0, Msg: "no JSON document"})
	}
	return nil
}

// Members of a document and of a log event the parser reads, as bits of a seen-set: each
// may appear once.
const (
	mMessageType = 1 << iota
	mOwner
	mLogGroup
	mLogStream
	mLogEvents
)

const (
	mID = 1 << iota
	mTimestamp
	mMessage
	mExtracted
	mAccount
	mRegion
)

// once marks bit in *seen; a member given twice rejects the record (encoding/json would
// keep the last, a streaming reader the first: neither is what the sender meant).
func once(seen *uint8, bit uint8, name string) error {
	if *seen&bit != 0 {
		return reject("repeated " + name)
	}
	*seen |= bit
	return nil
}

// memberName returns the name of the member whose raw name is b[start:end]: b itself,
// or unescaped into p.name when it holds escapes.
func (p *parser) memberName(start, end int, esc bool) []byte {
	if !esc {
		return p.b[start:end]
	}
	p.name, _ = jsonscan.Unescape(p.name[:0], p.b[start:end]) // validated by jsonscan.Key
	return p.name
}

// parseDoc reads the document at b[i] == '{' and returns the index after it.
func (p *parser) parseDoc(i int) (int, error) {
	b := p.b
	p.owner, p.group, p.stream = span{}, span{}, span{}
	p.ownerS, p.groupS, p.streamS, p.haveStrings = "", "", "", false
	p.resetCrumbs()
	defer p.endDoc() // also for a document that goes wrong: its events so far keep theirs
	var seen uint8
	eventsAt := -1 // logEvents seen before the header was complete
	eventsDone := false
	control, data := false, false
	i++
	for first := true; ; first = false {
		next, done, err := jsonscan.Member(b, i, first, '}', "document")
		if err != nil {
			return 0, err
		}
		if i = next; done {
			break
		}
		ks, ke, kesc, v, err := jsonscan.Key(b, i)
		if err != nil {
			return 0, err
		}
		i = v
		switch string(p.memberName(ks, ke, kesc)) {
		case "messageType":
			if err := once(&seen, mMessageType, "messageType"); err != nil {
				return 0, err
			}
			var mt span
			if mt, i, err = p.optString(i, "messageType"); err != nil {
				return 0, err
			}
			if !mt.set {
				seen &^= mMessageType // null: as if left out
				break
			}
			switch v := p.value(mt); string(v) {
			case "DATA_MESSAGE":
				data = true
			case "CONTROL_MESSAGE":
				control = true
			default:
				return 0, reject("unknown messageType " + strconv.Quote(string(v)))
			}
		case "owner":
			if err := once(&seen, mOwner, "owner"); err != nil {
				return 0, err
			}
			p.owner, i, err = p.optString(i, "owner")
		case "logGroup":
			if err := once(&seen, mLogGroup, "logGroup"); err != nil {
				return 0, err
			}
			p.group, i, err = p.optString(i, "logGroup")
		case "logStream":
			if err := once(&seen, mLogStream, "logStream"); err != nil {
				return 0, err
			}
			p.stream, i, err = p.optString(i, "logStream")
		case "logEvents":
			if err := once(&seen, mLogEvents, "logEvents"); err != nil {
				return 0, err
			}
			switch {
			case b[i] == 'n':
				seen &^= mLogEvents
				i, err = jsonscan.Literal(b, i, "null")
			case b[i] != '[':
				return 0, reject("logEvents is not an array")
			case control || (data && seen&(mOwner|mLogGroup|mLogStream) == mOwner|mLogGroup|mLogStream):
				i, err = p.events(i, data)
				eventsDone = true
			default:
				eventsAt = i
				i, err = jsonscan.SkipValue(b, i, 1)
			}
		default:
			i, err = jsonscan.SkipValue(b, i, 1)
		}
		if err != nil {
			return 0, err
		}
	}
	switch {
	case seen&mMessageType == 0:
		return 0, reject("no messageType")
	case seen&mLogEvents == 0:
		return 0, reject("no logEvents")
	}
	if !eventsDone && eventsAt >= 0 {
		if _, err := p.events(eventsAt, data); err != nil {
			return 0, err
		}
	}
	p.res.Control = p.res.Control || control
	p.res.Data = p.res.Data || data
	return i, nil
}

// stringSpan reads the JSON string at b[i], validated.
func (p *parser) stringSpan(i int) (span, int, error) {
	b := p.b
	if i >= len(b) || b[i] != '"' {
		return span{}, 0, &jsonscan.SyntaxError{Offset: i, Msg: "expected a string"}
	}
	if p.strict {
		end, esc, err := jsonscan.ValidString(b, i)
		if err != nil {
			return span{}, 0, err
		}
		return span{start: i + 1, end: end - 1, esc: esc, set: true}, end, nil
	}
	end, esc, ok := jsonscan.ScanString(b, i)
	if !ok {
		return span{}, 0, &jsonscan.SyntaxError{Offset: i, Msg: "unterminated string"}
	}
	return span{start: i + 1, end: end - 1, esc: esc, set: true}, end, nil
}

// optString reads a string member: null leaves it unset, another type rejects the record.
func (p *parser) optString(i int, what string) (span, int, error) {
	switch p.b[i] {
	case '"':
		return p.stringSpan(i)
	case 'n':
		end, err := jsonscan.Literal(p.b, i, "null")
		return span{}, end, err
	}
	return span{}, 0, reject(what + " is not a string")
}

// value returns the content of s: b itself, or unescaped into p.name.
func (p *parser) value(s span) []byte {
	if !s.esc {
		return p.b[s.start:s.end]
	}
	p.name, _ = jsonscan.Unescape(p.name[:0], p.b[s.start:s.end]) // validated
	return p.name
}

// stringOf allocates the string of s ("" when s is unset).
func (p *parser) stringOf(s span) string {
	if !s.esc {
		return string(p.b[s.start:s.end])
	}
	out, _ := jsonscan.Unescape(nil, p.b[s.start:s.end]) // validated
	return string(out)
}

// events reads the logEvents array at b[i] == '['. Events of CONTROL_MESSAGE documents are
// checked for shape (objects of valid JSON) and dropped.
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
				return 0, reject("a log event is not an object")
			}
		}
		if !data {
			if i, err = jsonscan.SkipValue(b, i, 2); err != nil {
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
	var id, account, region, xAccount, xRegion span
	tsAt := -1         // the timestamp, read by p.number
	tsChecked := false // a plain integer that fits: read only when the event is kept
	var msg span       // the message's raw (escaped) content
	var err error
	var seen uint8
	first := true
	closed := false // the fast path read the whole event
	// The fast path: CloudWatch's own compact layout, {"id":"..","timestamp":N,"message":".."}.
	// (Literal comparisons: the compiler turns them into a few word loads.)
	if len(b)-i >= 7 && string(b[i:i+7]) == `{"id":"` {
		// A quote with no backslash before it ends the id (CheckText checked its escapes;
		// whether it holds any matters only for a kept event).
		if k := bytes.IndexByte(b[i+7:], '"') + i + 7; !p.strict && k >= i+7 && b[k-1] != '\\' {
			id, i = span{start: i + 7, end: k, set: true}, k+1 // esc: found by keep
		} else if id, i, err = p.stringSpan(i + 6); err != nil {
			return 0, err
		}
		first, seen = false, mID
		if len(b)-i >= 13 && string(b[i:i+13]) == `,"timestamp":` {
			// Whitespace may follow the colon (defect 1 of issue 14: it was rejected).
			if tsAt = jsonscan.SkipWS(b, i+13); tsAt < len(b) && b[tsAt] == 'n' {
				tsAt = -1 // null: left to the general loop below
			} else {
				if end, ok := jsonscan.SimpleInt(b, tsAt); ok {
					i, tsChecked = end, true
				} else if i, err = jsonscan.Number(b, tsAt); err != nil {
					return 0, err
				}
				seen |= mTimestamp
				if len(b)-i >= 12 && string(b[i:i+12]) == `,"message":"` {
					if msg, i, err = p.stringSpan(i + 11); err != nil {
						return 0, err
					}
					seen |= mMessage
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
		ks, ke, kesc, v, err := jsonscan.Key(b, i)
		if err != nil {
			return 0, err
		}
		i = v
		switch string(p.memberName(ks, ke, kesc)) {
		case "message":
			if err = once(&seen, mMessage, "message"); err == nil {
				msg, i, err = p.optString(i, "message")
			}
		case "id":
			if err = once(&seen, mID, "id"); err != nil {
				break
			}
			switch c := b[i]; {
			case c == '-' || '0' <= c && c <= '9':
				// A numeric id (hand-written payloads): its text, marked as a number.
				start := i
				i, err = jsonscan.Number(b, i)
				id = span{start: start, end: i, set: true, number: true}
			case c == '"' || c == 'n':
				id, i, err = p.optString(i, "id")
			default:
				err = reject("id is not a string or a number")
			}
		case "timestamp":
			if err = once(&seen, mTimestamp, "timestamp"); err != nil {
				break
			}
			switch c := b[i]; {
			case c == 'n':
				tsAt, tsChecked = -1, false
				i, err = jsonscan.Literal(b, i, "null")
			case c == '-' || '0' <= c && c <= '9':
				tsAt, tsChecked = i, false
				i, err = jsonscan.Number(b, i)
			default:
				err = reject("timestamp is not a number")
			}
		case "extractedFields":
			if err = once(&seen, mExtracted, "extractedFields"); err == nil {
				i, err = p.extracted(i, &xAccount, &xRegion)
			}
		case "@aws.account":
			if err = once(&seen, mAccount, "@aws.account"); err == nil {
				account, i, err = p.optString(i, "@aws.account")
			}
		case "@aws.region":
			if err = once(&seen, mRegion, "@aws.region"); err == nil {
				region, i, err = p.optString(i, "@aws.region")
			}
		default:
			i, err = jsonscan.SkipValue(b, i, 3)
		}
		if err != nil {
			return 0, err
		}
	}
	p.res.Events++
	if id.start == id.end {
		// Without an id, distinct events would share one identity and be counted once
		// (defect 5 of issue 14). CloudWatch always sends one.
		return 0, &RecordError{Reason: "log event " + strconv.Itoa(p.res.Events-1) + " has no id"}
	}
	p.note(msg, tsAt)
	var ts int64
	if tsAt >= 0 && !tsChecked {
		// Not a plain integer: read now, since one out of int64 rejects the record.
		if ts, err = p.number(tsAt); err != nil {
			return 0, err
		}
	}
	if p.visitor != nil {
		if tsChecked {
			ts, _ = p.number(tsAt)
		}
		return p.visit(i, msg, id, ts, account, xAccount, xRegion, region)
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
		if l, ok = level.OfEscaped(b[msg.start:msg.end]); ok && !l.IsErrorClass() && !p.candidate(b[msg.start:msg.end]) {
			return i, nil
		}
		if m, _, err = p.readMessage(msg.start - 1); err != nil {
			return 0, err
		}
		if !ok {
			l = level.Of(m)
		}
	}
	if !l.IsErrorClass() && (!msg.set || !p.candidate(b[msg.start:msg.end])) {
		return i, nil
	}
	if xAccount.set && xAccount.start != xAccount.end {
		account = xAccount
	}
	if tsChecked {
		ts, _ = p.number(tsAt)
	}
	p.keep(m, l, id, ts, account, xRegion, region)
	return i, nil
}

// candidate reports an event that is not error-class but may belong to a trace
// split across events (pkg/stitch joins or drops it).
func (p *parser) candidate(raw []byte) bool { return !p.noStitch && stitch.Candidate(raw) }

// keep materialises an error-class event (or a stitch candidate).
// The event's region is the first of xRegion (extractedFields) and region (the event's top
// level) that is AWS region syntax, else the stamp's.
func (p *parser) keep(msg []byte, l event.Level, id span, ts int64, account, xRegion, region span) {
	if !p.haveStrings {
		p.ownerS, p.groupS, p.streamS = p.stringOf(p.owner), p.stringOf(p.group), p.stringOf(p.stream)
		p.haveStrings = true
	}
	st := p.st
	ev := event.Event{
		Drain: st.Drain, Org: st.Org, Env: st.Env,
		Account: p.ownerS, Region: st.Region,
		LogGroup: p.groupS, LogStream: p.streamS,
		Timestamp: ts, Level: l, IDIsNumber: id.number,
		FirehoseRequestID: st.RequestID, Attributes: st.Attributes,
	}
	if !p.noStitch {
		ev.Seq = p.res.Events
	}
	if !id.esc {
		id.esc = bytes.IndexByte(p.b[id.start:id.end], '\\') >= 0 // the fast path leaves it to here
	}
	// The id and the message go together into the text arena (an escaped id unescaped
	// first, into p.name).
	raw := p.b[id.start:id.end]
	if id.esc {
		raw, _ = jsonscan.Unescape(p.name[:0], raw) // validated
		p.name = raw
	}
	n := len(raw) + len(msg)
	if cap(p.text)-len(p.text) < n {
		p.text = make([]byte, 0, max(textChunk, n))
	}
	start := len(p.text)
	p.text = append(append(p.text, raw...), msg...)
	// These bytes are never written again (the arena is only appended to): the strings
	// may share them.
	both := unsafe.String(unsafe.SliceData(p.text[start:]), n)
	ev.ID, ev.Message = both[:len(raw)], both[len(raw):]
	if account.set && account.start != account.end {
		ev.Account = p.reuse(account, &p.lastAccount)
	}
	// A region that is not AWS region syntax is ignored (defect 9 of issue 14: it ends up
	// in console links).
	for _, r := range [2]span{xRegion, region} {
		if r.set {
			if v := p.reuse(r, &p.lastRegion); event.ValidRegion(v) {
				ev.Region = v
				break
			}
		}
	}
	// The identity is computed here, once, from the bytes as decoded, and carried to the
	// grouper (defect 6 of issue 14).
	ev.IdentityKey = p.identity(&ev)
	if l.IsErrorClass() {
		p.pendCrumbs() // given at the document's end (endDoc)
	}
	p.res.Errors = append(p.res.Errors, ev)
}

// identity is ev.ComputeIdentity(), its digits in the text arena.
func (p *parser) identity(ev *event.Event) string {
	const n = 64 // hex SHA-256
	if cap(p.text)-len(p.text) < n {
		p.text = make([]byte, 0, textChunk)
	}
	start := len(p.text)
	p.text = ev.AppendIdentity(p.text)
	// Never written again: the arena is only appended to.
	return unsafe.String(unsafe.SliceData(p.text[start:]), len(p.text)-start)
}

// reuse returns the string of s, reusing *last when it is the same.
func (p *parser) reuse(s span, last *string) string {
	if !s.esc && string(p.b[s.start:s.end]) == *last {
		return *last
	}
	*last = p.stringOf(s)
	return *last
}

// extracted reads @aws.account and @aws.region from the extractedFields object at b[i]
// (or null).
func (p *parser) extracted(i int, account, region *span) (int, error) {
	b := p.b
	switch b[i] {
	case 'n':
		return jsonscan.Literal(b, i, "null")
	case '{':
	default:
		return 0, reject("extractedFields is not an object")
	}
	var seen uint8
	i++
	for first := true; ; first = false {
		next, done, err := jsonscan.Member(b, i, first, '}', "extractedFields")
		if err != nil || done {
			return next, err
		}
		ks, ke, kesc, v, err := jsonscan.Key(b, next)
		if err != nil {
			return 0, err
		}
		i = v
		switch string(p.memberName(ks, ke, kesc)) {
		case "@aws.account":
			if err = once(&seen, mAccount, "extractedFields @aws.account"); err == nil {
				*account, i, err = p.optString(i, "extractedFields @aws.account")
			}
		case "@aws.region":
			if err = once(&seen, mRegion, "extractedFields @aws.region"); err == nil {
				*region, i, err = p.optString(i, "extractedFields @aws.region")
			}
		default:
			i, err = jsonscan.SkipValue(b, i, 4)
		}
		if err != nil {
			return 0, err
		}
	}
}

// number reads the timestamp at b[i], a JSON number already validated: an integer exactly,
// anything else as a float truncated toward zero. A value outside int64 rejects the
// record. (encoding/json's json.Number: Int64, else Float64.)
func (p *parser) number(i int) (int64, error) {
	b := p.b
	j, neg := i, false
	if b[j] == '-' {
		neg = true
		j++
	}
	var n int64
	k := j
	for k < len(b) && b[k]-'0' < 10 && k-j < 18 {
		n = n*10 + int64(b[k]-'0')
		k++
	}
	if k == len(b) || b[k] != '.' && b[k] != 'e' && b[k] != 'E' && b[k]-'0' >= 10 {
		if neg {
			n = -n
		}
		return n, nil
	}
	end, _ := jsonscan.Number(b, i)
	text := unsafe.String(unsafe.SliceData(b[i:end]), end-i)
	if v, err := strconv.ParseInt(text, 10, 64); err == nil {
		return v, nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, reject("timestamp " + text + " is out of range")
	}
	return int64(f), nil
}

// readMessage reads the JSON string at b[i] == '"': a slice of b when it has no escapes,
// else unescaped into p.scratch (valid until the next call), which parseRecord sizes for
// the whole record.
func (p *parser) readMessage(i int) ([]byte, int, error) {
	return jsonscan.ReadString(p.b, i, p.scratch)
}
