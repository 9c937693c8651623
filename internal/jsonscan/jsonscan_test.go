package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aient/firehose-drain/internal/testkit/jsonref"
)

// scanReference is the obvious byte-by-byte string scan.
func scanReference(b []byte, i int) (int, bool, bool) {
	esc := false
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '"':
			return j + 1, esc, true
		case '\\':
			esc = true
			j++
		}
	}
	return 0, false, false
}

func TestScanStringFindsTheClosingQuote(t *testing.T) {
	cases := []string{
		`"plain"`, `""`, `"a\"b"`, `"\\"`, `"\\\\"x`, `"\\\"\\"`, `"unterminated`, `"ends in backslash\`,
		`"` + strings.Repeat(`a\"`, 20) + `"`, `"` + strings.Repeat(`\\`, 9) + `"`, `"1234567\\"x"`,
		`"123456\\\"x"`, `"12345678\"\\\"\\\\"tail"`, `"{\"level\":\"info\",\"msg\":\"a \\\"b\\\" c\"}"`,
		`"abcdefg\` + `"` + `abcdefgh"`, `"\u00e9\n\t"`,
	}
	for _, c := range cases {
		b := []byte(c)
		wend, wesc, wok := scanReference(b, 0)
		end, esc, ok := ScanString(b, 0)
		if ok != wok || ok && (end != wend || esc != wesc) {
			t.Errorf("ScanString(%s) = %d %v %v, want %d %v %v", c, end, esc, ok, wend, wesc, wok)
		}
	}
}

func TestFindSpecial(t *testing.T) {
	cases := []struct {
		in   string
		from int
		want int
	}{
		{`abc`, 0, 3},
		{`abcdefghijk"`, 0, 11},
		{`abcdefgh\ijk"`, 0, 8},
		{`"abcdefghijk"`, 1, 12},
		{`ab"`, 3, 3},
	}
	for _, c := range cases {
		if got := FindSpecial([]byte(c.in), c.from); got != c.want {
			t.Errorf("FindSpecial(%q, %d) = %d, want %d", c.in, c.from, got, c.want)
		}
	}
}

func TestUnescapeAndReadStringAgreeWithEncodingJSON(t *testing.T) {
	cases := []struct {
		name, in string
	}{
		{"plain", `"hello"`},
		{"empty", `""`},
		{"simple escapes", `"a\"b\\c\/d\ne\tf\rg\bh\fi"`},
		{"unicode escape", `"caf\u00e9 \u4e16"`},
		{"surrogate pair", `"\ud83d\ude00!"`},
		{"lone high surrogate", `"\ud83dx"`},
		{"high surrogate then a non-low escape", `"\ud83d\u0041"`},
		{"lone low surrogate", `"\ude00"`},
		{"long line with escaped quotes", `"` + strings.Repeat(`{\"level\":\"error\"} `, 30) + `"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var want string
			if err := json.Unmarshal([]byte(c.in), &want); err != nil {
				t.Fatal(err)
			}
			b := []byte(c.in)
			got, ok := Unescape(nil, b[1:len(b)-1])
			if !ok || string(got) != want {
				t.Errorf("Unescape = %q %v, want %q", got, ok, want)
			}
			rs, end, err := ReadString(b, 0, nil)
			if err != nil || string(rs) != want || end != len(b) {
				t.Errorf("ReadString = %q %d %v, want %q %d", rs, end, err, want, len(b))
			}
		})
	}
}

func TestBadStringsAreRejected(t *testing.T) {
	for _, in := range []string{`"a\x"`, `"\u12"`, `"\u12g4"`, `"ends in \`} {
		b := []byte(in)
		if _, ok := Unescape(nil, b[1:len(b)-1]); ok && in != `"ends in \` {
			t.Errorf("Unescape(%s) accepted a bad escape", in)
		}
		if _, _, err := ReadString(b, 0, nil); err == nil {
			t.Errorf("ReadString(%s) accepted it", in)
		}
	}
}

func TestUnescapeInPlace(t *testing.T) {
	b := []byte(`a\"b\u00e9\ud83d\ude00c\\`)
	got, ok := Unescape(b[:0], b)
	if want := "a\"bé😀c\\"; !ok || string(got) != want {
		t.Errorf("in place: %q %v, want %q", got, ok, want)
	}
}

func TestSkipValue(t *testing.T) {
	cases := []struct {
		name, in string
		end      int // -1: an error
	}{
		{"string", `"a\"b" ,`, 6},
		{"number", `-12.5e3,`, 7},
		{"literals", `true`, 4},
		{"null", `null]`, 4},
		{"nested", `{"a":[1,{"b":null}],"c":"}"} x`, 28},
		{"empty containers", `[{},[]]`, 7},
		{"bad literal", `nul`, -1},
		{"unterminated object", `{"a":1`, -1},
		{"missing colon", `{"a" 1}`, -1},
		{"missing comma", `[1 2]`, -1},
		{"unexpected character", `@`, -1},
		{"too deep", strings.Repeat("[", MaxDepth+2) + strings.Repeat("]", MaxDepth+2), -1},
		{"as deep as allowed", strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), 2 * (MaxDepth + 1)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			end, err := SkipValue([]byte(c.in), 0, 0)
			switch {
			case c.end < 0 && err == nil:
				t.Errorf("SkipValue(%s) = %d, want an error", c.in, end)
			case c.end >= 0 && (err != nil || end != c.end):
				t.Errorf("SkipValue(%s) = %d %v, want %d", c.in, end, err, c.end)
			}
		})
	}
}

