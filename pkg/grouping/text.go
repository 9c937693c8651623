package grouping

import "strings"

// Work bounds: JSON is parsed up to maxJSON bytes, text is scanned up to
// maxScan bytes and maxLines lines per pass, each exception keeps at most
// maxFrames frames and a chain at most maxChain exceptions.
const (
	maxScan   = 64 << 10
	maxJSON   = 1 << 20
	maxFrames = 128
	maxChain  = 16
	maxLines  = 4096
)

// lineIter walks the lines of a string without allocating. It counts the
// bytes it hands out in *work so tests can assert on the work done.
type lineIter struct {
	s    string
	pos  int
	n    int
	work *int
}

func newLines(s string, sc *scratch) lineIter {
	if len(s) > maxScan {
		s = s[:maxScan]
	}
	var work *int
	if sc != nil {
		work = sc.work
	}
	return lineIter{s: s, work: work}
}

// scratch is one analysis's working memory: the counter of the bytes the text
// scanners visited (nil: not counted), and the arena the exceptions' frame
// lists grow in until compactFrames copies them out in one allocation. A nil
// scratch grows frame lists on the heap.
type scratch struct {
	work  *int
	arena []Frame // len: the slots handed out; cap: fixed (a full arena falls back to the heap)
}

// arenaFrames is the arena's size, in frames.
const arenaFrames = 512

// count adds n to the work counter.
func (sc *scratch) count(n int) {
	if sc != nil && sc.work != nil {
		*sc.work += n
	}
}

// appendFrame appends f to frames, growing the list (doubling, from 4) in the
// arena while it has room, else on the heap.
func (sc *scratch) appendFrame(frames []Frame, f Frame) []Frame {
	if len(frames) < cap(frames) {
		return append(frames, f)
	}
	n := max(4, 2*cap(frames))
	if sc == nil || len(sc.arena)+n > cap(sc.arena) {
		return appendFrame(frames, f)
	}
	start := len(sc.arena)
	sc.arena = sc.arena[:start+n]
	chunk := sc.arena[start : start+len(frames) : start+n]
	copy(chunk, frames)
	return append(chunk, f)
}

// compactFrames copies the frames of the chain, wherever they grew, into one
// allocation of exactly their number, and empties the arena: nothing the
// result holds points into it.
func (sc *scratch) compactFrames(chain []Exception) {
	n := 0
	for i := range chain {
		n += len(chain[i].Frames)
	}
	if n > 0 {
		all := make([]Frame, n)
		off := 0
		for i := range chain {
			k := copy(all[off:], chain[i].Frames)
			chain[i].Frames = all[off : off+k : off+k]
			off += k
		}
	}
	sc.arena = sc.arena[:0]
}

// next returns the next line without its terminator ("\n" or "\r\n").
func (l *lineIter) next() (string, bool) {
	if l.pos >= len(l.s) || l.n >= maxLines {
		return "", false
	}
	l.n++
	rest := l.s[l.pos:]
	i := strings.IndexByte(rest, '\n')
	var line string
	if i < 0 {
		line = rest
		l.pos = len(l.s)
	} else {
		line = rest[:i]
		l.pos += i + 1
	}
	if l.work != nil {
		*l.work += len(line) + 1
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, true
}

// peek returns the next line without consuming it.
func (l *lineIter) peek() (string, bool) {
	save, n, w := l.pos, l.n, 0
	if l.work != nil {
		w = *l.work
	}
	line, ok := l.next()
	l.pos, l.n = save, n
	if l.work != nil {
		*l.work = w
	}
	return line, ok
}

// trimIndent removes leading spaces, tabs and no-break spaces (U+00A0, which
// the Lambda Python runtime uses to indent tracebacks).
func trimIndent(s string) string {
	for len(s) > 0 {
		switch {
		case s[0] == ' ' || s[0] == '\t':
			s = s[1:]
		case len(s) >= 2 && s[0] == 0xC2 && s[1] == 0xA0:
			s = s[2:]
		default:
			return s
		}
	}
	return s
}

// indentWidth is the number of indentation characters before the text.
func indentWidth(s string) int {
	return len(s) - len(trimIndent(s))
}

func trimSpace(s string) string {
	s = trimIndent(s)
	for len(s) > 0 {
		c := s[len(s)-1]
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			s = s[:len(s)-1]
			continue
		}
		if len(s) >= 2 && s[len(s)-2] == 0xC2 && c == 0xA0 {
			s = s[:len(s)-2]
			continue
		}
		break
	}
	return s
}

