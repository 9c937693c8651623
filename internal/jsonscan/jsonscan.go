// Package jsonscan holds the JSON primitives the hand-written decoders (pkg/firehose,
// pkg/cwpayload, pkg/level) share: whitespace, strings (found eight bytes at a time),
// numbers, members and skipping a value, unescaping, and walking an object or an array.
// They work on byte slices by index.
//
// Two kinds of scanners: the validating ones (ValidString, Number, Key, SkipValue,
// WalkObject, WalkArray) accept exactly what encoding/json accepts (raw control characters
// in strings, bad escapes and malformed numbers are errors; invalid UTF-8 is not, as for
// encoding/json), so a decoder built on them rejects the same inputs as the standard
// library. ScanString only finds where a string ends and checks nothing inside it: for
// callers that read untrusted text leniently (the level of a message), or that checked the
// whole text with CheckText first (pkg/cwpayload).
//
// Allocation: the scanners never allocate. Unescape appends to dst (it allocates when dst
// has no room), ReadString allocates a new buffer when scratch is too small, and
// WalkObject allocates the unescaped copy of a member name that holds escapes.
package jsonscan

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// MaxDepth bounds the nesting of values SkipValue passes over.
const MaxDepth = 128

// SyntaxError is malformed JSON at a byte offset.
type SyntaxError struct {
	// Offset is the index in the scanned bytes where the problem was seen.
	Offset int
	// Msg says what was wrong, e.g. "unterminated string".
	Msg string
}

// msgTooDeep is the message of a value nested deeper than MaxDepth.
const msgTooDeep = "nested too deeply"

// TooDeep reports whether err is a SyntaxError for nesting deeper than MaxDepth: input
// encoding/json (which allows 10000 levels) may still accept, so a decoder that must agree
// with it can hand such input to it.
func TooDeep(err error) bool {
	if err == nil {
		return false // before se, which escapes: no allocation on the usual path
	}
	var se *SyntaxError
	return errors.As(err, &se) && se.Msg == msgTooDeep
}

// Error returns "unterminated string at byte 12".
func (e *SyntaxError) Error() string { return fmt.Sprintf("%s at byte %d", e.Msg, e.Offset) }

// IsSpace reports whether c is JSON whitespace.
func IsSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// SkipWS returns the index of the first non-whitespace byte of b at or after i, or len(b).
func SkipWS(b []byte, i int) int {
	for i < len(b) && IsSpace(b[i]) {
		i++
	}
	return i
}

// ScanString returns the index just past the JSON string at b[i] == '"' and whether it
// holds escapes; ok is false when the string does not end. Most strings end at the first
// quote: it is found with bytes.IndexByte (vectorised). A string whose last two bytes are
// an escape (a log line ending in \n) holds escapes; otherwise a second search tells
// whether a backslash precedes the quote. A string with escaped quotes (a JSON log line)
// continues with an eight-bytes-at-a-time scan.
func ScanString(b []byte, i int) (end int, esc, ok bool) {
	j := i + 1
	q := bytes.IndexByte(b[j:], '"')
	if q < 0 {
		return 0, false, false
	}
	q += j
	if b[q-1] != '\\' {
		if q-2 >= j && b[q-2] == '\\' {
			return q + 1, true, true
		}
		return q + 1, bytes.IndexByte(b[j:q], '\\') >= 0, true
	}
	end, ok = scanEscaped(b, j)
	return end, true, ok
}

