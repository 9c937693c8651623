package grouping

import "strings"

// Families: the runtime names the rules' family matcher takes.
const (
	FamilyNode   = "node"
	FamilyJava   = "java"
	FamilyDotnet = "dotnet"
	FamilyPython = "python"
	FamilyGo     = "go"
	FamilyRuby   = "ruby"
	FamilyPHP    = "php"
	FamilyRust   = "rust"
)

// signal is how strongly one line says a trace is of a runtime.
type signal uint8

const (
	sigNone signal = iota
	sigWeak        // taken only when no line of any runtime is strong
	sigStrong
)

// runtimeParser is one entry of the runtimes table: detect reads one line of a
// trace (p.line as printed, p.t without its indentation) and says whether it
// is the runtime's; parse splits a trace of the runtime into its exception
// chain.
type runtimeParser struct {
	name   string
	detect func(p lineProbe) signal
	parse  func(text string, sc *scratch) []Exception
}

// lineProbe is one line offered to the detectors, with what several of them
// ask about an "at " line worked out once (passed by value: a pointer would
// escape through the table's function values, one allocation a line).
type lineProbe struct {
	line, t string
	// For an "at " line: a .NET location (":line 42"); else a JVM location
	// (isJavaAt); else whether it parses as a located V8 frame (a line number,
	// or <anonymous> or native: v8Frame).
	dotnetLine, javaAt, v8Located bool
}

// v8Frame reports an "at " line that parses as a V8 frame with a location.
func v8Frame(t string) bool {
	f, ok := ParseV8Frame(t)
	return ok && (f.Line > 0 || f.File == "<anonymous>" || f.File == "native")
}

func newProbe(line, t string) lineProbe {
	p := lineProbe{line: line, t: t}
	if strings.HasPrefix(t, "at ") {
		p.dotnetLine = strings.Contains(t, ":line ")
		if !p.dotnetLine {
			p.javaAt = isJavaAt(t)
			if !p.javaAt {
				p.v8Located = v8Frame(t)
			}
		}
	}
	return p
}

// runtimes is the table of the stack trace formats, in the order their
// detectors are asked about each line. A new runtime is a new entry.
var runtimes = [...]runtimeParser{
	{FamilyRust, detectRust, parseRust},
	{FamilyPython, detectPython, parsePythonGroups},
	{FamilyGo, detectGo, parseGo},
	{FamilyPHP, detectPHP, parsePHP},
	{FamilyDotnet, detectDotnet, parseDotnet},
	{FamilyJava, detectJava, func(text string, sc *scratch) []Exception { return parseAtStyle(text, ParseJavaFrame, sc) }},
	{FamilyNode, detectNode, func(text string, sc *scratch) []Exception { return parseAtStyle(text, ParseV8Frame, sc) }},
	{FamilyRuby, detectRuby, parseRuby},
}

// familyIndex maps a family name to its index in runtimes (len(runtimes) for
// frames of no known runtime).
func familyIndex(name string) int {
	for i := range runtimes {
		if runtimes[i].name == name {
			return i
		}
	}
	return len(runtimes)
}

func validFamily(name string) bool { return familyIndex(name) < len(runtimes) }

func familyNames() string {
	names := make([]string, len(runtimes))
	for i := range runtimes {
		names[i] = runtimes[i].name
	}
	return strings.Join(names, ", ")
}

// detect finds the runtime of a stack trace: the first runtime whose detector
// is strong on some line (lines in order, runtimes in table order), else the
// first that was weak. It scans at most maxScan bytes and maxLines lines.
func detect(text string, sc *scratch) *runtimeParser {
	it := newLines(text, sc)
	weak := -1
	for {
		line, ok := it.next()
		if !ok {
			break
		}
		t := trimIndent(line)
		if t == "" {
			continue
		}
		p := newProbe(line, t)
		for i := range runtimes {
			switch runtimes[i].detect(p) {
			case sigStrong:
				return &runtimes[i]
			case sigWeak:
				if weak < 0 {
					weak = i
				}
			}
		}
	}
	if weak >= 0 {
		return &runtimes[weak]
	}
	return nil
}

