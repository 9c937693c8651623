package grouping

import "strings"

// Rust: panics ("thread 'main' panicked at src/main.rs:10:5:" then the
// message; before Rust 1.73 "thread 'main' panicked at 'msg', src/main.rs:10:5"),
// anyhow/eyre error reports ("Error: msg", "Caused by:" with numbered
// causes), and backtraces ("stack backtrace:" with "  N: function" lines, each
// optionally followed by "at file:line:col").

func detectRust(p lineProbe) signal {
	t := p.t
	switch {
	case strings.HasPrefix(t, "thread '") && strings.Contains(t, "' panicked at "):
		return sigStrong
	case t == "stack backtrace:" || t == "Stack backtrace:":
		return sigStrong
	}
	return sigNone
}

// ParseRustFrame parses a backtrace frame line "12: myapp::orders::load::h0123abcd"
// with its location line "at ./src/orders.rs:42:9" (loc may be "").
func ParseRustFrame(line, loc string) (Frame, bool) {
	t := trimSpace(line)
	i := 0
	for i < len(t) && isDigit(t[i]) {
		i++
	}
	if i == 0 || i+2 > len(t) || t[i] != ':' || t[i+1] != ' ' {
		return Frame{}, false
	}
	fn := trimSpace(t[i+2:])
	if fn == "" {
		return Frame{}, false
	}
	// The symbol hash: "::h0123456789abcdef".
	if j := strings.LastIndex(fn, "::h"); j > 0 && len(fn)-j == 19 {
		fn = fn[:j]
	}
	f := Frame{Function: fn}
	if m := strings.LastIndex(fn, "::"); m > 0 {
		f.Module = fn[:m]
	}
	if l, ok := strings.CutPrefix(trimSpace(loc), "at "); ok {
		f.File, f.Line, f.Column = splitFileLineCol(l)
	}
	return f, true
}

// splitFileLineCol splits "path:line:col" (or "path:line").
func splitFileLineCol(s string) (string, int, int) {
	file, line, col := s, 0, 0
	if i := strings.LastIndexByte(file, ':'); i > 0 {
		if n, ok := atoi(file[i+1:]); ok {
			file, line = file[:i], n
			if j := strings.LastIndexByte(file, ':'); j > 0 {
				if m, ok := atoi(file[j+1:]); ok {
					file, col, line = file[:j], line, m
				}
			}
		}
	}
	return file, line, col
}

// parseRust reads a Rust panic or error report and its backtrace.
func parseRust(text string, sc *scratch) []Exception {
	var chain []Exception
	it := newLines(text, sc)
	inCauses, inTrace := false, false
	for {
		line, ok := it.next()
		if !ok {
			break
		}
		t := trimSpace(line)
		switch {
		case t == "":
			continue
		case strings.HasPrefix(t, "thread '") && strings.Contains(t, "' panicked at "):
			if len(chain) >= maxChain {
				continue
			}
			rest := t[strings.Index(t, "' panicked at ")+len("' panicked at "):]
			e := Exception{Type: "panic"}
			if strings.HasPrefix(rest, "'") {
				// Old form: 'msg', src/main.rs:10:5
				if j := strings.LastIndex(rest, "', "); j > 0 {
					e.Message = rest[1:j]
					rest = rest[j+3:]
				}
			} else if next, ok := it.peek(); ok && !strings.HasPrefix(trimSpace(next), "note: ") {
				e.Message = trimSpace(next)
				it.next()
			}
			file, ln, col := splitFileLineCol(strings.TrimSuffix(rest, ":"))
			if file != "" {
				e.Frames = sc.appendFrame(e.Frames, Frame{File: file, Line: ln, Column: col})
			}
			chain = append(chain, e)
			inCauses, inTrace = false, false
		case strings.HasPrefix(t, "Error: ") && len(chain) == 0:
			chain = append(chain, Exception{Type: "Error", Message: t[len("Error: "):]})
		case t == "Caused by:":
			inCauses, inTrace = true, false
		case t == "stack backtrace:" || t == "Stack backtrace:":
			inCauses, inTrace = false, true
			if len(chain) == 0 {
				chain = append(chain, Exception{})
			}
		case t == "Location:" || strings.HasPrefix(t, "note: "):
			inCauses = false
		case inCauses:
			if len(chain) < maxChain {
				msg := t
				if i := strings.Index(t, ": "); i > 0 && i < 4 {
					if _, ok := atoi(t[:i]); ok {
						msg = t[i+2:]
					}
				}
				chain = append(chain, Exception{Type: "Error", Message: msg})
			}
		case inTrace:
			loc := ""
			if next, ok := it.peek(); ok && strings.HasPrefix(trimSpace(next), "at ") {
				loc = next
				it.next()
			}
			if f, ok := ParseRustFrame(t, loc); ok {
				// Backtrace frames belong to the panic (the first exception);
				// they replace the location-only frame.
				e := &chain[0]
				if len(e.Frames) == 1 && e.Frames[0].Function == "" {
					e.Frames = e.Frames[:0]
				}
				if len(e.Frames) < maxFrames {
					e.Frames = sc.appendFrame(e.Frames, f)
				}
			}
		}
	}
	return chain
}