// scanEscaped finds the closing quote of a string that holds escapes, from b[j] on (just
// after the opening quote). It tests eight bytes at a time without stopping at each
// escape: a quote counts unless the byte before it is a backslash; a word with a backslash
// that is itself escaped (`\\\\`) is rare and stepped through byte by byte.
func scanEscaped(b []byte, j int) (int, bool) {
	const low7 = 0x7f7f7f7f7f7f7f7f
	var carry uint64 // 0x80 when b[j] is escaped by a backslash ending the previous word
	// Two words at a time while neither holds an escaped backslash, then one.
	for j+16 <= len(b) {
		w0 := binary.LittleEndian.Uint64(b[j:])
		w1 := binary.LittleEndian.Uint64(b[j+8:])
		q0, s0 := w0^quotes, w0^backslash
		q1, s1 := w1^quotes, w1^backslash
		qm0 := ^(((q0 & low7) + low7) | q0 | low7)
		bm0 := ^(((s0 & low7) + low7) | s0 | low7)
		qm1 := ^(((q1 & low7) + low7) | q1 | low7)
		bm1 := ^(((s1 & low7) + low7) | s1 | low7)
		esc0 := bm0<<8 | carry
		esc1 := bm1<<8 | bm0>>56&0x80
		if bm0&esc0|bm1&esc1 != 0 {
			break
		}
		if real := qm0 &^ esc0; real != 0 {
			return j + bits.TrailingZeros64(real)/8 + 1, true
		}
		if real := qm1 &^ esc1; real != 0 {
			return j + 8 + bits.TrailingZeros64(real)/8 + 1, true
		}
		carry = bm1 >> 56 & 0x80
		j += 16
	}
	for j+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[j:])
		q := w ^ quotes
		s := w ^ backslash
		// 0x80 in exactly the bytes that are '"' (qm) or '\\' (bm).
		qm := ^(((q & low7) + low7) | q | low7)
		bm := ^(((s & low7) + low7) | s | low7)
		if bm&(bm<<8|carry) != 0 {
			break
		}
		if real := qm &^ (bm<<8 | carry); real != 0 {
			return j + bits.TrailingZeros64(real)/8 + 1, true
		}
		carry = bm >> 56 & 0x80
		j += 8
	}
	if carry != 0 {
		j++
	}
	for j < len(b) {
		switch b[j] {
		case '"':
			return j + 1, true
		case '\\':
			j += 2
		default:
			j++
		}
	}
	return 0, false
}

const (
	lsb       = 0x0101010101010101
	msb       = 0x8080808080808080
	quotes    = '"' * lsb
	backslash = '\\' * lsb
)

// FindSpecial returns the index of the first '"' or '\\' in b at or after j, or len(b).
// It tests eight bytes at a time.
func FindSpecial(b []byte, j int) int {
	for ; j+8 <= len(b); j += 8 {
		w := binary.LittleEndian.Uint64(b[j:])
		q := w ^ quotes
		s := w ^ backslash
		m := ((q-lsb)&^q | (s-lsb)&^s) & msb
		if m != 0 {
			return j + bits.TrailingZeros64(m)/8
		}
	}
	for ; j < len(b); j++ {
		if c := b[j]; c == '"' || c == '\\' {
			return j
		}
	}
	return len(b)
}

// ReadString reads the JSON string at b[i] == '"' and returns its content and the index
// after it: a slice of b when it has no escapes, else the content unescaped into the
// start of scratch (valid until scratch is written again). One pass: eight bytes at a time
// are copied and tested for '"' and '\\' together. scratch must have a capacity of at
// least len(b)-i: the unescaped text is never longer than the escaped one, and the
// eight-byte stores never run past that. A smaller scratch is replaced by a new buffer.
func ReadString(b []byte, i int, scratch []byte) ([]byte, int, error) {
	start := i + 1
	j := FindSpecial(b, start)
	if j >= len(b) {
		return nil, 0, &SyntaxError{i, "unterminated string"}
	}
	if b[j] == '"' {
		return b[start:j], j + 1, nil
	}
	if cap(scratch) < len(b)-i {
		scratch = make([]byte, len(b)-i)
	}
	out := scratch[:cap(scratch)]
	n := copy(out, b[start:j])
	for {
		// b[j] == '\\'
		if j+1 >= len(b) {
			return nil, 0, &SyntaxError{i, "unterminated string"}
		}
		switch c := b[j+1]; c {
		case '"', '\\', '/':
			out[n] = c
		case 'n':
			out[n] = '\n'
		case 't':
			out[n] = '\t'
		case 'r':
			out[n] = '\r'
		case 'b':
			out[n] = '\b'
		case 'f':
			out[n] = '\f'
		case 'u':
			r, size := UnicodeEscape(b[j:])
			if size == 0 {
				return nil, 0, &SyntaxError{j, "bad string escape"}
			}
			n += utf8.EncodeRune(out[n:], r)
			j += size
			goto scan
		default:
			return nil, 0, &SyntaxError{j, "bad string escape"}
		}
		n++
		j += 2
	scan:
		for j+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[j:])
			binary.LittleEndian.PutUint64(out[n:], w)
			q := w ^ quotes
			s := w ^ backslash
			if m := ((q-lsb)&^q | (s-lsb)&^s) & msb; m != 0 {
				t := bits.TrailingZeros64(m) / 8
				n += t
				j += t
				break scan
			}
			n += 8
			j += 8
		}
		for j < len(b) && b[j] != '"' && b[j] != '\\' {
			out[n] = b[j]
			n++
			j++
		}
		if j >= len(b) {
			return nil, 0, &SyntaxError{i, "unterminated string"}
		}
		if b[j] == '"' {
			return out[:n], j + 1, nil
		}
	}
}