// parseStack splits a stack trace text into its exception chain, each
// exception marked with the runtime family.
func parseStack(text string, sc *scratch) []Exception {
	rt := detect(text, sc)
	if rt == nil {
		return nil
	}
	chain := rt.parse(text, sc)
	for i := range chain {
		chain[i].Family = rt.name
	}
	return chain
}

func detectPython(p lineProbe) signal {
	t := p.t
	if strings.HasPrefix(t, "Traceback (most recent call last)") || strings.HasPrefix(t, `File "`) ||
		strings.HasPrefix(t, "+ Exception Group Traceback") {
		return sigStrong
	}
	return sigNone
}

func detectGo(p lineProbe) signal {
	line, t := p.line, p.t
	if strings.HasPrefix(t, "goroutine ") && strings.HasSuffix(t, "]:") {
		return sigStrong
	}
	if indentWidth(line) > 0 && strings.Contains(t, ".go:") && !strings.HasPrefix(t, "at ") {
		return sigStrong // a location line: "\t/app/main.go:42 +0x1d"
	}
	return sigNone
}

func detectPHP(p lineProbe) signal {
	t := p.t
	switch t[0] {
	case '#':
		if _, ok := ParsePHPFrame(t); ok {
			return sigStrong
		}
	case 'S':
		if strings.HasPrefix(t, "Stack trace:") {
			return sigStrong
		}
	case 'P':
		if strings.HasPrefix(t, "PHP ") {
			return sigStrong
		}
	}
	return sigNone
}

func detectDotnet(p lineProbe) signal {
	t := p.t
	if strings.HasPrefix(t, "at ") {
		if p.dotnetLine {
			return sigStrong
		}
		if p.javaAt {
			return sigNone
		}
		if p.v8Located {
			return sigNone
		}
		if strings.HasSuffix(t, ")") {
			return sigWeak
		}
	}
	if indexAnchored(t, " ---> ", 4) >= 0 || strings.HasPrefix(t, "---> ") || strings.HasPrefix(t, "--- End of inner exception") {
		return sigStrong
	}
	return sigNone
}

// isJavaAt reports a JVM frame's location: "(Native Method)", "(Unknown
// Source)", or a ':' after a .java, .kt, .scala, .groovy or .clj file name.
func isJavaAt(t string) bool {
	for i := strings.IndexByte(t, '('); i >= 0; {
		rest := t[i+1:]
		if strings.HasPrefix(rest, "Native Method)") || strings.HasPrefix(rest, "Unknown Source)") {
			return true
		}
		j := strings.IndexByte(rest, '(')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	for i := strings.IndexByte(t, ':'); i >= 0; {
		head := t[:i]
		if strings.HasSuffix(head, ".java") || strings.HasSuffix(head, ".kt") || strings.HasSuffix(head, ".scala") ||
			strings.HasSuffix(head, ".groovy") || strings.HasSuffix(head, ".clj") {
			return true
		}
		j := strings.IndexByte(t[i+1:], ':')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

func detectJava(p lineProbe) signal {
	t := p.t
	if strings.HasPrefix(t, "at ") {
		if !p.dotnetLine && p.javaAt {
			return sigStrong
		}
		return sigNone
	}
	if strings.HasSuffix(t, ")") && strings.Contains(t, ".java:") {
		return sigStrong
	}
	return sigNone
}

func detectNode(p lineProbe) signal {
	t := p.t
	if strings.HasPrefix(t, "at ") && !p.dotnetLine && !p.javaAt {
		if p.v8Located {
			return sigStrong
		}
	}
	return sigNone
}

func detectRuby(p lineProbe) signal {
	t := p.t
	if strings.Contains(t, ".rb:") {
		if _, _, ok := ParseRubyFrame(t); ok {
			return sigStrong
		}
	}
	return sigNone
}
