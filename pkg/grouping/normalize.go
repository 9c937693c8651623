package grouping

import "strings"

// maxNormalized caps how much of a message goes into a fingerprint.
const maxNormalized = 512

// appendNormalizedMessage appends msg to b with its variable parts replaced:
// numbers and words holding digits (ids, hex, UUIDs, IPs, dates, durations,
// request ids), emails, URLs, quoted values and values after '='. Runs of
// white space become one space.
func appendNormalizedMessage(b []byte, msg string) []byte {
	if len(msg) > maxNormalized {
		msg = msg[:maxNormalized]
	}
	space := false
	for i := 0; i < len(msg); {
		c := msg[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			space = true
			i++
			continue
		}
		if space {
			if len(b) > 0 {
				b = append(b, ' ')
			}
			space = false
		}
		switch {
		case (c == 'h' || c == 'H') && (hasPrefixFold(msg[i:], "http://") || hasPrefixFold(msg[i:], "https://")):
			j := i
			for j < len(msg) && !isURLEnd(msg[j]) {
				j++
			}
			b = append(b, "<url>"...)
			i = j
		case c == '\'' || c == '"' || c == '`':
			closeq := c
			if c == '`' {
				// Ruby and shells quote `like this'.
				closeq = 0
			}
			j := i + 1
			for j < len(msg) && j-i < 200 && msg[j] != '\n' && msg[j] != c && (closeq != 0 || msg[j] != '\'') {
				j++
			}
			if j < len(msg) && (msg[j] == c || (closeq == 0 && msg[j] == '\'')) {
				b = append(b, c)
				b = appendQuoted(b, msg[i+1:j])
				b = append(b, msg[j])
				i = j + 1
			} else {
				b = append(b, c)
				i++
			}
		case c == '=':
			b = append(b, '=')
			i++
			if i < len(msg) && msg[i] != ' ' && msg[i] != '"' && msg[i] != '\'' {
				j := i
				for j < len(msg) && !isValueEnd(msg[j]) {
					j++
				}
				if j > i {
					b = append(b, "<v>"...)
					i = j
				}
			}
		case isWordByte(c):
			j := i
			digit, at := false, false
			for j < len(msg) && isWordByte(msg[j]) {
				if isDigit(msg[j]) {
					digit = true
				} else if msg[j] == '@' {
					at = true
				}
				j++
			}
			// Trailing sentence punctuation is not part of the word.
			k := j
			for k > i && (msg[k-1] == '.' || msg[k-1] == ':' || msg[k-1] == '-' || msg[k-1] == '/') {
				k--
			}
			switch {
			case at:
				b = append(b, "<email>"...)
			case digit || isHexWord(msg[i:k]):
				b = append(b, "<v>"...)
			default:
				b = append(b, msg[i:k]...)
			}
			b = append(b, msg[k:j]...)
			i = j
		default:
			b = append(b, c)
			i++
		}
	}
	return b
}

// appendQuoted appends a quoted value: quoted identifiers (module, package,
// constraint, table, queue, bucket names) are static and stay; what varies
// (numbers, ids, UUIDs, hashes, emails, timestamps, amounts) is masked, a
// whole token when it is such a value, else its digit runs.
func appendQuoted(b []byte, q string) []byte {
	for i := 0; i < len(q); {
		c := q[i]
		if !isWordByte(c) || c == ':' || c == '/' {
			b = append(b, c)
			i++
			continue
		}
		j := i
		for j < len(q) && isWordByte(q[j]) && q[j] != ':' && q[j] != '/' {
			j++
		}
		b = appendQuotedToken(b, q[i:j])
		i = j
	}
	return b
}

