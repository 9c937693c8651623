// Package level reads the severity of one CloudWatch Logs message: structured JSON fields,
// the Lambda runtimes' text formats, a leading level word, Lambda platform failures and,
// when nothing else says, an uncaught stack trace. It runs on every event, so it works on
// bytes and allocates nothing.
package level

import (
	"bytes"
	"unsafe"

	"github.com/aient/firehose-drain/internal/jsonscan"
	"github.com/aient/firehose-drain/pkg/event"
)

// OfString is Of for a string message. It does not copy s.
func OfString(s string) event.Level {
	return Of(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// Of returns the level of a log message, event.Unknown when the message does not say.
// The order follows DESIGN section 7: structured JSON fields, the Lambda text formats,
// a leading level word (also `[LEVEL]` and logfmt `level=`), Lambda platform failures,
// then an uncaught stack trace (error). A message that merely contains the word "error"
// somewhere is not an error.
func Of(msg []byte) event.Level { return of(msg, 0) }

// of is Of inside depth wrappers (a container's JSON around the line).
func of(msg []byte, depth int) event.Level {
	m := trimLeft(msg)
	if len(m) == 0 {
		return event.Unknown
	}
	if m[0] == '{' {
		if l, ok := ofJSON(m); ok {
			return l
		}
		if l, ok := ofWrappedJSON(m, depth); ok {
			return l
		}
	}
	line := firstLine(m)
	if l, ok := ofPlatform(m, line); ok {
		return l
	}
	if l, ok := ofLambdaText(line); ok {
		return l
	}
	if l, ok := ofLeading(line, 2); ok {
		if l == event.Error && onlyCountsErrors(line) {
			return event.Unknown
		}
		return l
	}
	if l, ok := ofLogfmt(line); ok {
		return l
	}
	if l, ok := ofFormat(line); ok {
		return l
	}
	if platformFailure(line) {
		return event.Error
	}
	if len(line) < len(m) && hasStackTrace(m) {
		return event.Error
	}
	return event.Unknown
}

// word maps a level word (any case) to its level. The second result says whether the word
// is unambiguous enough to count in sentence position ("Error connecting" is an error,
// "Alert sent to user" is not an alert).
func word(w []byte) (event.Level, bool, bool) {
	switch string(w) { // the common spellings, without folding case
	case "INFO", "info":
		return event.Info, true, true
	case "ERROR", "error":
		return event.Error, true, true
	case "WARN", "warn":
		return event.Warn, true, true
	case "DEBUG", "debug":
		return event.Debug, true, true
	}
	if len(w) < 3 || len(w) > 11 {
		return event.Unknown, false, false
	}
	var b [11]byte
	for i, c := range w {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	switch string(b[:len(w)]) {
	case "error":
		return event.Error, true, true
	case "err", "fail", "failure", "severe":
		return event.Error, false, true
	case "fatal", "critical":
		return event.Fatal, true, true
	case "crit", "panic", "emerg", "emergency", "alert":
		return event.Fatal, false, true
	case "warn", "warning":
		return event.Warn, true, true
	case "info", "information", "notice":
		return event.Info, true, true
	case "debug", "trace", "dbug", "trce", "verbose":
		return event.Debug, true, true
	}
	return event.Unknown, false, false
}

// valueLevel reads a level value of a structured field: any-case words, exact.
func valueLevel(v []byte) (event.Level, bool) {
	l, _, ok := word(v)
	return l, ok
}

// numberLevel maps pino/bunyan numeric levels (10 trace .. 60 fatal).
func numberLevel(n int) (event.Level, bool) {
	switch {
	case n >= 60:
		return event.Fatal, true
	case n >= 50:
		return event.Error, true
	case n >= 40:
		return event.Warn, true
	case n >= 30:
		return event.Info, true
	case n >= 10:
		return event.Debug, true
	}
	return event.Unknown, false
}

func trimLeft(b []byte) []byte {
	for len(b) > 0 && jsonscan.IsSpace(b[0]) {
		b = b[1:]
	}
	return b
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

func hasPrefix(b []byte, p string) bool {
	return len(b) >= len(p) && string(b[:len(p)]) == p
}

func contains(b []byte, s string) bool {
	return bytes.Contains(b, unsafe.Slice(unsafe.StringData(s), len(s)))
}

// ofPlatform reads the Lambda platform lines: START/END/INIT_START are info; REPORT,
// INIT_REPORT and RESTORE_REPORT are errors when their Status is timeout, error or failure;
// "RequestId: ... Error: Runtime exited ..." is an error.
func ofPlatform(m, line []byte) (event.Level, bool) {
	if len(m) < 3 {
		return event.Unknown, false
	}
	switch m[0] {
	case 'S', 'E', 'R', 'I', 'T', 'P':
	default:
		return event.Unknown, false
	}
	switch {
	case hasPrefix(m, "REPORT RequestId:"), hasPrefix(m, "INIT_REPORT "), hasPrefix(m, "RESTORE_REPORT "):
		if contains(line, "Status: timeout") || contains(line, "Status: error") || contains(line, "Status: failure") {
			return event.Error, true
		}
		return event.Info, true
	case hasPrefix(m, "START RequestId:"), hasPrefix(m, "END RequestId:"), hasPrefix(m, "INIT_START "),
		hasPrefix(m, "RESTORE_START "), hasPrefix(m, "EXTENSION\t"), hasPrefix(m, "EXTENSION "),
		hasPrefix(m, "TELEMETRY\t"), hasPrefix(m, "TELEMETRY "):
		return event.Info, true
	case hasPrefix(m, "RequestId: "):
		if platformFailure(m) || contains(line, " Error: ") {
			return event.Error, true
		}
	}
	return event.Unknown, false
}

// platformFailure reports the Lambda platform's failure phrases.
func platformFailure(b []byte) bool {
	return contains(b, "Task timed out after") || contains(b, "Runtime.ExitError") ||
		contains(b, "Error: Runtime exited")
}

// ofLambdaText reads `<timestamp>\t<requestId>\t<LEVEL>\t...` (Node, Java, .NET, Ruby
// runtimes) and `<timestamp> <requestId> Task timed out ...`.
func ofLambdaText(line []byte) (event.Level, bool) {
	if len(line) == 0 || line[0] < '0' || line[0] > '9' {
		return event.Unknown, false
	}
	t1 := bytes.IndexByte(line, '\t')
	if t1 < 0 || t1 > 40 {
		return event.Unknown, false
	}
	rest := line[t1+1:]
	t2 := bytes.IndexByte(rest, '\t')
	if t2 < 0 || t2 > 64 {
		return event.Unknown, false
	}
	f := rest[t2+1:]
	field := f
	if t3 := bytes.IndexByte(f, '\t'); t3 >= 0 {
		field = f[:t3]
	}
	field = bytes.TrimRight(field, " ")
	if l, ok := valueLevel(field); ok {
		return l, true
	}
	if phrase(field) {
		return event.Error, true
	}
	// A message in the third field: read it like a message of its own.
	if l, ok := ofLeading(f, 0); ok {
		return l, true
	}
	return event.Unknown, false
}

// phrase reports the Node runtime's uncaught-error phrases.
func phrase(b []byte) bool {
	return hasPrefix(b, "Invoke Error") || hasPrefix(b, "Uncaught Exception") ||
		hasPrefix(b, "Unhandled Promise Rejection") || hasPrefix(b, "Traceback (most recent call last)")
}

// ofLeading reads a leading `[LEVEL]`, `LEVEL:` or level word, skipping up to skip
// timestamp tokens (tokens that start with a digit) first.
func ofLeading(line []byte, skip int) (event.Level, bool) {
	for {
		if len(line) == 0 {
			return event.Unknown, false
		}
		if line[0] == '[' {
			end := bytes.IndexByte(line, ']')
			if end > 0 {
				if l, ok := valueLevel(bytes.TrimSpace(line[1:end])); ok {
					return l, true
				}
			}
		}
		if phrase(line) {
			return event.Error, true
		}
		if hasPrefix(line, "PHP ") {
			line = line[4:]
			continue
		}
		// The first word and what follows it.
		n := 0
		for n < len(line) && isLetter(line[n]) {
			n++
		}
		if n > 0 {
			l, plain, ok := word(line[:n])
			if ok {
				var next byte
				if n < len(line) {
					next = line[n]
				}
				switch next {
				case ':', ']', '|', 0:
					return l, true
				case ' ', '\t', ',':
					if plain || upper(line[:n]) {
						return l, true
					}
				}
			}
		}
		if skip == 0 || line[0] < '0' || line[0] > '9' {
			return event.Unknown, false
		}
		// Skip a timestamp-like token and the spaces after it.
		i := 0
		for i < len(line) && line[i] != ' ' && line[i] != '\t' {
			i++
		}
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		line = line[i:]
		skip--
	}
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func upper(b []byte) bool {
	for _, c := range b {
		if 'a' <= c && c <= 'z' {
			return false
		}
	}
	return true
}

// ofLogfmt reads `level=error` / `lvl=error` / `severity=error` in a logfmt line.
func ofLogfmt(line []byte) (event.Level, bool) {
	for _, key := range [...]string{"level=", "lvl=", "severity="} {
		i := bytes.Index(line, unsafe.Slice(unsafe.StringData(key), len(key)))
		if i < 0 || (i > 0 && line[i-1] != ' ' && line[i-1] != '\t') {
			continue
		}
		v := line[i+len(key):]
		if len(v) > 0 && v[0] == '"' {
			v = v[1:]
		}
		n := 0
		for n < len(v) && isLetter(v[n]) {
			n++
		}
		if l, ok := valueLevel(v[:n]); ok {
			return l, true
		}
	}
	return event.Unknown, false
}

// hasStackTrace reports a multi-line message that carries an uncaught stack trace: JVM
// and JavaScript `at` frames, Python tracebacks, Go goroutine dumps, Ruby `:in` frames,
// PHP and .NET traces.
func hasStackTrace(m []byte) bool {
	return contains(m, "\n\tat ") || contains(m, "\n    at ") || contains(m, "\n   at ") ||
		contains(m, "\n  at ") || contains(m, "Traceback (most recent call last):") ||
		(contains(m, "\ngoroutine ") && contains(m, " [running]:")) ||
		contains(m, ":in `") || contains(m, "\nStack trace:\n#0 ")
}