// Member steps to the next member of the object or array being read, whose closing
// bracket is closer: i is just after the opening bracket (first) or just after the previous
// member. It returns the index of the member's first byte, or done and the index after the
// closer. within names the value for the error at an unexpected end ("unexpected end of
// logEvents").
func Member(b []byte, i int, first bool, closer byte, within string) (next int, done bool, err error) {
	i = SkipWS(b, i)
	if i >= len(b) {
		return 0, false, &SyntaxError{i, "unexpected end of " + within}
	}
	if b[i] == closer {
		return i + 1, true, nil
	}
	if !first {
		if b[i] != ',' {
			return 0, false, &SyntaxError{i, "expected , or " + string(closer)}
		}
		i = SkipWS(b, i+1)
	}
	return i, false, nil
}

// SkipValue returns the index just past the JSON value at b[i], which it validates as
// encoding/json does; depth is the nesting already entered (values nested deeper than
// MaxDepth are an error).
func SkipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, &SyntaxError{i, "unexpected end of input"}
	}
	if depth > MaxDepth {
		return 0, &SyntaxError{i, msgTooDeep}
	}
	switch c := b[i]; c {
	case '"':
		end, _, err := ValidString(b, i)
		return end, err
	case '{', '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		i++
		for first := true; ; first = false {
			var done bool
			var err error
			if i, done, err = Member(b, i, first, closer, "input"); err != nil || done {
				return i, err
			}
			if c == '{' {
				var err error
				if _, _, _, i, err = Key(b, i); err != nil {
					return 0, err
				}
			}
			end, err := SkipValue(b, i, depth+1)
			if err != nil {
				return 0, err
			}
			i = end
		}
	case 't':
		return Literal(b, i, "true")
	case 'f':
		return Literal(b, i, "false")
	case 'n':
		return Literal(b, i, "null")
	default:
		if c != '-' && (c < '0' || c > '9') {
			return 0, &SyntaxError{i, "unexpected character " + strconv.QuoteRune(rune(c))}
		}
		return Number(b, i)
	}
}

// Literal returns the index after lit (true, false or null) at b[i].
func Literal(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, &SyntaxError{i, "bad literal"}
	}
	return i + len(lit), nil
}

// Unescape appends the unescaped JSON string content src (without quotes) to dst; ok is
// false at a bad escape. dst may share src's memory when it starts at or before src: the
// output never overtakes the input. Lone surrogates become U+FFFD, as encoding/json has it.
func Unescape(dst, src []byte) ([]byte, bool) {
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
			r, n := UnicodeEscape(src)
			if n == 0 {
				return dst, false
			}
			// The rune was read before it is written: in place, it only overwrites the
			// escape it came from.
			dst = utf8.AppendRune(dst, r)
			src = src[n:]
			continue
		default:
			return dst, false
		}
		src = src[2:]
	}
}