func appendQuotedToken(b []byte, w string) []byte {
	letters, digits, hex, sandwiched := 0, 0, true, false
	for i := 0; i < len(w); i++ {
		c := w[i]
		if isDigit(c) && i > 0 && isLetter(w[i-1]) {
			j := i
			for j < len(w) && isDigit(w[j]) {
				j++
			}
			sandwiched = sandwiched || j < len(w) && isLetter(w[j])
		}
		switch {
		case c == '@':
			return append(b, "<email>"...)
		case isDigit(c):
			digits++
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letters++
			hex = hex && isHex(c)
		case c == '-' || c == '.' || c == '_' || c == '+':
		default:
			hex = false
		}
	}
	switch {
	case digits == 0:
		return append(b, w...)
	case letters == 0 || hex && len(w) >= 8 || digits > letters || sandwiched:
		return append(b, "<v>"...) // a number, date, amount, hash, UUID or generated id
	}
	for i := 0; i < len(w); {
		if !isDigit(w[i]) {
			b = append(b, w[i])
			i++
			continue
		}
		for i < len(w) && isDigit(w[i]) {
			i++
		}
		b = append(b, "<n>"...)
	}
	return b
}

// isWordByte: characters that make up one token of a message (words, ids,
// numbers with separators, paths, emails).
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isWordByte(c byte) bool { return byteClasses[c]&classWord != 0 }

func isWordByteSlow(c byte) bool {
	return isIdentByteSlow(c) || c == '.' || c == '-' || c == ':' || c == '/' || c == '@' || c == '+' || c == '%' || c == '~' || c >= 0x80
}

// isHexWord: long runs of hex letters without digits (rare, but ids).
func isHexWord(w string) bool {
	if len(w) < 12 {
		return false
	}
	for i := 0; i < len(w); i++ {
		if !isHex(w[i]) && w[i] != '-' {
			return false
		}
	}
	return true
}

func isURLEnd(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '"' || c == '\'' || c == '>' || c == ')' || c == ']' || c == ','
}

func isValueEnd(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == ',' || c == ';' || c == ')' || c == ']' || c == '}' || c == '&'
}

// normalizeFunction removes the generated parts of function names that
// change between builds or call sites: Java lambda and anonymous class
// numbers ($$Lambda$123/0x..., $1), Go closure suffixes (.func1, .gowrap2),
// .NET compiler-generated state machines (<Run>d__5.MoveNext), JavaScript
// "async "/"new " prefixes and anonymous functions, Ruby block prefixes.
func normalizeFunction(fn string) string {
	if plainName(fn) {
		return fn
	}
	fn = strings.TrimSpace(fn)
	for _, p := range [...]string{"async ", "new ", "block in ", "rescue in ", "ensure in "} {
		fn = strings.TrimPrefix(fn, p)
	}
	if strings.HasPrefix(fn, "block (") {
		if i := strings.Index(fn, ") in "); i > 0 {
			fn = fn[i+5:]
		}
	}
	if i := strings.Index(fn, " [as "); i > 0 {
		fn = fn[:i]
	}
	if fn == "" || fn == "Object.<anonymous>" || fn == "<anonymous>" {
		return "<anonymous>"
	}
	// .NET async state machine: Ns.Type.<Method>d__12.MoveNext -> Ns.Type.Method
	if i := strings.Index(fn, ">d__"); i > 0 {
		if j := strings.LastIndexByte(fn[:i], '<'); j >= 0 {
			fn = fn[:j] + fn[j+1:i]
		}
	}
	if !needsDigitScrub(fn) {
		return fn
	}
	b := make([]byte, 0, len(fn))
	for i := 0; i < len(fn); {
		c := fn[i]
		switch {
		case c == '$' || c == '_' && i+1 < len(fn) && fn[i+1] == '_':
			// $123, $$Lambda$45, __12 (.NET display classes)
			b = append(b, c)
			i++
			for i < len(fn) && fn[i] == c {
				b = append(b, c)
				i++
			}
			j := i
			for j < len(fn) && isDigit(fn[j]) {
				j++
			}
			if j < len(fn) && fn[j] == '_' && j > i { // DisplayClass5_0
				j++
				for j < len(fn) && isDigit(fn[j]) {
					j++
				}
			}
			i = j
		case c == '/' && i+2 < len(fn) && fn[i+1] == '0' && fn[i+2] == 'x':
			j := i + 3
			for j < len(fn) && isHex(fn[j]) {
				j++
			}
			i = j
		case c == '.' && (hasWordAt(fn, i+1, "func") || hasWordAt(fn, i+1, "gowrap") || hasWordAt(fn, i+1, "deferwrap")):
			// Go closures: .func1, .func1.2, .gowrap3
			j := i + 1
			for j < len(fn) && fn[j] >= 'a' && fn[j] <= 'z' {
				j++
			}
			k := j
			for k < len(fn) && (isDigit(fn[k]) || (fn[k] == '.' && k+1 < len(fn) && isDigit(fn[k+1]))) {
				k++
			}
			if k > j && (k == len(fn) || fn[k] == '.' || fn[k] == '(' || fn[k] == '[') {
				b = append(b, fn[i:j]...)
				i = k
			} else {
				b = append(b, c)
				i++
			}
		case c == '[' && i+3 < len(fn) && fn[i+1] == '.' && fn[i+2] == '.' && fn[i+3] == '.':
			// Go generics instantiation [...]
			if j := strings.IndexByte(fn[i:], ']'); j > 0 {
				i += j + 1
			} else {
				i++
			}
		default:
			b = append(b, c)
			i++
		}
	}
	return string(b)
}