// basename returns the last element of a slash or backslash separated path.
func basename(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' || p[i] == '\\' {
			return p[i+1:]
		}
	}
	return p
}

// atoi parses a non-negative decimal number; ok is false on anything else.
func atoi(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func isIdentByte(c byte) bool { return byteClasses[c]&classIdent != 0 }

func isIdentByteSlow(c byte) bool {
	return c == '_' || c == '$' || isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// Byte classes, looked up in byteClasses: the scanners ask about every byte.
const (
	classIdent = 1 << iota // isIdentByte
	classWord              // isWordByte
	classType              // a byte of a header's type name (splitTypeMessage)
)

// byteClasses is made from the predicates themselves, so a lookup answers as they do.
var byteClasses = func() (t [256]uint8) {
	for i := range t {
		c := byte(i)
		if isIdentByteSlow(c) {
			t[i] |= classIdent
		}
		if isWordByteSlow(c) {
			t[i] |= classWord
		}
		if isIdentByteSlow(c) || c == '.' || c == '+' || c == '`' || c == '<' || c == '>' || c == '\\' || c == '-' || c >= 0x80 {
			t[i] |= classType
		}
	}
	return t
}()

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

// splitTypeMessage splits a header "pkg.Type: message" into type and message.
// It reports false unless the text before ": " (or the whole line) looks like
// a type name: identifier characters, dots, '+', '`', '<', '>' (generics),
// '::' or '\' (PHP namespaces), no spaces.
func splitTypeMessage(line string) (typ, msg string, ok bool) {
	end := len(line)
	i := 0
	for i < len(line) {
		c := line[i]
		if c == ':' {
			if i+1 < len(line) && line[i+1] == ':' { // C++/PHP scope
				i += 2
				continue
			}
			end = i
			break
		}
		if byteClasses[c]&classType == 0 {
			return "", "", false
		}
		i++
	}
	if end == 0 || end > 200 {
		return "", "", false
	}
	typ = line[:end]
	if !isIdentByte(typ[0]) || isDigit(typ[0]) {
		return "", "", false
	}
	if end < len(line) {
		msg = trimSpace(line[end+1:])
	}
	return typ, msg, true
}

// looksLikeTypeName reports whether a header type looks like an exception
// class rather than a word of prose: it is qualified (has a dot) or ends in
// a conventional suffix, or is CamelCase.
func looksLikeTypeName(t string) bool {
	if t == "" || !hasLower(t) {
		return false
	}
	if strings.IndexByte(t, '.') > 0 {
		last := t[strings.LastIndexByte(t, '.')+1:]
		return last != "" && (isUpper(last[0]) || strings.HasSuffix(last, "Error") || strings.HasSuffix(last, "Exception"))
	}
	if strings.HasSuffix(t, "Error") || strings.HasSuffix(t, "Exception") || strings.HasSuffix(t, "Exit") || strings.HasSuffix(t, "Interrupt") || strings.HasSuffix(t, "Warning") || strings.HasSuffix(t, "Failure") || strings.HasSuffix(t, "Fault") {
		return true
	}
	if !isUpper(t[0]) {
		return false
	}
	// CamelCase with a second upper-case letter, e.g. "StopIteration".
	for i := 1; i < len(t); i++ {
		if isUpper(t[i]) {
			return true
		}
	}
	return false
}

// indexAnchored is strings.Index(s, sub), found by the byte sub[k], rarer in
// the lines searched than sub's first (" ---> " by its '>': Index would stop
// at every space of a long line).
func indexAnchored(s, sub string, k int) int {
	for from := k; from < len(s); {
		j := strings.IndexByte(s[from:], sub[k])
		if j < 0 {
			return -1
		}
		start := from + j - k
		if strings.HasPrefix(s[start:], sub) {
			return start
		}
		from += j + 1
	}
	return -1
}

// firstLine returns s up to its first line break.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimRight(s, "\r")
}

func hasLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'a' && s[i] <= 'z' {
			return true
		}
	}
	return false
}

// appendFrame appends f, starting a new frame list at a capacity that
// holds a typical trace without regrowing.
func appendFrame(frames []Frame, f Frame) []Frame {
	if frames == nil {
		frames = make([]Frame, 0, 4) // most traces in a log line are short; append doubles it
	}
	return append(frames, f)
}