// UnicodeEscape decodes \uXXXX (and a following low surrogate) at src; n is the number of
// bytes used, 0 when src does not start with a valid \uXXXX.
func UnicodeEscape(src []byte) (r rune, n int) {
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

// ValidString returns the index just past the JSON string at b[i] == '"' and whether it
// holds escapes, validating it as encoding/json does: every escape is one of \" \\ \/
// \b \f \n \r \t \uXXXX, and no byte is below 0x20. Invalid UTF-8 is accepted
// (encoding/json turns it into U+FFFD when it decodes the string). Eight bytes are tested
// at a time for a quote, a backslash or a control character.
func ValidString(b []byte, i int) (end int, esc bool, err error) {
	const low7 = 0x7f7f7f7f7f7f7f7f
	// exact sets 0x80 in exactly the bytes of x that are zero.
	exact := func(x uint64) uint64 { return ^(((x & low7) + low7) | x | low7) }
	j := i + 1
	var carry uint64 // 0x80 when b[j] is escaped by a backslash ending the previous word
	for j+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[j:])
		q, s := w^quotes, w^backslash
		// A word with no quote, backslash or control character (this test has no false
		// negatives) is passed over at once.
		if carry == 0 && ((q-lsb)&^q|(s-lsb)&^s|(w-controls)&^w)&msb == 0 {
			j += 8
			continue
		}
		qm, bm, cm := exact(q), exact(s), exact(w&(0xe0*lsb))
		if bm&(bm<<8|carry) != 0 {
			break // an escaped backslash: the general loop below
		}
		escaped := bm<<8 | carry
		before := ^uint64(0) // the bits of the bytes before the closing quote
		real := qm &^ escaped
		if real != 0 {
			before = real&-real - 1
		}
		if c := cm & before; c != 0 {
			return 0, false, &SyntaxError{j + bits.TrailingZeros64(c)/8, "control character in string"}
		}
		for e := escaped & before; e != 0; e &= e - 1 {
			esc = true
			if !simpleEscape[b[j+bits.TrailingZeros64(e)/8]] {
				goto general // \uXXXX or a bad escape
			}
		}
		if real != 0 {
			return j + bits.TrailingZeros64(real)/8 + 1, esc, nil
		}
		carry = bm >> 56 & 0x80
		j += 8
	}
general:
	if carry != 0 {
		j-- // back to the backslash
	}
	for {
		// Eight bytes at a time to the next quote, backslash or control character; an
		// escape is checked where it is found and the scan goes on after it.
		for j+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[j:])
			q, s := w^quotes, w^backslash
			if m := ((q-lsb)&^q | (s-lsb)&^s | (w-controls)&^w) & msb; m != 0 {
				j += bits.TrailingZeros64(m) / 8
				goto special
			}
			j += 8
		}
		for j < len(b) && b[j] != '"' && b[j] != '\\' && b[j] >= 0x20 {
			j++
		}
		if j >= len(b) {
			return 0, false, &SyntaxError{i, "unterminated string"}
		}
	special:
		switch b[j] {
		case '"':
			return j + 1, esc, nil
		case '\\':
			esc = true
			if j+1 >= len(b) {
				return 0, false, &SyntaxError{i, "unterminated string"}
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if _, ok := hex4(b[j:]); !ok {
					return 0, false, &SyntaxError{j, "bad string escape"}
				}
				j += 6
			default:
				return 0, false, &SyntaxError{j, "bad string escape"}
			}
		default:
			return 0, false, &SyntaxError{j, "control character in string"}
		}
	}
}

// simpleEscape holds the bytes that may follow a backslash, but for 'u' (four hex digits
// follow) and '\\' (an escaped backslash, which the word loop leaves to the general one).
var simpleEscape = [256]bool{'"': true, '/': true, 'b': true, 'f': true, 'n': true, 'r': true, 't': true}

