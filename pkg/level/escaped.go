package level

import (
	"bytes"
	"encoding/binary"

	"github.com/aient/firehose-drain/pkg/event"
)

// OfEscaped classifies a message from its JSON-escaped form (the bytes between the quotes of
// a JSON string), without unescaping it, when the message has one of the common shapes that
// decide cheaply: a Lambda text line (`<ts>\t<requestId>\t<LEVEL>\t...`), a Python
// `[LEVEL]` line, a Lambda platform line (START, END, REPORT, INIT_START, ...) or a JSON log
// whose leading simple fields hold its level. ok is false when it cannot tell; the caller
// then unescapes the message and calls Of. When ok is true the level is exactly what Of
// returns for the unescaped message.
func OfEscaped(raw []byte) (l event.Level, ok bool) {
	if len(raw) == 0 {
		return event.Unknown, false
	}
	switch c := raw[0]; {
	case '0' <= c && c <= '9':
		return escapedLambdaText(raw)
	case c == '[':
		return escapedBracket(raw)
	case c == '{':
		return escapedJSON(raw)
	case c == 'S' || c == 'E' || c == 'I' || c == 'R':
		return escapedPlatform(raw)
	}
	return event.Unknown, false
}

// escapedLambdaText decides `<ts>\t<requestId>\t<LEVEL>\t...` when the first three
// fields hold no escapes but the tabs.
func escapedLambdaText(raw []byte) (event.Level, bool) {
	f0, rest, ok := tabField(raw)
	if !ok || len(f0) > 40 {
		return event.Unknown, false
	}
	f1, rest, ok := tabField(rest)
	if !ok || len(f1) > 64 {
		return event.Unknown, false
	}
	f2, _, ok := tabField(rest)
	if !ok {
		return event.Unknown, false
	}
	f2 = bytes.TrimRight(f2, " ")
	if l, ok := valueLevel(f2); ok {
		return l, true
	}
	return event.Unknown, false
}

// tabField splits raw at its first escape, which must be a tab (`\t`).
func tabField(raw []byte) (field, rest []byte, ok bool) {
	k := bytes.IndexByte(raw, '\\')
	if k < 0 || k+1 >= len(raw) || raw[k+1] != 't' || hasControl(raw[:k]) {
		return nil, nil, false
	}
	return raw[:k], raw[k+2:], true
}

// hasControl reports a raw control byte (< 0x20), which a lenient producer may leave
// unescaped. It tests eight bytes at a time: (w - 0x20..) &^ w & 0x80.. is non-zero
// exactly when some byte of w is below 0x20.
func hasControl(b []byte) bool {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	for len(b) >= 8 {
		w := binary.LittleEndian.Uint64(b)
		if (w-0x20*lsb)&^w&msb != 0 {
			return true
		}
		b = b[8:]
	}
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// escapedBracket decides a leading `[LEVEL]` with no escapes before the bracket closes.
func escapedBracket(raw []byte) (event.Level, bool) {
	end := bytes.IndexByte(raw, ']')
	if end < 0 || end > 16 || bytes.IndexByte(raw[:end], '\\') >= 0 || hasControl(raw[:end]) {
		return event.Unknown, false
	}
	return valueLevel(bytes.TrimSpace(raw[1:end]))
}

// escapedPlatform decides the Lambda platform lines. A REPORT line is only decided when
// it holds no "Status: " and no \u escape (which could spell one).
func escapedPlatform(raw []byte) (event.Level, bool) {
	report := false
	switch raw[0] {
	case 'S':
		if hasPrefix(raw, "START RequestId:") {
			return event.Info, true
		}
	case 'E':
		if hasPrefix(raw, "END RequestId:") {
			return event.Info, true
		}
	case 'I':
		if hasPrefix(raw, "INIT_START ") {
			return event.Info, true
		}
		report = hasPrefix(raw, "INIT_REPORT ")
	case 'R':
		if hasPrefix(raw, "RESTORE_START ") {
			return event.Info, true
		}
		report = hasPrefix(raw, "REPORT RequestId:") || hasPrefix(raw, "RESTORE_REPORT ")
	}
	if !report || contains(raw, "Status: ") || contains(raw, `\u`) {
		return event.Unknown, false
	}
	return event.Info, true
}

// escapedJSON walks the leading simple fields of an escaped JSON object — keys and string
// values without escapes, numbers, booleans — until a level field decides.
func escapedJSON(raw []byte) (event.Level, bool) {
	i := 1
	for fields := 0; fields < 8; fields++ {
		if fields > 0 {
			if i >= len(raw) || raw[i] != ',' {
				return event.Unknown, false
			}
			i++
		}
		key, next, ok := escapedString(raw, i)
		if !ok || i+2 > len(raw) || next >= len(raw) || raw[next] != ':' {
			return event.Unknown, false
		}
		i = next + 1
		if i >= len(raw) {
			return event.Unknown, false
		}
		levelKey := isLevelKey(key)
		switch c := raw[i]; {
		case c == '\\':
			val, next, ok := escapedString(raw, i)
			if !ok {
				return event.Unknown, false
			}
			if levelKey {
				if l, ok := valueLevel(bytes.TrimSpace(val)); ok {
					return l, true
				}
			}
			i = next
		case '0' <= c && c <= '9':
			j := i
			n := 0
			for j < len(raw) && '0' <= raw[j] && raw[j] <= '9' {
				if n < 1000 {
					n = n*10 + int(raw[j]-'0')
				}
				j++
			}
			if levelKey {
				if l, ok := numberLevel(n); ok {
					return l, true
				}
			}
			for j < len(raw) && (raw[j] == '.' || raw[j] == 'e' || raw[j] == 'E' || raw[j] == '+' || raw[j] == '-' || '0' <= raw[j] && raw[j] <= '9') {
				j++
			}
			i = j
		default:
			return event.Unknown, false
		}
	}
	return event.Unknown, false
}

// escapedString reads `\"text\"` at raw[i] where text holds no backslash; next is the
// index after the closing `\"`.
func escapedString(raw []byte, i int) (s []byte, next int, ok bool) {
	if i+1 >= len(raw) || raw[i] != '\\' || raw[i+1] != '"' {
		return nil, 0, false
	}
	start := i + 2
	k := bytes.IndexByte(raw[start:], '\\')
	if k < 0 {
		return nil, 0, false
	}
	end := start + k
	if end+1 >= len(raw) || raw[end+1] != '"' {
		return nil, 0, false
	}
	if hasControl(raw[start:end]) {
		return nil, 0, false
	}
	return raw[start:end], end + 2, true
}
