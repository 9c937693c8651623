// Package stitch joins the events of one log stream that together form one
// exception. Container stdout through the awslogs driver, Fluent Bit without a
// multiline parser, Go panics on provided.al2023 and Python tracebacks printed
// line by line arrive as one CloudWatch event per line; stitched, the trace is
// one error event: the first event's identity, the whole trace as its message.
//
// The decoder keeps, besides the error-class events, the events that could
// belong to a trace (Candidate, a cheap test on the message's first bytes,
// escaped or not); Join then merges runs of consecutive events of one stream
// that continue a trace, and drops the candidates that did not join one: the
// continuation lines are never errors of their own.
package stitch

import (
	"bytes"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/level"
)

// Bounds of one stitched event.
const (
	MaxLines = 256
	MaxBytes = 64 << 10
)

// candidatePrefix is how much of a message's first line Candidate reads.
const candidatePrefix = 128

// Candidate reports whether an event that is not error-class by itself may
// still belong to a trace: an indented line (frames, source lines), a line a
// trace continues with (Caused by:, goroutine N [...]:, Stack trace:, #0 ...,
// a Go function line), or an exception header (java.lang.X: msg, KeyError: 'k').
// raw is the message as the JSON document holds it (the bytes between the
// quotes): it is read as encoding/json would decode it, so Candidate(raw) ==
// CandidateText(the decoded message).
func Candidate(raw []byte) bool {
	if len(raw) == 0 {
		return candidate("")
	}
	if !maybe(raw[0]) && raw[0] != '\\' {
		return false
	}
	if plainFirstWord(raw) {
		return false
	}
	// The common case: ASCII with the one-letter escapes, up to the end of the
	// prefix or the line.
	var buf [candidatePrefix]byte
	n := 0
	for i := 0; i < len(raw) && n < candidatePrefix; i++ {
		c := raw[i]
		if c >= utf8.RuneSelf {
			return candidateSlow(raw)
		}
		if c == '\\' {
			if i+1 >= len(raw) {
				return false
			}
			i++
			switch raw[i] {
			case 'n':
				return candidate(unsafe.String(&buf[0], n))
			case 't':
				c = '\t'
			case 'r':
				c = '\r'
			case '"', '\\', '/':
				c = raw[i]
			default:
				return candidateSlow(raw)
			}
		} else if c == '\n' {
			break
		}
		buf[n] = c
		n++
	}
	return candidate(unsafe.String(&buf[0], n))
}

// plainFirstWord reports, without decoding raw, the usual message that is no candidate:
// it begins with an ASCII letter and a first word of plain ASCII (no escape, ':' or '(')
// that a space ends within candidatePrefix and that begins none of candidate's prefixes
// ("START", "END", "REPORT", "INFO ..."). For such a message candidate would find no
// prefix and a first token without ':' or '(': false, whatever follows.
func plainFirstWord(raw []byte) bool {
	if c := raw[0]; ('a' > c || c > 'z') && ('A' > c || c > 'Z') {
		return false
	}
	sp := bytes.IndexByte(raw[:min(len(raw), candidatePrefix)], ' ')
	if sp < 0 {
		return false
	}
	for _, c := range raw[:sp] {
		if c == '\\' || c == ':' || c == '(' || c < 0x20 || c >= utf8.RuneSelf {
			return false
		}
	}
	switch string(raw[:sp]) {
	case "Caused", "Stack", "stack", "goroutine", "Traceback", "The", "During", "created", "exit", "Unhandled", "Exception":
		return false // the first word of a prefix: candidate decides
	}
	return true
}

