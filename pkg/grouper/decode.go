package grouper

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/aient/firehose-drain/internal/jsonscan"
	"github.com/aient/firehose-drain/pkg/event"
)

// decodeFast reads a queue message body of the shapes the ingest sends — one event object,
// or {"events": [event, ...]} — without reflection: each object's members are
// event.Event's JSON names spelled exactly (no escape in a name), each at most once, with
// values of their own type (strings valid UTF-8, the timestamp an integer, the flags true
// or false, attributes an object of strings, breadcrumbs an array of {time, level,
// message}). Anything else (another spelling or member, null, a duplicate, invalid UTF-8,
// malformed JSON, something after the value) is ok false: Decode reads the body with
// encoding/json then, which decides the result and the error. So the fast path never
// changes what a body decodes to (FuzzDecode holds it to encoding/json); it only skips
// reflection for the bodies the ingest writes, ~10 µs an event on the grouper's critical
// path.
func decodeFast(body []byte) (wires []wireEvent, ok bool) {
	i := jsonscan.SkipWS(body, 0)
	if i >= len(body) || body[i] != '{' {
		return nil, false
	}
	packed := false
	if k := jsonscan.SkipWS(body, i+1); k < len(body) && body[k] == '"' {
		if start, end, esc, _, err := jsonscan.Key(body, k); err == nil && !esc && string(body[start:end]) == "events" {
			packed = true
		}
	}
	var end int
	if packed {
		seen := false
		end, ok = walk(body, i, func(key []byte, v int) (int, bool) {
			if string(key) != "events" || seen || v >= len(body) || body[v] != '[' {
				return 0, false
			}
			seen = true
			n, err := jsonscan.WalkArray(body, v, 1, func(v int) (int, error) {
				w, end, ok := flatEvent(body, v)
				if !ok {
					return 0, errFallback
				}
				wires = append(wires, w)
				return end, nil
			})
			return n, err == nil
		})
		// An empty list is not the ingest's: encoding/json says what it is.
		ok = ok && len(wires) > 0
	} else {
		var w wireEvent
		w, end, ok = flatEvent(body, i)
		wires = []wireEvent{w}
	}
	if !ok || jsonscan.SkipWS(body, end) != len(body) {
		return nil, false
	}
	return wires, true
}

// errFallback stops a walk: the body is not one the fast path reads.
var errFallback = &jsonscan.SyntaxError{Msg: "not a body the fast path reads"}

// walk is jsonscan.WalkObject with a member function that answers ok.
func walk(b []byte, i int, fn func(key []byte, v int) (int, bool)) (int, bool) {
	end, err := jsonscan.WalkObject(b, i, 0, func(key []byte, v int) (int, error) {
		n, ok := fn(key, v)
		if !ok {
			return 0, errFallback
		}
		return n, nil
	})
	return end, err == nil
}

// The members of an event object, one bit each (a member given twice is left to
// encoding/json).
const (
	mDrain = 1 << iota
	mOrg
	mEnv
	mAccount
	mRegion
	mLogGroup
	mLogStream
	mID
	mIDIsNumber
	mTimestamp
	mMessage
	mLevel
	mFirehoseRequestID
	mAttributes
	mTruncated
	mIdentityKey
	mBreadcrumbs
)

// eventMembers are event.Event's JSON names (TestDecodeFastKnowsEveryField keeps them so).
var eventMembers = map[string]int{
	"drain": mDrain, "org": mOrg, "env": mEnv, "account": mAccount, "region": mRegion,
	"logGroup": mLogGroup, "logStream": mLogStream, "id": mID, "idIsNumber": mIDIsNumber,
	"timestamp": mTimestamp, "message": mMessage, "level": mLevel,
	"firehoseRequestId": mFirehoseRequestID, "attributes": mAttributes, "truncated": mTruncated,
	"identityKey": mIdentityKey, "breadcrumbs": mBreadcrumbs,
}

// flatEvent reads the event object at b[i] == '{'. (A loop of its own rather than
// jsonscan.WalkObject: no closure to allocate per event.)
func flatEvent(b []byte, i int) (w wireEvent, end int, ok bool) {
	if i >= len(b) || b[i] != '{' {
		return w, 0, false
	}
	have := 0
	i++
	for first := true; ; first = false {
		next, done, err := jsonscan.Member(b, i, first, '}', "input")
		if err != nil {
			return w, 0, false
		}
		if done {
			return w, next, true
		}
		start, stop, esc, v, err := jsonscan.Key(b, next)
		if err != nil || esc {
			return w, 0, false
		}
		m := eventMembers[string(b[start:stop])]
		if m == 0 || have&m != 0 {
			return w, 0, false
		}
		have |= m
		if i, ok = member(b, v, m, &w); !ok {
			return w, 0, false
		}
	}
}