func needsDigitScrub(fn string) bool {
	for i := 0; i < len(fn); i++ {
		switch fn[i] {
		case '$', '[':
			return true
		case '_':
			if i+1 < len(fn) && fn[i+1] == '_' {
				return true
			}
		case '.':
			if i+1 < len(fn) && (fn[i+1] == 'f' || fn[i+1] == 'g' || fn[i+1] == 'd') &&
				(hasWordAt(fn, i+1, "func") || hasWordAt(fn, i+1, "gowrap") || hasWordAt(fn, i+1, "deferwrap")) {
				return true
			}
		case '/':
			if i+2 < len(fn) && fn[i+1] == '0' && fn[i+2] == 'x' {
				return true
			}
		}
	}
	return false
}

func hasWordAt(s string, i int, w string) bool {
	return i+len(w) < len(s) && s[i:i+len(w)] == w && isDigit(s[i+len(w)])
}

// nameSpecial marks the bytes below 128 that make plainName look closer:
// white space, '$', '.', '/', '<', '>', '[', '_'.
const (
	nameSpecialLo = 1<<' ' | 1<<'\t' | 1<<'\r' | 1<<'\n' | 1<<'$' | 1<<'.' | 1<<'/' | 1<<'<' | 1<<'>'
	nameSpecialHi = 1<<('['-64) | 1<<('_'-64)
)

// plainName reports a function name that normalizeFunction leaves alone: no
// white space, '$', '[', '<', '>', '/', "__" and no ".func1"-like suffix.
// One pass over the bytes.
func plainName(fn string) bool {
	if fn == "" {
		return false
	}
	for i := 0; i < len(fn); i++ {
		c := fn[i]
		var special bool
		switch {
		case c < 64:
			special = nameSpecialLo>>c&1 != 0
		case c < 128:
			special = nameSpecialHi>>(c-64)&1 != 0
		}
		if !special {
			continue
		}
		switch c {
		case '.':
			if i+1 < len(fn) && (fn[i+1] == 'f' || fn[i+1] == 'g' || fn[i+1] == 'd') &&
				(hasWordAt(fn, i+1, "func") || hasWordAt(fn, i+1, "gowrap") || hasWordAt(fn, i+1, "deferwrap")) {
				return false
			}
		case '_':
			if i+1 < len(fn) && fn[i+1] == '_' {
				return false
			}
		default:
			return false
		}
	}
	return true
}
