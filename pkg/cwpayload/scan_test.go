package cwpayload

import (
	"strings"
	"testing"
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

func TestScanString(t *testing.T) {
	cases := []string{
		`"plain"`, `""`, `"a\"b"`, `"\\"`, `"\\\\"x`, `"\\\"\\"`, `"unterminated`, `"ends in backslash\`,
		`"` + strings.Repeat(`a\"`, 20) + `"`, `"` + strings.Repeat(`\\`, 9) + `"`, `"1234567\\"x"`,
		`"123456\\\"x"`, `"12345678\"\\\"\\\\"tail"`, `"{\"level\":\"info\",\"msg\":\"a \\\"b\\\" c\"}"`,
		`"abcdefg\` + `"` + `abcdefgh"`, `"\u00e9\n\t"`,
	}
	for _, c := range cases {
		b := []byte(c)
		end, esc, ok := scanString(b, 0)
		wend, wesc, wok := scanReference(b, 0)
		if ok != wok || ok && (end != wend || esc != wesc) {
			t.Errorf("scanString(%s) = %d %v %v, want %d %v %v", c, end, esc, ok, wend, wesc, wok)
		}
	}
}

func FuzzScanString(f *testing.F) {
	for _, s := range []string{`"a\"b"`, `"\\\\"`, `"12345678\"\\\"\\\\"tail"`, `"x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != '"' {
			b = append([]byte{'"'}, b...)
		}
		end, esc, ok := scanString(b, 0)
		wend, wesc, wok := scanReference(b, 0)
		if ok != wok || ok && (end != wend || esc != wesc) {
			t.Fatalf("scanString(%q) = %d %v %v, want %d %v %v", b, end, esc, ok, wend, wesc, wok)
		}
	})
}
