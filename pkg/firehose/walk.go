package firehose

import (
	"bytes"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// maxDepth bounds the nesting of skipped JSON values.
const maxDepth = 128

// syntaxError is malformed JSON at an offset.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s at byte %d", e.msg, e.off) }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipWS(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// walkObject calls fn with each key of the object at b[i] == '{' and the index of its
// value; fn returns the index after the value. It returns the index after the object.
func walkObject(b []byte, i, depth int, fn func(key []byte, v int) (int, error)) (int, error) {
	if depth > maxDepth {
		return 0, &syntaxError{i, "nested too deeply"}
	}
	i++
	for first := true; ; first = false {
		i = skipWS(b, i)
		if i >= len(b) {
			return 0, &syntaxError{i, "unexpected end of input"}
		}
		if b[i] == '}' {
			return i + 1, nil
		}
		if !first {
			if b[i] != ',' {
				return 0, &syntaxError{i, "expected , or }"}
			}
			i = skipWS(b, i+1)
		}
		if i >= len(b) || b[i] != '"' {
			return 0, &syntaxError{i, "expected a key"}
		}
		end, esc, ok := scanString(b, i)
		if !ok {
			return 0, &syntaxError{i, "unterminated string"}
		}
		key := b[i+1 : end-1]
		if esc {
			if key, ok = unescape(nil, key); !ok {
				return 0, &syntaxError{i, "bad string escape"}
			}
		}
		i = skipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, &syntaxError{i, "expected :"}
		}
		i = skipWS(b, i+1)
		if i >= len(b) {
			return 0, &syntaxError{i, "unexpected end of input"}
		}
		var err error
		if i, err = fn(key, i); err != nil {
			return 0, err
		}
	}
}

// walkArray calls fn with the index of each value of the array at b[i] == '['.
func walkArray(b []byte, i int, fn func(v int) (int, error)) (int, error) {
	i++
	for first := true; ; first = false {
		i = skipWS(b, i)
		if i >= len(b) {
			return 0, &syntaxError{i, "unexpected end of input"}
		}
		if b[i] == ']' {
			return i + 1, nil
		}
		if !first {
			if b[i] != ',' {
				return 0, &syntaxError{i, "expected , or ]"}
			}
			i = skipWS(b, i+1)
			if i >= len(b) {
				return 0, &syntaxError{i, "unexpected end of input"}
			}
		}
		var err error
		if i, err = fn(i); err != nil {
			return 0, err
		}
	}
}

// scanString returns the index just past the JSON string at b[i] == '"' and whether it
// holds escapes.
func scanString(b []byte, i int) (end int, esc bool, ok bool) {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, false, false
		}
		q := j + k
		if !esc && bytes.IndexByte(b[j:q], '\\') >= 0 {
			esc = true
		}
		if esc {
			n := 0
			for p := q - 1; p > i && b[p] == '\\'; p-- {
				n++
			}
			if n%2 == 1 {
				j = q + 1
				continue
			}
		}
		return q + 1, esc, true
	}
}

// readString returns the content of the JSON string at b[i]: a slice of b when it has
// no escapes, else a new unescaped copy.
func readString(b []byte, i int) ([]byte, int, error) {
	end, esc, ok := scanString(b, i)
	if !ok {
		return nil, 0, &syntaxError{i, "unterminated string"}
	}
	s := b[i+1 : end-1]
	if esc {
		if s, ok = unescape(make([]byte, 0, len(s)), s); !ok {
			return nil, 0, &syntaxError{i, "bad string escape"}
		}
	}
	return s, end, nil
}

// skipValue returns the index just past the JSON value at b[i].
func skipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, &syntaxError{i, "unexpected end of input"}
	}
	if depth > maxDepth {
		return 0, &syntaxError{i, "nested too deeply"}
	}
	switch c := b[i]; c {
	case '"':
		end, _, ok := scanString(b, i)
		if !ok {
			return 0, &syntaxError{i, "unterminated string"}
		}
		return end, nil
	case '{':
		return walkObject(b, i, depth+1, func(_ []byte, v int) (int, error) { return skipValue(b, v, depth+1) })
	case '[':
		return walkArray(b, i, func(v int) (int, error) { return skipValue(b, v, depth+1) })
	case 't':
		return literal(b, i, "true")
	case 'f':
		return literal(b, i, "false")
	case 'n':
		return literal(b, i, "null")
	default:
		j := i
		for j < len(b) {
			c := b[j]
			if ('0' <= c && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
				j++
				continue
			}
			break
		}
		if j == i {
			return 0, &syntaxError{i, "unexpected character " + strconv.QuoteRune(rune(c))}
		}
		return j, nil
	}
}

func literal(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, &syntaxError{i, "bad literal"}
	}
	return i + len(lit), nil
}

// unescape appends the unescaped JSON string content src to dst. dst may share src's
// memory when it starts at or before src: the output never overtakes the input.
func unescape(dst, src []byte) ([]byte, bool) {
	for {
		k := bytes.IndexByte(src, '\\')
		if k < 0 {
			return append(dst, src...), true
		}
		dst = append(dst, src[:k]...)
		src = src[k:]
		if len(src) < 2 {
			return dst, false
		}
		switch src[1] {
		case '"', '\\', '/':
			dst = append(dst, src[1])
		case 'n':
			dst = append(dst, '\n')
		case 't':
			dst = append(dst, '\t')
		case 'r':
			dst = append(dst, '\r')
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'u':
			r, n := unicodeEscape(src)
			if n == 0 {
				return dst, false
			}
			var tmp [4]byte
			w := utf8.EncodeRune(tmp[:], r)
			src = src[n:]
			dst = append(dst, tmp[:w]...)
			continue
		default:
			return dst, false
		}
		src = src[2:]
	}
}

// unicodeEscape decodes \uXXXX (and a following low surrogate) at src; n is the bytes used.
func unicodeEscape(src []byte) (rune, int) {
	r, ok := hex4(src)
	if !ok {
		return 0, 0
	}
	if 0xD800 <= r && r < 0xDC00 {
		if len(src) >= 12 && src[6] == '\\' && src[7] == 'u' {
			if r2, ok := hex4(src[6:]); ok && 0xDC00 <= r2 && r2 < 0xE000 {
				return 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00), 12
			}
		}
		return utf8.RuneError, 6
	}
	if 0xDC00 <= r && r < 0xE000 {
		return utf8.RuneError, 6
	}
	return r, 6
}

func hex4(src []byte) (rune, bool) {
	if len(src) < 6 {
		return 0, false
	}
	var r rune
	for _, c := range src[2:6] {
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
		r = r<<4 | rune(c)
	}
	return r, true
}
