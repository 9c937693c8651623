package cwpayload

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/klauspost/compress/gzip"
)

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestPresizeBelievesTheTrailerOnlyWithinTheCapAndWhatDeflateCanDo(t *testing.T) {
	payload := bytes.Repeat([]byte(`{"message":"hello"} `), 5000) // 100 kB
	raw := gzipped(t, payload)
	var w worker
	w.presize(raw, 1<<20)
	if cap(w.out) != len(payload) {
		t.Fatalf("presized to %d, want the trailer's %d", cap(w.out), len(payload))
	}
	// A smaller record next reuses the buffer.
	w.presize(gzipped(t, payload[:1000]), 1<<20)
	if cap(w.out) != len(payload) {
		t.Fatalf("a smaller record reallocated to %d", cap(w.out))
	}
	// A trailer that lies: 4 GiB claimed for a few hundred bytes.
	lying := bytes.Clone(raw)
	binary.LittleEndian.PutUint32(lying[len(lying)-4:], 0xFFFFFFFF)
	var w2 worker
	w2.presize(lying, 64<<20)
	if c := cap(w2.out); c > len(lying)*maxDeflateRatio || c > 64<<20 {
		t.Fatalf("a lying trailer got %d bytes, want at most %d (what deflate can make of %d bytes)", c, len(lying)*maxDeflateRatio, len(lying))
	}
	var w3 worker
	w3.presize(lying, 4096)
	if cap(w3.out) > 4096 {
		t.Fatalf("presized past the cap: %d", cap(w3.out))
	}
	// Too short to be gzip: nothing.
	var w4 worker
	w4.presize([]byte{0x1f, 0x8b, 1, 2}, 1<<20)
	if cap(w4.out) != 0 {
		t.Fatal("presized from a stub")
	}
}
