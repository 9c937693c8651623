package level

import (
	"bytes"

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
	var (
		platform, failed, errorType bool
	)
	i := 1
	for {
		i = skipWS(m, i)
		if i >= len(m) {
			return event.Unknown, false
		}
		if m[i] == '}' {
			break
		}
		if m[i] == ',' {
			i = skipWS(m, i+1)
		}
		if i >= len(m) || m[i] != '"' {
			return event.Unknown, false
		}
		kEnd, ok := scanString(m, i)
		if !ok {
			return event.Unknown, false
		}
		key := m[i+1 : kEnd-1]
		i = skipWS(m, kEnd)
		if i >= len(m) || m[i] != ':' {
			return event.Unknown, false
		}
		i = skipWS(m, i+1)
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
			end, ok := scanString(m, i)
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
		end, ok := scanString(m, i)
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
			end, ok := scanString(m, v)
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
		i = skipWS(m, i)
		if i >= len(m) || m[i] == '}' {
			return
		}
		if m[i] == ',' {
			i = skipWS(m, i+1)
		}
		if i >= len(m) || m[i] != '"' {
			return
		}
		kEnd, ok := scanString(m, i)
		if !ok {
			return
		}
		key := m[i+1 : kEnd-1]
		i = skipWS(m, kEnd)
		if i >= len(m) || m[i] != ':' {
			return
		}
		i = skipWS(m, i+1)
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

func skipWS(m []byte, i int) int {
	for i < len(m) && isSpace(m[i]) {
		i++
	}
	return i
}

// scanString returns the index just past the string that starts at m[i] == '"'.
func scanString(m []byte, i int) (int, bool) {
	j := i + 1
	for {
		k := bytes.IndexByte(m[j:], '"')
		if k < 0 {
			return 0, false
		}
		j += k
		bs := 0
		for p := j - 1; p > i && m[p] == '\\'; p-- {
			bs++
		}
		j++
		if bs%2 == 0 {
			return j, true
		}
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
		return scanString(m, i)
	case '{', '[':
		closer := byte('}')
		if m[i] == '[' {
			closer = ']'
		}
		i++
		for {
			i = skipWS(m, i)
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
			if c == ',' || c == '}' || c == ']' || c == ':' || isSpace(c) {
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
