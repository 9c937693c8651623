package jsonscan

import (
	"testing"
	"unicode/utf8"
)

// FuzzAppendValid holds AppendValid and ValidText to the language's own conversion, which
// replaces each byte that is not UTF-8 by U+FFFD (as encoding/json decodes a string).
func FuzzAppendValid(f *testing.F) {
	for _, s := range []string{"", "plain", "caf\xc3\xa9", "\xff", "a\xffb\xfe\xfd", "\xe2\x82", "\xed\xa0\x80", "\U0001F600\xf0\x9f"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := string([]rune(string(b)))
		if got := string(AppendValid([]byte("pre"), b)); got != "pre"+want {
			t.Fatalf("AppendValid(%q) = %q, want %q", b, got[3:], want)
		}
		if got := ValidText(string(b)); got != want || !utf8.ValidString(got) {
			t.Fatalf("ValidText(%q) = %q, want %q", b, got, want)
		}
	})
}
