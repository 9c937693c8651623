package level

import (
	"bytes"

	"github.com/aient/firehose-drain/internal/jsonscan"
	"github.com/aient/firehose-drain/pkg/event"
)

// ofJSON reads the level of a structured (JSON object) message: the fields level,
// log_level, loglevel, levelname, severity, @l, @level, lvl, log.level and {"log":{"level"}}
// (names in any ASCII case; a level word, or a pino/bunyan integer of up to four digits);
// a Lambda platform record ({"type":"platform.report","record":{"status":"timeout"}}) and a
// Lambda error object ({"errorType":..}) without a level. Members are read in order with
// the jsonscan primitives, names and values unescaped as encoding/json unescapes them
// (FuzzOfJSON holds it to a reference built on encoding/json). ok is false when m is not a
// JSON object or says nothing about its level; a message cut short still gives the level
// of a member before the cut.
func ofJSON(m []byte) (event.Level, bool) {
	var platform, failed, errorType bool
	var kbuf [64]byte
	i := 1
	for first := true; ; first = false {
		next, done, err := jsonscan.Member(m, i, first, '}', "message")
		if err != nil {
			return event.Unknown, false
		}
		if done {
			break
		}
		ks, ke, kesc, v, err := jsonscan.Key(m, next)
		if err != nil {
			return event.Unknown, false
		}
		key := unescaped(m[ks:ke], kesc, kbuf[:0])
		switch {
		case isLevelKey(key):
			if l, ok := levelValue(m, v); ok {
				return l, true
			}
		case equalFold(key, "log") && m[v] == '{':
			if l, ok := nestedLevel(m, v); ok {
				return l, true
			}
		case equalFold(key, "type") && m[v] == '"':
			var vbuf [64]byte
			if s, ok := stringValue(m, v, vbuf[:0]); ok && hasPrefix(s, "platform.") {
				platform = true
			}
		case equalFold(key, "record") && m[v] == '{':
			failed = recordFailed(m, v)
		case string(key) == "errorType":
			errorType = true
		}
		if i, err = jsonscan.SkipValue(m, v, 1); err != nil {
			return event.Unknown, false
		}
	}
	switch {
	case platform && failed:
		return event.Error, true
	case platform:
		return event.Info, true
	case errorType:
		return event.Error, true
	}
	return event.Unknown, false
}

// unescaped returns raw, or its unescaped form in buf when esc. A name or value too long
// for buf (never one of the short words read here) comes back nil.
func unescaped(raw []byte, esc bool, buf []byte) []byte {
	if !esc {
		return raw
	}
	if len(raw) > cap(buf) {
		return nil
	}
	out, ok := jsonscan.Unescape(buf, raw)
	if !ok {
		return nil
	}
	return out
}

// stringValue returns the content of the JSON string at m[v] (unescaped into buf).
func stringValue(m []byte, v int, buf []byte) ([]byte, bool) {
	end, esc, err := jsonscan.ValidString(m, v)
	if err != nil {
		return nil, false
	}
	return unescaped(m[v+1:end-1], esc, buf), true
}

func isLevelKey(k []byte) bool {
	switch len(k) {
	case 2:
		return equalFold(k, "@l")
	case 3:
		return equalFold(k, "lvl")
	case 5:
		return equalFold(k, "level")
	case 6:
		return equalFold(k, "@level")
	case 8:
		return equalFold(k, "severity") || equalFold(k, "loglevel")
	case 9:
		return equalFold(k, "log_level") || equalFold(k, "levelname") || equalFold(k, "log.level")
	}
	return false
}

// equalFold compares ASCII case-insensitively; s is lower case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// levelValue reads a level field's value at m[v]: a level word, or a non-negative
// integer of up to four digits (pino/bunyan).
func levelValue(m []byte, v int) (event.Level, bool) {
	switch c := m[v]; {
	case c == '"':
		var buf [64]byte
		s, ok := stringValue(m, v, buf[:0])
		if !ok {
			return event.Unknown, false
		}
		return valueLevel(bytes.TrimSpace(s))
	case '0' <= c && c <= '9':
		end, err := jsonscan.Number(m, v)
		if err != nil || end-v > 4 {
			return event.Unknown, false
		}
		n := 0
		for _, d := range m[v:end] {
			if d < '0' || d > '9' {
				return event.Unknown, false
			}
			n = n*10 + int(d-'0')
		}
		return numberLevel(n)
	}
	return event.Unknown, false
}

// nestedLevel reads the first {"level": ...} that names a level inside the object at m[v].
func nestedLevel(m []byte, v int) (event.Level, bool) {
	var kbuf [64]byte
	i := v + 1
	for first := true; ; first = false {
		next, done, err := jsonscan.Member(m, i, first, '}', "log")
		if err != nil || done {
			return event.Unknown, false
		}
		ks, ke, kesc, v, err := jsonscan.Key(m, next)
		if err != nil {
			return event.Unknown, false
		}
		if equalFold(unescaped(m[ks:ke], kesc, kbuf[:0]), "level") {
			if l, ok := levelValue(m, v); ok {
				return l, true
			}
		}
		if i, err = jsonscan.SkipValue(m, v, 2); err != nil {
			return event.Unknown, false
		}
	}
}

// recordFailed reports whether the first string "status" inside the object at m[v] is
// timeout, error or failure (any ASCII case).
func recordFailed(m []byte, v int) bool {
	var kbuf, vbuf [64]byte
	i := v + 1
	for first := true; ; first = false {
		next, done, err := jsonscan.Member(m, i, first, '}', "record")
		if err != nil || done {
			return false
		}
		ks, ke, kesc, v, err := jsonscan.Key(m, next)
		if err != nil {
			return false
		}
		if string(unescaped(m[ks:ke], kesc, kbuf[:0])) == "status" && m[v] == '"' {
			s, ok := stringValue(m, v, vbuf[:0])
			return ok && (equalFold(s, "timeout") || equalFold(s, "error") || equalFold(s, "failure"))
		}
		if i, err = jsonscan.SkipValue(m, v, 2); err != nil {
			return false
		}
	}
}
