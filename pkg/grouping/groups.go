package grouping

import "strings"

// Exception groups and aggregates: one exception that carries several. The
// chain is the group first, then its members with the first member last, so
// that the first member with in-app frames is the primary exception.

// parsePythonGroups parses tracebacks that may hold ExceptionGroups:
//
//   - Exception Group Traceback (most recent call last):
//     |   File "/var/task/app.py", line 9, in handler
//     | ExceptionGroup: batch failed (2 sub-exceptions)
//     +-+---------------- 1 ----------------
//     | Traceback (most recent call last):
//     |   File "/var/task/app.py", line 4, in load
//     | ValueError: bad row
//     +---------------- 2 ----------------
//     | KeyError: 'id'
//     +------------------------------------
func parsePythonGroups(text string, sc *scratch) []Exception {
	if !strings.Contains(text, "Exception Group Traceback") {
		return parsePython(text, sc)
	}
	var segs []strings.Builder
	segs = append(segs, strings.Builder{})
	it := newLines(text, sc)
	for {
		line, ok := it.next()
		if !ok {
			break
		}
		t := trimIndent(line)
		if strings.HasPrefix(t, "+-") || strings.HasPrefix(t, "+--") {
			// A member separator ("+-+---- 1 ----", "+---- 2 ----") or the end ("+------").
			if strings.Trim(t, "+- ") != "" && len(segs) <= maxChain {
				segs = append(segs, strings.Builder{})
			}
			continue
		}
		if rest, ok := strings.CutPrefix(t, "+ "); ok {
			t = rest
		}
		for strings.HasPrefix(t, "|") {
			t = strings.TrimPrefix(strings.TrimPrefix(t, "|"), " ")
			t = strings.TrimLeft(t, " ")
		}
		if strings.HasPrefix(t, "Exception Group Traceback") {
			t = "Traceback (most recent call last):"
		}
		b := &segs[len(segs)-1]
		if b.Len() < maxScan {
			// Frames keep an indent so their source lines stay indented too.
			if strings.HasPrefix(t, `File "`) {
				b.WriteString("  ")
			} else if !strings.HasPrefix(t, "Traceback") && looksLikeSourceLine(line, t) {
				b.WriteString("    ")
			}
			b.WriteString(t)
			b.WriteByte('\n')
		}
	}
	chain := parsePython(segs[0].String(), sc)
	for i := len(segs) - 1; i >= 1 && len(chain) < maxChain; i-- {
		chain = append(chain, parsePython(segs[i].String(), sc)...)
	}
	if len(chain) > maxChain {
		chain = chain[:maxChain]
	}
	return chain
}

// looksLikeSourceLine: inside a group the source line under a frame is
// indented deeper than the "|" that starts it.
func looksLikeSourceLine(line, t string) bool {
	i := strings.LastIndexByte(line, '|')
	return i >= 0 && strings.HasPrefix(line[i+1:], "     ") && !strings.HasPrefix(t, `File "`)
}