// member reads the value at b[v] of event member m into w.
func member(b []byte, v, m int, w *wireEvent) (int, bool) {
	e := &w.Event
	var s *string
	switch m {
	case mDrain:
		s = &e.Drain
	case mOrg:
		s = &e.Org
	case mEnv:
		s = &e.Env
	case mAccount:
		s = &e.Account
	case mRegion:
		s = &e.Region
	case mLogGroup:
		s = &e.LogGroup
	case mLogStream:
		s = &e.LogStream
	case mID:
		s = &e.ID
	case mFirehoseRequestID:
		s = &e.FirehoseRequestID
	case mIdentityKey:
		s = &e.IdentityKey
	case mLevel:
		str, n, ok := readString(b, v)
		e.Level = event.Level(str)
		return n, ok
	case mMessage:
		str, n, ok := readString(b, v)
		w.Message = &str
		return n, ok
	case mIDIsNumber:
		return readBool(b, v, &e.IDIsNumber)
	case mTruncated:
		return readBool(b, v, &e.Truncated)
	case mTimestamp:
		return readInt(b, v, &e.Timestamp)
	case mAttributes:
		return readAttributes(b, v, &e.Attributes)
	case mBreadcrumbs:
		return readBreadcrumbs(b, v, &e.Breadcrumbs)
	default:
		return 0, false
	}
	var (
		n  int
		ok bool
	)
	*s, n, ok = readString(b, v)
	return n, ok
}

// readString reads the string at b[i], which must be one and valid UTF-8 once unescaped.
func readString(b []byte, i int) (string, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return "", 0, false
	}
	s, end, err := jsonscan.ReadValidString(b, i)
	if err != nil || !utf8.Valid(s) {
		return "", 0, false
	}
	return string(s), end, true
}

func readBool(b []byte, i int, into *bool) (int, bool) {
	if end, err := jsonscan.Literal(b, i, "true"); err == nil {
		*into = true
		return end, true
	}
	if end, err := jsonscan.Literal(b, i, "false"); err == nil {
		*into = false
		return end, true
	}
	return 0, false
}

// readInt reads an integer that fits an int64: digits with an optional minus, no
// fraction or exponent.
func readInt(b []byte, i int, into *int64) (int, bool) {
	end, err := jsonscan.Number(b, i)
	if err != nil {
		return 0, false
	}
	for _, c := range b[i:end] {
		if c == '.' || c == 'e' || c == 'E' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(string(b[i:end]), 10, 64)
	if err != nil {
		return 0, false
	}
	*into = n
	return end, true
}

func readAttributes(b []byte, i int, into *map[string]string) (int, bool) {
	if i >= len(b) || b[i] != '{' {
		return 0, false
	}
	m := map[string]string{}
	end, ok := walk(b, i, func(key []byte, v int) (int, bool) {
		if !utf8.Valid(key) {
			return 0, false
		}
		s, n, ok := readString(b, v)
		m[string(key)] = s
		return n, ok
	})
	*into = m
	return end, ok
}

func readBreadcrumbs(b []byte, i int, into *[]event.Breadcrumb) (int, bool) {
	if i >= len(b) || b[i] != '[' {
		return 0, false
	}
	out := []event.Breadcrumb{}
	end, err := jsonscan.WalkArray(b, i, 1, func(v int) (int, error) {
		var (
			c    event.Breadcrumb
			have int
		)
		if v >= len(b) || b[v] != '{' {
			return 0, errFallback
		}
		end, ok := walk(b, v, func(key []byte, v int) (int, bool) {
			var m int
			switch string(key) {
			case "time":
				m = 1
			case "level":
				m = 2
			case "message":
				m = 4
			}
			if m == 0 || have&m != 0 {
				return 0, false
			}
			have |= m
			switch m {
			case 1:
				return readTime(b, v, &c.Time)
			case 2:
				s, n, ok := readString(b, v)
				c.Level = event.Level(s)
				return n, ok
			default:
				s, n, ok := readString(b, v)
				c.Message = s
				return n, ok
			}
		})
		if !ok {
			return 0, errFallback
		}
		out = append(out, c)
		return end, nil
	})
	*into = out
	return end, err == nil
}

// readTime reads a time as time.Time's UnmarshalJSON does, from a string without escapes.
func readTime(b []byte, i int, into *time.Time) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	end, esc, err := jsonscan.ValidString(b, i)
	if err != nil || esc {
		return 0, false
	}
	if err := into.UnmarshalJSON(b[i:end]); err != nil {
		return 0, false
	}
	return end, true
}