// CheckText checks every escape in b as ValidString would (one of \" \\ \/ \b \f \n \r
// \t \uXXXX, a backslash pairing with the byte after it) and reports whether b holds any
// byte below 0x20; bad is the offset of the first bad escape, or -1. When a tokenizer
// rejects a backslash outside a string (JSON has none there), every backslash it accepts
// is inside a string and pairs the same way: a record that has no control byte and no
// bad escape needs only ScanString per string, which finds ends far faster than
// ValidString validates them.
//
// One pass, sixteen bytes at a time: two words are tested for a control byte and for a
// backslash with three operations each (has-zero tests), and only a word that holds a
// backslash finds its backslashes and looks up the byte after each one.
func CheckText(b []byte) (hasControl bool, bad int) {
	var acc uint64
	next := 0 // a backslash before next is the second byte of an escape already checked
	j := 0
	for ; j+16 <= len(b); j += 16 {
		w0 := binary.LittleEndian.Uint64(b[j:])
		w1 := binary.LittleEndian.Uint64(b[j+8:])
		acc |= (w0-controls)&^w0 | (w1-controls)&^w1
		s0, s1 := w0^backslash, w1^backslash
		z0, z1 := (s0-lsb)&^s0&msb, (s1-lsb)&^s1&msb
		if z0|z1 == 0 {
			continue
		}
		if z0 != 0 {
			if next, bad = checkEscapes(b, j, s0, next); bad >= 0 {
				return false, bad
			}
		}
		if z1 != 0 {
			if next, bad = checkEscapes(b, j+8, s1, next); bad >= 0 {
				return false, bad
			}
		}
	}
	for ; j < len(b); j++ {
		if b[j] < 0x20 {
			acc |= msb
		}
		if b[j] == '\\' && j >= next {
			if next = escapeEnd(b, j); next < 0 {
				return false, j
			}
		}
	}
	return acc&msb != 0, -1
}

// checkEscapes checks the escapes that begin in the word at b[j:j+8] (s is the word XOR
// backslashes) at or after next. It returns the new next, and the offset of the first bad
// escape or -1.
func checkEscapes(b []byte, j int, s uint64, next int) (int, int) {
	const low7 = 0x7f7f7f7f7f7f7f7f
	// 0x80 in exactly the bytes that are backslashes.
	for bm := ^(((s & low7) + low7) | s | low7); bm != 0; bm &= bm - 1 {
		k := j + bits.TrailingZeros64(bm)/8
		if k < next {
			continue
		}
		if k+1 < len(b) && shortEscape[b[k+1]] {
			next = k + 2
			continue
		}
		if next = escapeEnd(b, k); next < 0 {
			return 0, k
		}
	}
	return next, -1
}

// shortEscape holds the bytes that make a two-byte escape after a backslash.
var shortEscape = [256]bool{'"': true, '\\': true, '/': true, 'b': true, 'f': true, 'n': true, 'r': true, 't': true}

// escapeEnd returns the index after the escape at b[k] == '\\', or -1 when it is bad.
func escapeEnd(b []byte, k int) int {
	if k+1 >= len(b) {
		return -1
	}
	switch c := b[k+1]; {
	case simpleEscape[c] || c == '\\':
		return k + 2
	case c == 'u':
		if _, ok := hex4(b[k:]); ok {
			return k + 6
		}
	}
	return -1
}

// Digits returns the index after the run of decimal digits at b[i], eight at a time.
func Digits(b []byte, i int) int {
	j := i
	// Eight digits at a time: every byte is 0x3X, and X+6 stays below 0x10.
	for j+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[j:])
		if w&(0xf0*lsb) != 0x30*lsb || (w+6*lsb)&(0xf0*lsb) != 0x30*lsb {
			break
		}
		j += 8
	}
	for j < len(b) && b[j]-'0' < 10 {
		j++
	}
	return j
}

// SimpleInt returns the index after the JSON integer at b[i] when it is a plain one, with
// no sign, fraction or exponent, no leading zero and at most 18 digits (so it fits an
// int64), and ok. Otherwise ok is false: use Number, then strconv.
func SimpleInt(b []byte, i int) (end int, ok bool) {
	end = Digits(b, i)
	n := end - i
	if n == 0 || n > 18 || n > 1 && b[i] == '0' {
		return 0, false
	}
	if end < len(b) {
		if c := b[end]; c == '.' || c == 'e' || c == 'E' {
			return 0, false
		}
	}
	return end, true
}

// controls subtracted from a word sets the top bit of every byte below 0x20 (and of bytes
// from 0xa0, which &^w clears again); the lowest byte flagged is exact.
const controls = 0x20 * lsb

// Number returns the index after the JSON number at b[i], checking its form as
// encoding/json does: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
func Number(b []byte, i int) (int, error) {
	j := i
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && '1' <= b[j] && b[j] <= '9':
		j = Digits(b, j+1)
	default:
		return 0, &SyntaxError{i, "expected a number"}
	}
	if j < len(b) && b[j] == '.' {
		k := Digits(b, j+1)
		if k == j+1 {
			return 0, &SyntaxError{i, "bad number"}
		}
		j = k
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		k := Digits(b, j)
		if k == j {
			return 0, &SyntaxError{i, "bad number"}
		}
		j = k
	}
	return j, nil
}

