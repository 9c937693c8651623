// Package invocation reads the Lambda request id (the invocation) a CloudWatch Logs message
// belongs to, from the formats the Lambda runtimes write: the platform lines
// (`START RequestId: <id> Version: ...`, `END`, `REPORT`), the text format of Node.js, Java
// and .NET (`<timestamp>\t<id>\tLEVEL\t...`, also space-separated), the Python runtime's
// (`[LEVEL]\t<timestamp>\t<id>\t...`), and the JSON log format and platform events
// (a "requestId" member, also the Powertools and log4j spellings). It works on bytes,
// allocates nothing and never reads past the message.
package invocation

import (
	"bytes"
	"unsafe"
)

// maxScan bounds the text formats' look at the start of a message.
const maxScan = 256

// maxJSONScan bounds the search for a request id member in a JSON message.
const maxJSONScan = 64 << 10

// RequestIDOf is RequestID of a string message, the id copied out ("" when none).
func RequestIDOf(msg string) string {
	// RequestID only reads the bytes it is given, and the id it returns is copied.
	return string(RequestID(unsafe.Slice(unsafe.StringData(msg), len(msg))))
}

// RequestID returns the Lambda request id of msg (a slice of msg), or nil.
func RequestID(msg []byte) []byte {
	i := 0
	for i < len(msg) && (msg[i] == ' ' || msg[i] == '\t' || msg[i] == '\r' || msg[i] == '\n') {
		i++
	}
	m := msg[i:]
	if len(m) == 0 {
		return nil
	}
	if m[0] == '{' {
		return fromJSON(m)
	}
	// The first byte says which text format the line may be in: a platform line starts
	// with its verb, the runtimes' lines with a timestamp or a bracketed level.
	var f [3][]byte
	switch c := m[0]; {
	case c == 'S' || c == 'E' || c == 'R' || c == 'I':
		if fields(m, f[:3]) == 3 && isPlatformVerb(f[0]) && string(f[1]) == "RequestId:" && isUUID(f[2]) {
			return f[2]
		}
	case isDigit(c):
		if fields(m, f[:2]) == 2 && isTimestamp(f[0]) && isUUID(f[1]) {
			return f[1]
		}
	case c == '[':
		if fields(m, f[:3]) == 3 && isBracketLevel(f[0]) && isTimestamp(f[1]) && isUUID(f[2]) {
			return f[2]
		}
	}
	return nil
}

// sepClass classifies the bytes fields splits on: 1 a field separator (space, tab), 2 the
// end of the line (newline, carriage return).
var sepClass = [256]uint8{' ': 1, '\t': 1, '\n': 2, '\r': 2}

// fields splits the first line of m on tabs and spaces into at most len(f) fields, looking
// at most maxScan bytes.
func fields(m []byte, f [][]byte) int {
	if len(m) > maxScan {
		m = m[:maxScan]
	}
	n, i := 0, 0
	for n < len(f) {
		for i < len(m) && sepClass[m[i]] == 1 {
			i++
		}
		if i == len(m) || sepClass[m[i]] == 2 {
			return n
		}
		start := i
		for i < len(m) && sepClass[m[i]] == 0 {
			i++
		}
		f[n] = m[start:i]
		n++
	}
	return n
}

func isPlatformVerb(b []byte) bool {
	switch string(b) {
	case "START", "END", "REPORT", "INIT_REPORT", "RESTORE_REPORT":
		return true
	}
	return false
}

// isTimestamp: an ISO-8601 time as the runtimes write it (2026-11-20T12:00:00.000Z).
func isTimestamp(b []byte) bool {
	return len(b) >= 19 && isDigit(b[0]) && isDigit(b[1]) && isDigit(b[2]) && isDigit(b[3]) &&
		b[4] == '-' && isDigit(b[5]) && isDigit(b[6]) && b[7] == '-' && b[10] == 'T'
}

func isBracketLevel(b []byte) bool {
	if len(b) < 3 || b[0] != '[' || b[len(b)-1] != ']' {
		return false
	}
	for _, c := range b[1 : len(b)-1] {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// isUUID: 8-4-4-4-12 hex digits, the shape of every Lambda request id.
func isUUID(b []byte) bool {
	if len(b) != 36 {
		return false
	}
	for i, c := range b {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

// jsonKeys are the members that carry the request id in JSON logs: Lambda's JSON log
// format and platform events, Powertools (Python, TypeScript, Java), log4j's MDC.
var jsonKeys = [...]string{`"requestId"`, `"function_request_id"`, `"awsRequestId"`, `"AWSRequestId"`, `"aws_request_id"`, `"requestID"`, `"request_id"`}

// fromJSON finds the first request id member whose value is a UUID string.
func fromJSON(m []byte) []byte {
	if len(m) > maxJSONScan {
		m = m[:maxJSONScan]
	}
	for _, k := range jsonKeys {
		for rest := m; ; {
			j := bytes.Index(rest, []byte(k))
			if j < 0 {
				break
			}
			v := rest[j+len(k):]
			rest = v
			for len(v) > 0 && (v[0] == ' ' || v[0] == '\t' || v[0] == '\n' || v[0] == '\r') {
				v = v[1:]
			}
			if len(v) == 0 || v[0] != ':' {
				continue
			}
			v = v[1:]
			for len(v) > 0 && (v[0] == ' ' || v[0] == '\t' || v[0] == '\n' || v[0] == '\r') {
				v = v[1:]
			}
			if len(v) >= 38 && v[0] == '"' && v[37] == '"' && isUUID(v[1:37]) {
				return v[1:37]
			}
		}
	}
	return nil
}
