package grouping

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// The grouping rules are data: one rule a line, in the spirit of Sentry's
// stack trace rules.
//
//	# a comment
//	family:node path:**/node_modules/** -app
//	module:com.acme.* +app
//	function:<anonymous> -group
//	message:"*connection reset by peer*" fingerprint=db-connection-reset
//	type:TimeoutError function:fetchPrice fingerprint=price-timeout
//	code:ForceRetryExecution ignore
//
// A rule is one or more matchers (key:value, the value bare or "quoted" with
// \" and \\ escapes) followed by one or more actions. Frame rules (actions
// +app, -app, +group, -group) match frames on path, module, function, package
// and family; for each frame and each action the last matching rule wins.
// Event rules (actions fingerprint=NAME and ignore) may also match the
// exception's type, message and code; the last matching event rule decides.
// Values are globs: * matches any run of characters (in path: except '/'), **
// any run including '/', ? one character, {a,b} either alternative.

// Matcher keys.
const (
	KeyPath     = "path"
	KeyModule   = "module"
	KeyFunction = "function"
	KeyPackage  = "package"
	KeyFamily   = "family"
	KeyType     = "type"
	KeyMessage  = "message"
	KeyCode     = "code"
)

// matcherKeys in the order a rule is printed.
var matcherKeys = [...]string{KeyFamily, KeyPath, KeyModule, KeyPackage, KeyFunction, KeyType, KeyMessage, KeyCode}

// isFrameKey reports keys that test a frame (family tests the frame's runtime).
func isFrameKey(k string) bool {
	switch k {
	case KeyPath, KeyModule, KeyFunction, KeyPackage, KeyFamily:
		return true
	}
	return false
}

// Action flags of a rule.
type Action uint8

// Actions.
const (
	ActAppOn Action = 1 << iota
	ActAppOff
	ActGroupOn
	ActGroupOff
	ActIgnore
	ActFingerprint
)

// Rule is one parsed rule line.
type Rule struct {
	// Matchers maps a key to its glob; a rule holds each key at most once.
	Matchers []Matcher
	Actions  Action
	// Fingerprint is the name given by fingerprint=NAME.
	Fingerprint string
	// Line is the rule's line in its source (1-based), Source names the source.
	Line   int
	Source string
}

// Matcher is one key:glob of a rule.
type Matcher struct {
	Key   string
	Value string
}

// SyntaxError is a rule that does not parse: Line and Column are 1-based,
// Column counts characters.
type SyntaxError struct {
	Source string
	Line   int
	Column int
	Msg    string
}

func (e *SyntaxError) Error() string {
	src := ""
	if e.Source != "" {
		src = e.Source + ": "
	}
	return fmt.Sprintf("%sline %d, column %d: %s", src, e.Line, e.Column, e.Msg)
}

// Limits of a rules source.
const (
	maxRuleLine  = 4096
	maxRules     = 2000
	maxFPName    = 128
	maxGlobAlts  = 256
	maxRuleValue = 1024
)