func TestSyntaxErrorSaysWhereAndWhat(t *testing.T) {
	_, err := SkipValue([]byte(`{"a":1 "b"}`), 0, 0)
	if err == nil || err.Error() != "expected , or } at byte 7" {
		t.Errorf("error = %v", err)
	}
}

// FuzzScanString checks ScanString against a byte-by-byte reference.
func FuzzScanString(f *testing.F) {
	for _, s := range []string{`"a\"b"`, `"\\\\"`, `"12345678\"\\\"\\\\"tail"`, `"x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != '"' {
			b = append([]byte{'"'}, b...)
		}
		end, esc, ok := ScanString(b, 0)
		wend, wesc, wok := scanReference(b, 0)
		if ok != wok || ok && (end != wend || esc != wesc) {
			t.Fatalf("ScanString(%q) = %d %v %v, want %d %v %v", b, end, esc, ok, wend, wesc, wok)
		}
	})
}

// FuzzUnescape checks Unescape and ReadString against encoding/json on valid UTF-8 and
// that neither panics on anything.
func FuzzUnescape(f *testing.F) {
	for _, s := range []string{`"a\"b"`, `"\u00e9\ud83d\ude00"`, `"\ud83d\u0041"`, `"\x"`, `"tail\`, `"` + strings.Repeat(`\"ab`, 5) + `"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != '"' {
			b = append([]byte{'"'}, b...)
		}
		rs, end, err := ReadString(b, 0, nil)
		if err == nil && (end < 2 || end > len(b) || b[end-1] != '"') {
			t.Fatalf("ReadString(%q) ended at %d", b, end)
		}
		sEnd, _, ok := ScanString(b, 0)
		if !ok {
			if err == nil {
				t.Fatalf("ReadString(%q) read a string ScanString finds unterminated", b)
			}
			return
		}
		un, uok := Unescape(nil, b[1:sEnd-1])
		if err == nil && (!uok || !bytes.Equal(un, rs) || end != sEnd) {
			t.Fatalf("ReadString(%q) = %q %d, Unescape = %q %v (end %d)", b, rs, end, un, uok, sEnd)
		}
		if !utf8.Valid(b[:sEnd]) {
			return
		}
		var want string
		jerr := json.Unmarshal(b[:sEnd], &want)
		if jerr == nil && (!uok || string(un) != want) {
			t.Fatalf("Unescape(%q) = %q %v, encoding/json %q", b[:sEnd], un, uok, want)
		}
		if jerr != nil && uok && !bytes.ContainsFunc(b[:sEnd], func(r rune) bool { return r < 0x20 }) {
			t.Fatalf("Unescape(%q) accepted what encoding/json rejects: %v", b[:sEnd], jerr)
		}
	})
}

