package level

import (
	"bytes"
	"sync"
	"unsafe"

	"github.com/aient/firehose-drain/internal/jsonscan"
	"github.com/aient/firehose-drain/pkg/event"
)

// Formats whose level is not a level word where ofLeading looks (grouping's
// line formats read the same lines): wrappers whose own level must never hide
// the wrapped line's, and lines that say "failed" their own way. Each is tried
// only when the usual readers could not tell, so the common lines pay nothing.

// maxWrapped bounds the wrapped line unescaped from a JSON wrapper.
const maxWrapped = 2048

// wrappedBufs holds the buffers wrapped lines are unescaped into (Of allocates nothing).
var wrappedBufs = sync.Pool{New: func() any { return new([maxWrapped]byte) }}

// ofWrappedJSON reads the JSON messages ofJSON cannot tell: container
// wrappers ({"log":"<the line>","stream":"stderr",...} of Docker's JSON driver,
// Fluent Bit and Container Insights), whose level is the wrapped line's, and
// Step Functions history events ({"type":"TaskFailed","details":{...},
// "execution_arn":...}), errors when their type is a failure.
func ofWrappedJSON(m []byte, depth int) (event.Level, bool) {
	var kbuf, vbuf, tbuf [64]byte
	var sfnType []byte
	sfn := false
	i := 1
	for first := true; ; first = false {
		next, done, err := jsonscan.Member(m, i, first, '}', "message")
		if err != nil || done {
			break
		}
		ks, ke, kesc, v, err := jsonscan.Key(m, next)
		if err != nil {
			break
		}
		key := unescaped(m[ks:ke], kesc, kbuf[:0])
		switch {
		case equalFold(key, "log") && m[v] == '"' && depth == 0:
			end, esc, err := jsonscan.ValidString(m, v)
			if err != nil {
				break
			}
			raw := m[v+1 : end-1]
			if len(raw) > maxWrapped {
				raw = raw[:maxWrapped]
				for k := 0; k < 6 && len(raw) > 0; k++ { // do not cut an escape in two
					if raw[len(raw)-1-k] == '\\' {
						raw = raw[:len(raw)-1-k]
						break
					}
				}
			}
			line := raw
			var buf *[maxWrapped]byte
			if esc {
				if buf, _ = wrappedBufs.Get().(*[maxWrapped]byte); buf == nil {
					buf = new([maxWrapped]byte)
				}
				out, ok := jsonscan.Unescape(buf[:0], raw)
				if !ok {
					wrappedBufs.Put(buf)
					break
				}
				line = out
			}
			l := of(line, depth+1)
			if buf != nil {
				wrappedBufs.Put(buf)
			}
			if l != event.Unknown {
				return l, true
			}
		case equalFold(key, "type") && m[v] == '"':
			if s, ok := stringValue(m, v, vbuf[:0]); ok {
				sfnType = tbuf[:copy(tbuf[:], s)]
			}
		case equalFold(key, "execution_arn") || equalFold(key, "state_machine_arn"):
			sfn = true
		}
		if i, err = jsonscan.SkipValue(m, v, 1); err != nil {
			break
		}
	}
	if sfn && len(sfnType) > 0 {
		if hasSuffix(sfnType, "Failed") || hasSuffix(sfnType, "TimedOut") || hasSuffix(sfnType, "Aborted") {
			return event.Error, true
		}
		return event.Info, true
	}
	return event.Unknown, false
}

// ofFormat reads the text lines the usual readers cannot tell:
//   - PHP-FPM's `... child 12 said into stderr: "NOTICE: PHP message: PHP Fatal error: ..."`:
//     the wrapped line's level, not FPM's WARNING or NOTICE;
//   - PostgreSQL (RDS/Aurora log_line_prefix): `...:[pid]:ERROR:  ...` (FATAL, PANIC);
//   - Laravel/Monolog: `[date] production.ERROR: ...`;
//   - API Gateway execution logs: `(id) Execution failed due to ...`,
//     `Lambda execution failed with status ...`, `Method completed with status: 5xx`;
//   - Rust: `thread 'main' panicked at ...`.
func ofFormat(line []byte) (event.Level, bool) {
	if len(line) == 0 {
		return event.Unknown, false
	}
	switch line[0] {
	case '[':
		if i := index(line, ` said into std`); i >= 0 {
			rest := line[i+len(` said into std`):]
			if j := bytes.IndexByte(rest, '"'); j >= 0 {
				w := rest[j+1:]
				for _, p := range [...]string{"NOTICE: ", "WARNING: ", "ERROR: "} {
					if hasPrefix(w, p) {
						w = w[len(p):]
						break
					}
				}
				if hasPrefix(w, "PHP message: ") {
					w = w[len("PHP message: "):]
				}
				if l, ok := ofLeading(w, 0); ok {
					return l, true
				}
				return event.Unknown, true
			}
		}
		if end := bytes.IndexByte(line, ']'); end > 0 && end < 40 && end+2 < len(line) {
			rest := line[end+2:]
			dot := bytes.IndexByte(rest, '.')
			colon := bytes.IndexByte(rest, ':')
			if dot > 0 && colon > dot && colon-dot <= 12 && bytes.IndexByte(rest[:dot], ' ') < 0 {
				if l, ok := valueLevel(rest[dot+1 : colon]); ok {
					return l, true
				}
			}
		}
	case '(':
		if end := bytes.IndexByte(line, ')'); end > 0 && end < 64 && end+2 < len(line) {
			rest := line[end+2:]
			switch {
			case hasPrefix(rest, "Execution failed due to "), hasPrefix(rest, "Lambda execution failed with status "),
				hasPrefix(rest, "Method completed with status: 5"):
				return event.Error, true
			}
		}
	case 't':
		if hasPrefix(line, "thread '") && contains(line, "' panicked at ") {
			return event.Error, true
		}
	}
	if len(line) > 20 && '0' <= line[0] && line[0] <= '9' {
		for _, sev := range [...]string{"]:ERROR:  ", "]:FATAL:  ", "]:PANIC:  "} {
			if contains(line, sev) {
				if sev[2] == 'E' {
					return event.Error, true
				}
				return event.Fatal, true
			}
		}
	}
	return event.Unknown, false
}

// onlyCountsErrors reports a line whose "Error" opens a sentence that counts
// no errors ("Error handling complete, 0 errors"): it mentions errors, it is
// not one.
func onlyCountsErrors(line []byte) bool {
	if !hasPrefix(line, "Error ") && !hasPrefix(line, "error ") {
		return false
	}
	for _, p := range [...]string{" 0 errors", " 0 error(s)", "errors: 0", "errors=0", "errors 0", "no errors", "without errors", "0 failed"} {
		if contains(line, p) {
			return true
		}
	}
	return false
}

func hasSuffix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[len(b)-len(s):]) == s
}

func index(b []byte, s string) int {
	return bytes.Index(b, unsafe.Slice(unsafe.StringData(s), len(s)))
}
