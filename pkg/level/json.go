package level

import (
	"bytes"

	"github.com/aient/firehose-drain/internal/jsonscan"
	"github.com/aient/firehose-drain/pkg/event"
)

// maxDepth bounds nesting while skipping JSON values.
const maxDepth = 64

// ofJSON reads the level of a structured (JSON object) message: the fields level,
// log_level, loglevel, levelname, severity, @l, @level, lvl, log.level and {"log":{"level"}}
// (pino/bunyan numbers too); a Lambda platform record ({"type":"platform.report",
// "record":{"status":"timeout"}}) and a Lambda error object ({"errorType":..}) without a
// level. ok is false when m is not a JSON object or says nothing about its level.
func ofJSON(m []byte) (event.Level, bool) {
	var platform, failed, errorType bool
	i := 1
	for {
		i = jsonscan.SkipWS(m, i)
		if i >= len(m) {
			return event.Unknown, false
		}
		if m[i] == '}' {
			break
		}
		if m[i] == ',' {
			i = jsonscan.SkipWS(m, i+1)
		}
		if i >= len(m) || m[i] != '"' {
			return event.Unknown, false
		}
		kEnd, _, ok := jsonscan.ScanString(m, i)
		if !ok {
			return event.Unknown, false
		}
		key := m[i+1 : kEnd-1]
		i = jsonscan.SkipWS(m, kEnd)
		if i >= len(m) || m[i] != ':' {
			return event.Unknown, false
		}
		i = jsonscan.SkipWS(m, i+1)
		if i >= len(m) {
			return event.Unknown, false
		}
		switch {
		case isLevelKey(key):
			if l, ok := levelValue(m, i); ok {
				return l, true
			}
		case equalFold(key, "log") && m[i] == '{':
			if l, ok := nestedLevel(m, i); ok {
				return l, true
			}
		case equalFold(key, "type") && m[i] == '"':
			end, _, ok := jsonscan.ScanString(m, i)
			if ok && hasPrefix(m[i+1:end-1], "platform.") {
				platform = true
			}
		case equalFold(key, "record") && m[i] == '{':
			failed = recordFailed(m, i)
		case string(key) == "errorType":
			errorType = true
		}
		end, ok := skipValue(m, i, 0)
		if !ok {
			return event.Unknown, false
		}
		i = end
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

// levelValue reads a level field's value at m[i]: a level word or a pino number.
func levelValue(m []byte, i int) (event.Level, bool) {
	switch c := m[i]; {
	case c == '"':
		end, _, ok := jsonscan.ScanString(m, i)
		if !ok {
			return event.Unknown, false
		}
		return valueLevel(bytes.TrimSpace(m[i+1 : end-1]))
	case '0' <= c && c <= '9':
		n := 0
		for ; i < len(m) && '0' <= m[i] && m[i] <= '9' && n < 1000; i++ {
			n = n*10 + int(m[i]-'0')
		}
		return numberLevel(n)
	}
	return event.Unknown, false
}

// nestedLevel reads {"level": ...} inside the object at m[i].
func nestedLevel(m []byte, i int) (event.Level, bool) {
	found := event.Unknown
	ok := false
	walkObject(m, i, func(key []byte, v int) bool {
		if equalFold(key, "level") {
			found, ok = levelValue(m, v)
			return !ok
		}
		return true
	})
	return found, ok
}

// recordFailed reports {"status": "timeout"|"error"|"failure"} inside the object at m[i].
func recordFailed(m []byte, i int) bool {
	failed := false
	walkObject(m, i, func(key []byte, v int) bool {
		if string(key) == "status" && m[v] == '"' {
			end, _, ok := jsonscan.ScanString(m, v)
			if ok {
				s := m[v+1 : end-1]
				failed = equalFold(s, "timeout") || equalFold(s, "error") || equalFold(s, "failure")
			}
			return false
		}
		return true
	})
	return failed
}

// walkObject calls fn with each key and the index of its value in the object at m[i],
// until fn returns false or the object ends or is malformed.
func walkObject(m []byte, i int, fn func(key []byte, v int) bool) {
	i++
	for {
		i = jsonscan.SkipWS(m, i)
		if i >= len(m) || m[i] == '}' {
			return
		}
		if m[i] == ',' {
			i = jsonscan.SkipWS(m, i+1)
		}
		if i >= len(m) || m[i] != '"' {
			return
		}
		kEnd, _, ok := jsonscan.ScanString(m, i)
		if !ok {
			return
		}
		key := m[i+1 : kEnd-1]
		i = jsonscan.SkipWS(m, kEnd)
		if i >= len(m) || m[i] != ':' {
			return
		}
		i = jsonscan.SkipWS(m, i+1)
		if i >= len(m) || !fn(key, i) {
			return
		}
		end, ok := skipValue(m, i, 1)
		if !ok {
			return
		}
		i = end
	}
}

// skipValue returns the index just past the JSON value at m[i]. It checks structure
// loosely: enough to find the value's end without reading past a malformed one.
func skipValue(m []byte, i, depth int) (int, bool) {
	if i >= len(m) || depth > maxDepth {
		return 0, false
	}
	switch m[i] {
	case '"':
		end, _, ok := jsonscan.ScanString(m, i)
		return end, ok
	case '{', '[':
		closer := byte('}')
		if m[i] == '[' {
			closer = ']'
		}
		i++
		for {
			i = jsonscan.SkipWS(m, i)
			if i >= len(m) {
				return 0, false
			}
			switch m[i] {
			case closer:
				return i + 1, true
			case ',', ':':
				i++
				continue
			case '}', ']':
				return 0, false
			}
			end, ok := skipValue(m, i, depth+1)
			if !ok {
				return 0, false
			}
			i = end
		}
	default:
		j := i
		for j < len(m) {
			c := m[j]
			if c == ',' || c == '}' || c == ']' || c == ':' || jsonscan.IsSpace(c) {
				break
			}
			j++
		}
		if j == i {
			return 0, false
		}
		return j, true
	}
}