// candidateSlow is Candidate for a prefix with escapes or non-ASCII bytes.
func candidateSlow(raw []byte) bool {
	var buf [candidatePrefix + 4]byte
	out := buf[:0]
	for i := 0; i < len(raw) && len(out) < candidatePrefix; {
		c := raw[i]
		switch {
		case c == '\\' && i+1 < len(raw):
			r, n := unescapeOne(raw[i:])
			if n == 0 {
				return false // not valid JSON: the decoder rejects it anyway
			}
			if r == '\n' {
				return candidate(string(out))
			}
			out = utf8.AppendRune(out, r)
			i += n
		case c < utf8.RuneSelf:
			if c == '\n' {
				return candidate(string(out))
			}
			out = append(out, c)
			i++
		default:
			r, n := utf8.DecodeRune(raw[i:])
			out = utf8.AppendRune(out, r) // invalid bytes become U+FFFD one by one, as encoding/json does
			i += n
		}
	}
	return candidate(string(out))
}

// maybe reports the first bytes a candidate can start with (see candidate).
func maybe(c byte) bool {
	switch {
	case c == ' ' || c == '\t' || c == 0xC2 || c == '#' || c == '-' || c == '.' || c == '}' || c == ']' || c == '[' || c == '/' || c == '_':
		return true
	case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		return true
	}
	return false
}

// CandidateText is Candidate for a decoded message.
func CandidateText(msg string) bool {
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	var out []byte
	for i := 0; i < len(msg) && len(out) < candidatePrefix; {
		r, n := utf8.DecodeRuneInString(msg[i:])
		out = utf8.AppendRune(out, r)
		i += n
	}
	return candidate(string(out))
}

// unescapeOne decodes the JSON escape at b[0] == '\\'; n is 0 when it is not one.
func unescapeOne(b []byte) (rune, int) {
	switch b[1] {
	case '"', '\\', '/':
		return rune(b[1]), 2
	case 'b':
		return '\b', 2
	case 'f':
		return '\f', 2
	case 'n':
		return '\n', 2
	case 'r':
		return '\r', 2
	case 't':
		return '\t', 2
	case 'u':
		r, ok := hex4(b[2:])
		if !ok {
			return 0, 0
		}
		if utf16.IsSurrogate(r) {
			if len(b) >= 12 && b[6] == '\\' && b[7] == 'u' {
				if r2, ok := hex4(b[8:]); ok {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						return d, 12
					}
				}
			}
			return utf8.RuneError, 6
		}
		return r, 6
	}
	return 0, 0
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
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
		r = r*16 + rune(c)
	}
	return r, true
}

// candidate is Candidate on the first line's first bytes, decoded.
func candidate(s string) bool {
	if len(s) > candidatePrefix {
		s = s[:candidatePrefix]
	}
	if s == "" {
		return true // a blank line inside a trace ("panic: x", "", "goroutine 1 ...")
	}
	if !maybe(s[0]) {
		return false
	}
	var prefixes []string
	switch s[0] {
	case ' ', '\t':
		return true
	case 0xC2:
		return strings.HasPrefix(s, "\u00a0")
	case '#', '}', ']':
		return true
	case '-':
		prefixes = []string{"---"}
	case '.':
		prefixes = []string{"..."}
	case 'C':
		prefixes = []string{"Caused by: "}
	case 'S':
		prefixes = []string{"Suppressed: ", "Stack trace:", "Stack backtrace:"}
	case 's':
		prefixes = []string{"stack backtrace:"}
	case 'g':
		prefixes = []string{"goroutine "}
	case 'T':
		prefixes = []string{"Traceback (most recent call last)", "The above exception was"}
	case 'D':
		prefixes = []string{"During handling of the above"}
	case 'c':
		prefixes = []string{"created by "}
	case 'p':
		prefixes = []string{"panic: "}
	case '[':
		prefixes = []string{"[signal "}
	case 'n':
		prefixes = []string{"note: run with"}
	case 'e':
		prefixes = []string{"exit status "}
	case 'U':
		prefixes = []string{"Unhandled exception. "}
	case 'E':
		prefixes = []string{"Exception in thread "}
	}
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	// Headers, Go function lines and Ruby's uncaught line have ':' or '(' in their
	// first word (or are one word: "KeyError").
	tok := s
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		tok = s[:i]
	}
	if tok != s && strings.IndexByte(tok, ':') < 0 && strings.IndexByte(tok, '(') < 0 {
		return false
	}
	return isGoFuncLine(s) || isHeader(s) || isRubyHead(s)
}