// FuzzSkipValue checks SkipValue against encoding/json: it accepts a value exactly when
// json.Valid does (within MaxDepth), passing over the whole of it; never a panic. And
// Number against json.Valid, SimpleInt against Number and strconv.
func FuzzSkipValue(f *testing.F) {
	for _, s := range []string{
		`{"a":[1,{"b":null}],"c":"}"}`, `[1 2]`, `"x\"y"`, `-1e9`, `{"a" 1}`, `[[[[`, `tru`,
		`"a\tb"`, "\"a\tb\"", `"\u00e9\uD83D"`, `"\x"`, `01`, `-`, `1.`, `1e+`, `{"k\u0041":1}`, `[1,]`, `{"a":1,}`,
	} {
		f.Add([]byte(s))
	}
	f.Add([]byte("1234567890123,"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if end, err := Number(b, 0); (err == nil && SkipWS(b, end) == len(b)) != (json.Valid(b) && len(b) > 0 && (b[0] == '-' || b[0]-'0' < 10)) {
			t.Fatalf("Number(%q) = %d %v; json.Valid %v", b, end, err, json.Valid(b))
		}
		if end, ok := SimpleInt(b, 0); ok {
			_, err := strconv.ParseInt(string(b[:end]), 10, 64)
			if nend, nerr := Number(b, 0); err != nil || nerr != nil || nend != end {
				t.Fatalf("SimpleInt(%q) = %d; strconv %v, Number %d %v", b, end, err, nend, nerr)
			}
		}
		i := SkipWS(b, 0)
		end, err := SkipValue(b, i, 0)
		if err != nil {
			if se := (*SyntaxError)(nil); !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(b) {
				t.Fatalf("SkipValue(%q): %v", b, err)
			}
		} else if end <= i || end > len(b) {
			t.Fatalf("SkipValue(%q) = %d", b, end)
		}
		if jsonref.Depth(b) > MaxDepth {
			return
		}
		got := err == nil && SkipWS(b, end) == len(b)
		if want := json.Valid(b); got != want {
			t.Fatalf("SkipValue(%q) = %d %v, json.Valid = %v", b, end, err, want)
		}
	})
}

// FuzzValidString checks ValidString against encoding/json on any bytes after a quote:
// the same strings accepted, ending at the same quote, and ReadValidString's content the
// same as json.Unmarshal's once invalid UTF-8 is replaced as encoding/json replaces it.
func FuzzValidString(f *testing.F) {
	for _, s := range []string{`"a\"b"`, `"\u00e9\ud83d\ude00"`, "\"tab\there\"", `"\u12"`, `"x`, "\"\xff\xfe\"", `"12345678901234567\n"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != '"' {
			b = append([]byte{'"'}, b...)
		}
		end, _, err := ValidString(b, 0)
		// The reference: the shortest prefix encoding/json accepts as a string.
		wend := -1
		if e, _, ok := scanReference(b, 0); ok && json.Valid(b[:e]) {
			wend = e
		}
		if (err == nil) != (wend >= 0) || err == nil && end != wend {
			t.Fatalf("ValidString(%q) = %d %v; encoding/json accepts up to %d", b, end, err, wend)
		}
		if err != nil {
			return
		}
		s, rend, err := ReadValidString(b, 0)
		var want string
		if jerr := json.Unmarshal(b[:end], &want); err != nil || jerr != nil || rend != end || jsonref.Text(s) != want {
			t.Fatalf("ReadValidString(%q) = %q %d %v; encoding/json %q %v", b, s, rend, err, want, jerr)
		}
	})
}

// checkTextReference is CheckText byte by byte.
func checkTextReference(b []byte) (bool, int) {
	controls := false
	for _, c := range b {
		if c < 0x20 {
			controls = true
		}
	}
	for j := 0; j < len(b); j++ {
		if b[j] != '\\' {
			continue
		}
		if j+1 >= len(b) {
			return false, j
		}
		switch b[j+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			j++
		case 'u':
			if _, ok := hex4(b[j:]); !ok {
				return false, j
			}
			j += 5
		default:
			return false, j
		}
	}
	return controls, -1
}

// FuzzCheckText checks CheckText against a byte-by-byte reference, and that on a string
// without control bytes ScanString then CheckText accepts exactly what ValidString does.
func FuzzCheckText(f *testing.F) {
	for _, s := range []string{`a\"b\\\\c\n`, `\u00e9\ud83d`, `\x`, `12345678\\\"\\`, "tab\there", `\u12`, `"\\\\\\"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, bad := CheckText(b)
		wc, wbad := checkTextReference(b)
		if bad != wbad || bad < 0 && c != wc {
			t.Fatalf("CheckText(%q) = %v %d, reference %v %d", b, c, bad, wc, wbad)
		}
		q := append([]byte{'"'}, b...)
		end, _, ok := ScanString(q, 0)
		if !ok {
			return
		}
		c, bad = CheckText(q[1 : end-1])
		vend, _, verr := ValidString(q, 0)
		if (bad < 0 && !c) != (verr == nil) || verr == nil && vend != end {
			t.Fatalf("%q: ScanString+CheckText %v %d, ValidString %d %v", q, c, bad, vend, verr)
		}
	})
}
