package v1

import (
	"unsafe"

	"github.com/aient/firehose-drain/internal/jsonscan"
)

// jkind is the kind of a parsed JSON value.
type jkind uint8

const (
	jInvalid jkind = iota
	jNull
	jBool
	jNumber
	jString
	jArray
	jObject
)

// jvalue is one JSON value: a small tree with string payloads that are
// substrings of the input whenever no escape had to be decoded.
type jvalue struct {
	kind jkind
	str  string // string, number (raw text) and bool ("true"/"false")
	keys []string
	vals []jvalue // object values (parallel to keys) or array elements
}

// get returns the value of key in an object (exact match), or an invalid value.
func (v *jvalue) get(key string) *jvalue {
	if v == nil || v.kind != jObject {
		return nil
	}
	for i, k := range v.keys {
		if k == key {
			return &v.vals[i]
		}
	}
	return nil
}

// getFold returns the value of key in an object, ignoring ASCII case.
func (v *jvalue) getFold(key string) *jvalue {
	if v == nil || v.kind != jObject {
		return nil
	}
	for i, k := range v.keys {
		if len(k) == len(key) && equalFoldASCII(k, key) {
			return &v.vals[i]
		}
	}
	return nil
}

// Limits of the JSON parser: nesting deeper than maxJSONDepth is skipped,
// objects and arrays keep at most maxJSONMembers members.
const (
	maxJSONDepth   = 16
	maxJSONMembers = 256
)

// jparser is a tolerant, non-backtracking JSON parser over a string.
type jparser struct {
	s   string
	pos int
	err bool
}

// parseJSON parses s (which must hold exactly one JSON object or array,
// surrounded by optional whitespace). ok is false on any syntax error.
func parseJSON(s string) (v jvalue, ok bool) {
	p := jparser{s: s}
	p.ws()
	v = p.value(0)
	p.ws()
	if p.err || p.pos != len(p.s) || (v.kind != jObject && v.kind != jArray) {
		return jvalue{}, false
	}
	return v, true
}

// parseJSONPrefix parses one JSON object or array at the start of s and
// returns it with the number of bytes consumed; trailing text is allowed.
func parseJSONPrefix(s string) (v jvalue, n int, ok bool) {
	p := jparser{s: s}
	p.ws()
	v = p.value(0)
	if p.err || (v.kind != jObject && v.kind != jArray) {
		return jvalue{}, p.pos, false
	}
	return v, p.pos, true
}

func (p *jparser) ws() {
	p.pos = jsonscan.SkipWS(p.bytes(), p.pos)
}

func (p *jparser) value(depth int) jvalue {
	if p.pos >= len(p.s) {
		p.err = true
		return jvalue{}
	}
	switch c := p.s[p.pos]; {
	case c == '{':
		if depth >= maxJSONDepth {
			p.skip()
			return jvalue{kind: jObject}
		}
		return p.object(depth)
	case c == '[':
		if depth >= maxJSONDepth {
			p.skip()
			return jvalue{kind: jArray}
		}
		return p.array(depth)
	case c == '"':
		s := p.string()
		return jvalue{kind: jString, str: s}
	case c == 't':
		return p.literal("true", jBool)
	case c == 'f':
		return p.literal("false", jBool)
	case c == 'n':
		return p.literal("null", jNull)
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.pos
		p.pos++
		for p.pos < len(p.s) {
			c := p.s[p.pos]
			if (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-' {
				p.pos++
				continue
			}
			break
		}
		return jvalue{kind: jNumber, str: p.s[start:p.pos]}
	}
	p.err = true
	return jvalue{}
}

func (p *jparser) literal(lit string, k jkind) jvalue {
	if len(p.s)-p.pos >= len(lit) && p.s[p.pos:p.pos+len(lit)] == lit {
		p.pos += len(lit)
		return jvalue{kind: k, str: lit}
	}
	p.err = true
	return jvalue{}
}

func (p *jparser) object(depth int) jvalue {
	v := jvalue{kind: jObject}
	p.pos++ // {
	p.ws()
	if p.pos < len(p.s) && p.s[p.pos] == '}' {
		p.pos++
		return v
	}
	for !p.err {
		p.ws()
		if p.pos >= len(p.s) || p.s[p.pos] != '"' {
			p.err = true
			break
		}
		k := p.string()
		p.ws()
		if p.pos >= len(p.s) || p.s[p.pos] != ':' {
			p.err = true
			break
		}
		p.pos++
		p.ws()
		val := p.value(depth + 1)
		if v.keys == nil {
			v.keys = make([]string, 0, 8)
			v.vals = make([]jvalue, 0, 8)
		}
		if len(v.keys) < maxJSONMembers {
			v.keys = append(v.keys, k)
			v.vals = append(v.vals, val)
		}
		if !p.next('}') {
			break
		}
	}
	return v
}

// next steps past what follows a member: true when another member follows, false at the
// closer or on an error (p.err set).
func (p *jparser) next(closer byte) bool {
	p.ws()
	switch {
	case p.pos >= len(p.s):
		p.err = true
	case p.s[p.pos] == ',':
		p.pos++
		return true
	case p.s[p.pos] == closer:
		p.pos++
	default:
		p.err = true
	}
	return false
}

func (p *jparser) array(depth int) jvalue {
	v := jvalue{kind: jArray}
	p.pos++ // [
	p.ws()
	if p.pos < len(p.s) && p.s[p.pos] == ']' {
		p.pos++
		return v
	}
	for !p.err {
		p.ws()
		val := p.value(depth + 1)
		if len(v.vals) < maxJSONMembers {
			v.vals = append(v.vals, val)
		}
		if !p.next(']') {
			break
		}
	}
	return v
}

// skip passes over one object or array without building it, iteratively.
func (p *jparser) skip() {
	depth := 0
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch c {
		case '"':
			p.skipString()
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				p.pos++
				return
			}
		}
		p.pos++
	}
	p.err = true
}

// bytes returns the input as bytes for the jsonscan primitives, without a copy. They
// only read it.
func (p *jparser) bytes() []byte {
	return unsafe.Slice(unsafe.StringData(p.s), len(p.s))
}

// string parses a JSON string at p.pos (which holds '"') and returns its
// decoded content. Without escapes it is a substring of the input.
func (p *jparser) string() string {
	b := p.bytes()
	end, esc, ok := jsonscan.ScanString(b, p.pos)
	if !ok {
		p.pos = len(p.s)
		p.err = true
		return ""
	}
	start := p.pos + 1
	p.pos = end
	if !esc {
		return p.s[start : end-1]
	}
	out, ok := jsonscan.Unescape(make([]byte, 0, end-1-start), b[start:end-1])
	if !ok {
		p.err = true
		return ""
	}
	return string(out)
}

// skipString passes over the JSON string at p.pos (which holds '"').
func (p *jparser) skipString() {
	end, _, ok := jsonscan.ScanString(p.bytes(), p.pos)
	if !ok {
		p.pos = len(p.s)
		p.err = true
		return
	}
	p.pos = end
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