// ParseRules parses a rules source (one rule a line). source names it in
// errors ("default", "org acme/prod"). The first error is returned.
func ParseRules(source, text string) ([]Rule, error) {
	var rules []Rule
	line := 0
	for text != "" {
		line++
		var l string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			l, text = text[:i], text[i+1:]
		} else {
			l, text = text, ""
		}
		l = strings.TrimSuffix(l, "\r")
		r, ok, err := parseRuleLine(source, line, l)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if len(rules) == maxRules {
			return nil, &SyntaxError{source, line, 1, fmt.Sprintf("more than %d rules", maxRules)}
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// ParseRule parses one rule (a line without comment-only content).
func ParseRule(text string) (Rule, error) {
	if strings.ContainsAny(text, "\n\r") {
		return Rule{}, &SyntaxError{"", 1, 1 + utf8.RuneCountInString(text[:strings.IndexAny(text, "\n\r")]), "a rule is one line"}
	}
	r, ok, err := parseRuleLine("", 1, text)
	if err != nil {
		return Rule{}, err
	}
	if !ok {
		return Rule{}, &SyntaxError{"", 1, 1, "empty rule"}
	}
	return r, nil
}

// parseRuleLine parses one line; ok is false for blank and comment lines.
func parseRuleLine(source string, line int, l string) (Rule, bool, error) {
	fail := func(byteCol int, format string, a ...any) (Rule, bool, error) {
		if byteCol > len(l) {
			byteCol = len(l)
		}
		return Rule{}, false, &SyntaxError{source, line, 1 + utf8.RuneCountInString(l[:byteCol]), fmt.Sprintf(format, a...)}
	}
	if len(l) > maxRuleLine {
		return fail(maxRuleLine, "line longer than %d bytes", maxRuleLine)
	}
	if !utf8.ValidString(l) {
		for i := 0; i < len(l); {
			r, n := utf8.DecodeRuneInString(l[i:])
			if r == utf8.RuneError && n == 1 {
				return fail(i, "invalid UTF-8")
			}
			i += n
		}
	}
	r := Rule{Line: line, Source: source}
	seen := map[string]bool{}
	pos := 0
	for {
		for pos < len(l) && (l[pos] == ' ' || l[pos] == '\t') {
			pos++
		}
		if pos == len(l) || l[pos] == '#' {
			break
		}
		start := pos
		tok := l[pos:]
		switch {
		case tok[0] == '+' || tok[0] == '-':
			end := tokenEnd(l, pos)
			word := l[pos:end]
			var a Action
			switch word {
			case "+app":
				a = ActAppOn
			case "-app":
				a = ActAppOff
			case "+group":
				a = ActGroupOn
			case "-group":
				a = ActGroupOff
			default:
				return fail(start, "unknown action %q (want +app, -app, +group, -group, fingerprint=NAME or ignore)", word)
			}
			if r.Actions&a != 0 {
				return fail(start, "action %s given twice", word)
			}
			r.Actions |= a
			pos = end
		case strings.HasPrefix(tok, "ignore") && (len(tok) == 6 || tok[6] == ' ' || tok[6] == '\t'):
			if r.Actions&ActIgnore != 0 {
				return fail(start, "action ignore given twice")
			}
			r.Actions |= ActIgnore
			pos += 6
		case strings.HasPrefix(tok, "fingerprint="):
			pos += len("fingerprint=")
			v, end, err := readValue(l, pos)
			if err != "" {
				return fail(end, "%s", err)
			}
			if v == "" {
				return fail(pos, "fingerprint= needs a name")
			}
			if len(v) > maxFPName {
				return fail(pos, "fingerprint name longer than %d bytes", maxFPName)
			}
			if r.Actions&ActFingerprint != 0 {
				return fail(start, "action fingerprint= given twice")
			}
			r.Actions |= ActFingerprint
			r.Fingerprint = v
			pos = end
		default:
			if r.Actions != 0 {
				return fail(start, "matcher after an action: matchers come first")
			}
			colon := strings.IndexByte(tok, ':')
			if colon <= 0 {
				end := tokenEnd(l, pos)
				return fail(start, "expected key:value or an action, got %q", l[pos:end])
			}
			key := tok[:colon]
			if !validKey(key) {
				return fail(start, "unknown matcher %q (want path, module, function, package, family, type, message or code)", key)
			}
			if seen[key] {
				return fail(start, "matcher %s given twice", key)
			}
			seen[key] = true
			pos += colon + 1
			v, end, err := readValue(l, pos)
			if err != "" {
				return fail(end, "%s", err)
			}
			if len(v) > maxRuleValue {
				return fail(pos, "value longer than %d bytes", maxRuleValue)
			}
			if key == KeyFamily {
				if !validFamily(v) {
					return fail(pos, "unknown family %q (want %s)", v, familyNames())
				}
			} else if _, err := compileGlob(v, key == KeyPath); err != "" {
				return fail(pos, "%s", err)
			}
			r.Matchers = append(r.Matchers, Matcher{Key: key, Value: v})
			pos = end
		}
		if pos < len(l) && l[pos] != ' ' && l[pos] != '\t' {
			return fail(pos, "expected a space")
		}
	}
	if len(r.Matchers) == 0 && r.Actions == 0 {
		return Rule{}, false, nil
	}
	if len(r.Matchers) == 0 {
		return fail(0, "a rule needs at least one matcher")
	}
	if r.Actions == 0 {
		return fail(len(l), "a rule needs an action (+app, -app, +group, -group, fingerprint=NAME or ignore)")
	}
	frameActs := r.Actions & (ActAppOn | ActAppOff | ActGroupOn | ActGroupOff)
	eventActs := r.Actions & (ActIgnore | ActFingerprint)
	switch {
	case r.Actions&ActAppOn != 0 && r.Actions&ActAppOff != 0:
		return fail(0, "+app and -app contradict")
	case r.Actions&ActGroupOn != 0 && r.Actions&ActGroupOff != 0:
		return fail(0, "+group and -group contradict")
	case eventActs == ActIgnore|ActFingerprint:
		return fail(0, "ignore and fingerprint= contradict")
	case frameActs != 0 && eventActs != 0:
		return fail(0, "frame actions (+app, -app, +group, -group) and event actions (fingerprint=, ignore) belong in separate rules")
	}
	if frameActs != 0 {
		for _, m := range r.Matchers {
			if !isFrameKey(m.Key) {
				return fail(0, "matcher %s tests the event, not a frame: use it with fingerprint= or ignore", m.Key)
			}
		}
	}
	sortMatchers(r.Matchers)
	return r, true, nil
}

// sortMatchers puts matchers in the printed order.
func sortMatchers(ms []Matcher) {
	rank := func(k string) int {
		for i, m := range matcherKeys {
			if m == k {
				return i
			}
		}
		return len(matcherKeys)
	}
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && rank(ms[j].Key) < rank(ms[j-1].Key); j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
}

func validKey(k string) bool {
	for _, m := range matcherKeys {
		if m == k {
			return true
		}
	}
	return false
}

// tokenEnd is the end of the bare token at pos.
func tokenEnd(l string, pos int) int {
	for pos < len(l) && l[pos] != ' ' && l[pos] != '\t' {
		pos++
	}
	return pos
}

// readValue reads a bare or quoted value at pos. err is "" or the problem,
// with end its position.
func readValue(l string, pos int) (v string, end int, err string) {
	if pos >= len(l) || l[pos] == ' ' || l[pos] == '\t' {
		return "", pos, ""
	}
	if l[pos] != '"' {
		end = tokenEnd(l, pos)
		return l[pos:end], end, ""
	}
	var b strings.Builder
	for i := pos + 1; i < len(l); i++ {
		switch c := l[i]; c {
		case '"':
			return b.String(), i + 1, ""
		case '\\':
			if i+1 < len(l) && (l[i+1] == '"' || l[i+1] == '\\') {
				b.WriteByte(l[i+1])
				i++
				continue
			}
			return "", i, `only \" and \\ are escapes in a quoted value`
		default:
			b.WriteByte(c)
		}
	}
	return "", len(l), "unterminated quoted value"
}

// String prints the rule in its canonical form, which parses back to the
// same rule.
func (r Rule) String() string {
	var b strings.Builder
	for i, m := range r.Matchers {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(m.Key)
		b.WriteByte(':')
		writeValue(&b, m.Value)
	}
	for _, a := range [...]struct {
		a Action
		s string
	}{{ActAppOn, "+app"}, {ActAppOff, "-app"}, {ActGroupOn, "+group"}, {ActGroupOff, "-group"}, {ActIgnore, "ignore"}} {
		if r.Actions&a.a != 0 {
			b.WriteByte(' ')
			b.WriteString(a.s)
		}
	}
	if r.Actions&ActFingerprint != 0 {
		b.WriteString(" fingerprint=")
		writeValue(&b, r.Fingerprint)
	}
	return b.String()
}

// writeValue writes v bare when it reads back as itself, else quoted.
func writeValue(b *strings.Builder, v string) {
	if v != "" && v[0] != '"' && v[0] != '#' && !strings.ContainsAny(v, " \t") {
		b.WriteString(v)
		return
	}
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		if v[i] == '"' || v[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte('"')
}

// FormatRules prints rules one a line in canonical form.
func FormatRules(rules []Rule) string {
	var b strings.Builder
	for _, r := range rules {
		b.WriteString(r.String())
		b.WriteByte('\n')
	}
	return b.String()
}