// Key reads the member name at b[i] and the colon after it (whitespace allowed around
// it): the name's raw content is b[start:end], escaped when esc, and v is the index of the
// value. Member names are short: a plain loop finds the end of one faster than a search.
func Key(b []byte, i int) (start, end int, esc bool, v int, err error) {
	if i >= len(b) || b[i] != '"' {
		return 0, 0, false, 0, &SyntaxError{i, "expected a key"}
	}
	j := i + 1
	for j < len(b) && b[j] != '"' && b[j] != '\\' && b[j] >= 0x20 {
		j++
	}
	start, end = i+1, j
	if j < len(b) && b[j] == '"' {
		j++
	} else {
		if j, esc, err = ValidString(b, i); err != nil {
			return 0, 0, false, 0, err
		}
		end = j - 1
	}
	if j < len(b) && b[j] == ':' {
		j++
	} else {
		j = SkipWS(b, j)
		if j >= len(b) || b[j] != ':' {
			return 0, 0, false, 0, &SyntaxError{j, "expected :"}
		}
		j++
	}
	if j < len(b) && b[j] > ' ' {
		return start, end, esc, j, nil
	}
	if j = SkipWS(b, j); j >= len(b) {
		return 0, 0, false, 0, &SyntaxError{j, "unexpected end of input"}
	}
	return start, end, esc, j, nil
}

// WalkObject validates the object at b[i] == '{' and calls fn with each member's name
// (unescaped) and the index of its value; fn returns the index after the value (SkipValue
// for members it ignores). depth is the nesting already entered. It returns the index
// after the object.
func WalkObject(b []byte, i, depth int, fn func(key []byte, v int) (int, error)) (int, error) {
	if depth > MaxDepth {
		return 0, &SyntaxError{i, msgTooDeep}
	}
	i++
	for first := true; ; first = false {
		var done bool
		var err error
		if i, done, err = Member(b, i, first, '}', "input"); err != nil || done {
			return i, err
		}
		start, end, esc, v, err := Key(b, i)
		if err != nil {
			return 0, err
		}
		key := b[start:end]
		if esc {
			// Validated by Key: Unescape cannot fail.
			key, _ = Unescape(nil, key)
		}
		if i, err = fn(key, v); err != nil {
			return 0, err
		}
	}
}

// WalkArray validates the array at b[i] == '[' and calls fn with the index of each value;
// fn returns the index after the value. It returns the index after the array.
func WalkArray(b []byte, i, depth int, fn func(v int) (int, error)) (int, error) {
	if depth > MaxDepth {
		return 0, &SyntaxError{i, msgTooDeep}
	}
	i++
	for first := true; ; first = false {
		var done bool
		var err error
		if i, done, err = Member(b, i, first, ']', "input"); err != nil || done {
			return i, err
		}
		if i >= len(b) {
			return 0, &SyntaxError{i, "unexpected end of input"}
		}
		if i, err = fn(i); err != nil {
			return 0, err
		}
	}
}

// ReadValidString returns the content of the JSON string at b[i] == '"', validated: a
// slice of b when it has no escapes, else a new unescaped copy.
func ReadValidString(b []byte, i int) ([]byte, int, error) {
	end, esc, err := ValidString(b, i)
	if err != nil {
		return nil, 0, err
	}
	s := b[i+1 : end-1]
	if esc {
		s, _ = Unescape(make([]byte, 0, len(s)), s)
	}
	return s, end, nil
}

// AppendValid appends b to dst with each byte that is not UTF-8 as U+FFFD, as encoding/json
// decodes a string holding it.
func AppendValid(dst, b []byte) []byte {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, b[:n]...)
		}
		b = b[n:]
	}
	return dst
}

// ValidText is s, or s with each byte that is not UTF-8 as U+FFFD (AppendValid).
func ValidText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return string(AppendValid(nil, []byte(s)))
}
