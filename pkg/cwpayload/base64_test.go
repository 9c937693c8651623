package cwpayload

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// checkB64 compares b64Tables.decode with encoding/base64 on src.
func checkB64(t *testing.T, tab *b64Tables, src []byte) {
	t.Helper()
	size := base64.StdEncoding.DecodedLen(len(src))
	want := make([]byte, size)
	wn, werr := base64.StdEncoding.Decode(want, src)
	got := make([]byte, size)
	gn, gerr := tab.decode(got, src)
	if gn != wn || (gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error() || !bytes.Equal(got[:gn], want[:wn]) {
		t.Fatalf("decode(%q) = %d %v %x, encoding/base64 %d %v %x", src, gn, gerr, got[:gn], wn, werr, want[:wn])
	}
}

func TestBase64DecodeMatchesStdlib(t *testing.T) {
	tab := newB64Tables()
	long := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("the quick brown fox \x00\xff\x10", 40)))
	cases := []struct{ name, in string }{
		{"empty", ""},
		{"one quantum", "QUJD"},
		{"padding", "QUI="},
		{"double padding", "QQ=="},
		{"long", long},
		{"long with padding", base64.StdEncoding.EncodeToString([]byte(strings.Repeat("ab", 101)))},
		{"newlines are skipped", long[:40] + "\r\n" + long[40:]},
		{"invalid character late", long[:100] + "*" + long[101:]},
		{"invalid character early", "QUJD*" + long},
		{"padding in the middle", long[:64] + "QQ==" + long[64:]},
		{"truncated", long[:len(long)-1]},
		{"url alphabet", strings.ReplaceAll(long, "+", "-")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkB64(t, tab, []byte(c.in)) })
	}
}

func FuzzBase64Decode(f *testing.F) {
	f.Add([]byte("QUJDREVGR0hJSktMTU5PUA=="))
	f.Add([]byte("QUJDREVG\nR0hJSktMTU5PUA=="))
	f.Add([]byte("QUJDREVGR0hJ*ktMTU5PUA=="))
	f.Add([]byte("QQ==QUJDREVGR0hJSktM"))
	tab := newB64Tables()
	f.Fuzz(func(t *testing.T, src []byte) { checkB64(t, tab, src) })
}

// BenchmarkBase64 compares the record decoder's base64 with encoding/base64 on the records
// of the 1 MiB request.
func BenchmarkBase64(b *testing.B) {
	g := generateRequest(1, 1<<20)
	var size int64
	for _, rec := range g.records {
		size += int64(len(rec))
	}
	dst := make([]byte, 1<<20)
	tab := newB64Tables()
	for _, impl := range []struct {
		name   string
		decode func(dst, src []byte) (int, error)
	}{{"stdlib", base64.StdEncoding.Decode}, {"tables", tab.decode}} {
		b.Run(impl.name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				for _, rec := range g.records {
					if _, err := impl.decode(dst, rec); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