// isRubyHead reports Ruby's uncaught-exception line "app.rb:10:in `m': msg (Type)".
func isRubyHead(s string) bool {
	i := strings.Index(s, ".rb:")
	return i > 0 && strings.Contains(s[i:], ":in ")
}

// canHead reports whether an event can begin a trace: an error-class event, or
// an exception header the runtime printed without a level.
func canHead(e *event.Event) bool {
	if e.Level.IsErrorClass() {
		return true
	}
	line := e.Message
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	return isHeader(line) || isRubyHead(line)
}

func hasPrefix(b []byte, p string) bool { return len(b) >= len(p) && string(b[:len(p)]) == p }

// isHeader reports an exception header: "pkg.Type: message", "KeyError: 'k'",
// "Exception in thread ..." or a bare qualified type.
func isHeader(s string) bool {
	if strings.HasPrefix(s, "Exception in thread ") || strings.HasPrefix(s, "Unhandled exception. ") {
		return true
	}
	end := strings.IndexByte(s, ':')
	if end < 0 {
		end = len(s)
	}
	typ := s[:end]
	if typ == "" || len(typ) > 200 || strings.ContainsAny(typ, " \t\"'(){}[]=,") || end+1 < len(s) && s[end+1] == ':' {
		return false
	}
	if c := typ[0]; (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && c != '_' {
		return false
	}
	last := typ[strings.LastIndexByte(typ, '.')+1:]
	return strings.HasSuffix(last, "Error") || strings.HasSuffix(last, "Exception") ||
		strings.IndexByte(typ, '.') > 0 && last != "" && last[0] >= 'A' && last[0] <= 'Z' && end < len(s)
}

// isGoFuncLine reports a goroutine trace's function line: "main.handler(0xc0000, ...)"
// or "net/http.(*conn).serve(...)".
func isGoFuncLine(s string) bool {
	if strings.HasPrefix(s, "created by ") {
		return true
	}
	open := strings.IndexByte(s, '(')
	if open <= 0 || !strings.HasSuffix(s, ")") || strings.ContainsAny(s[:open], " \t") {
		return false
	}
	return strings.IndexByte(s[:open], '.') > 0 || strings.HasPrefix(s, "panic(")
}

// trace follows one trace's lines to tell which next line continues it.
type trace struct {
	lines  int
	py     bool // a Python traceback: a File line was seen
	pyDone bool // its exception line was seen: only a chained traceback continues
	goTr   bool // a goroutine trace
	frames bool // a frame line was seen
}

// continues reports whether line continues the trace (and takes it in).
func (t *trace) continues(line string) bool {
	s := strings.TrimLeft(line, " \t")
	s = strings.TrimLeft(s, "\u00a0")
	indented := len(s) < len(line)
	ok := false
	switch {
	case t.pyDone:
		ok = strings.HasPrefix(s, "During handling of the above") || strings.HasPrefix(s, "The above exception was") ||
			strings.HasPrefix(s, "Traceback (most recent call last)")
		if ok {
			t.pyDone = false
		}
	case strings.HasPrefix(s, "File \""):
		t.py, ok = true, true
	case t.py && indented:
		ok = true // the source line, ^^^^ markers
	case t.py && t.frames && isHeader(s):
		t.pyDone, ok = true, true // the exception line ends the traceback
	case strings.HasPrefix(s, "Traceback (most recent call last)"), strings.HasPrefix(s, "During handling of the above"),
		strings.HasPrefix(s, "The above exception was"):
		ok = true
	case indented && (strings.HasPrefix(s, "at ") || strings.HasPrefix(s, "from ") || strings.HasPrefix(s, "...") ||
		strings.HasPrefix(s, "[cause]: ") || strings.HasPrefix(s, "[errors]: [") || strings.HasPrefix(s, "--- End of") ||
		strings.HasPrefix(s, "---> ") || strings.HasPrefix(s, "Suppressed: ") || strings.HasPrefix(s, "thrown in ")):
		ok = true
	case strings.HasPrefix(s, "Caused by: "), strings.HasPrefix(s, "Suppressed: "), strings.HasPrefix(s, "... "),
		strings.HasPrefix(s, "---> ("), strings.HasPrefix(s, "--- End of"), strings.HasPrefix(s, "Stack trace:"),
		strings.HasPrefix(s, "stack backtrace:"), strings.HasPrefix(s, "Stack backtrace:"), strings.HasPrefix(s, "note: run with"),
		strings.HasPrefix(s, "[signal "), strings.HasPrefix(s, "exit status "):
		ok = true
	case strings.HasPrefix(s, "#") && len(s) > 1 && s[1] >= '0' && s[1] <= '9':
		ok = true // PHP frames
	case strings.HasPrefix(s, "goroutine ") && strings.HasSuffix(s, "]:"):
		t.goTr, ok = true, true
	case t.goTr && (indented || isGoFuncLine(s)):
		ok = true // a location line, a function line
	case t.lines == 1 && !t.py && isHeader(s):
		ok = true // the exception after its log line: "ERROR ... failed" then "java.lang.X: msg"
	case indented && len(s) > 0 && s[0] >= '0' && s[0] <= '9' && strings.Contains(s, ": "):
		ok = true // a Rust backtrace frame "  3: app::f"
	case strings.HasPrefix(s, "}") || strings.HasPrefix(s, "]"):
		ok = t.frames // the end of Node's printed error properties
	}
	if ok {
		t.lines++
		if strings.HasPrefix(s, "at ") || strings.HasPrefix(s, "File \"") || strings.HasPrefix(s, "#") || t.goTr {
			t.frames = true
		}
	}
	return ok
}

// sameRun reports whether b directly follows a in one stream.
func sameRun(a, b *event.Event) bool {
	return b.Seq == a.Seq+1 && a.LogStream == b.LogStream && a.LogGroup == b.LogGroup && a.Account == b.Account
}

// Join merges the runs of events that form one trace and drops the events that
// are not error-class and joined none. evs are a record's kept events in order,
// each with its Seq (its position in the record); the result reuses evs, with
// Seq cleared.
func Join(evs []event.Event) []event.Event {
	out := evs[:0]
	for i := 0; i < len(evs); {
		head := evs[i]
		if !canHead(&head) {
			i++ // a continuation line with no trace to continue: no error of its own
			continue
		}
		t := trace{lines: 1}
		j, size := i+1, len(head.Message)
		for j < len(evs) && t.lines < MaxLines && sameRun(&evs[j-1], &evs[j]) {
			m := evs[j].Message
			if size+1+len(m) > MaxBytes {
				break
			}
			if strings.TrimSpace(m) == "" {
				// A blank line inside a trace ("panic: x", "", "goroutine 1 ...") joins
				// when the line after it continues the trace.
				peek := t
				if j+1 < len(evs) && sameRun(&evs[j], &evs[j+1]) && peek.continues(evs[j+1].Message) {
					size += 1 + len(m)
					j++
					continue
				}
				break
			}
			if !t.continues(m) {
				break
			}
			size += 1 + len(m)
			j++
		}
		if j > i+1 {
			var b strings.Builder
			b.Grow(size)
			for k := i; k < j; k++ {
				if k > i {
					b.WriteByte('\n')
				}
				b.WriteString(evs[k].Message)
			}
			head.Message = b.String()
			// The trace is as severe as its most severe line (a trace of lines
			// without a level is read whole: an uncaught trace is an error).
			for k := i + 1; k < j; k++ {
				if l := evs[k].Level; l == event.Fatal || l == event.Error && head.Level != event.Fatal {
					head.Level = l
				}
			}
			if !head.Level.IsErrorClass() {
				head.Level = level.OfString(head.Message)
			}
		}
		if head.Level.IsErrorClass() {
			head.Seq = 0 // a position in this record only
			out = append(out, head)
		}
		i = j
	}
	return out
}
