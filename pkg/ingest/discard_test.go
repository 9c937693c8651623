package ingest

import (
	"math/rand/v2"
	"testing"
	"unsafe"
)

// spans notes what a consumed tracker discards, as offsets in body.
type spans struct {
	body []byte
	got  [][2]int
}

func (s *spans) discard(b []byte) {
	off := int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) - uintptr(unsafe.Pointer(unsafe.SliceData(s.body))))
	s.got = append(s.got, [2]int{off, off + len(b)})
}

// The records' region is given back from its end as the records from some index to the
// last are all done, whatever order the workers finish in: never a byte of a record not
// done, each byte once, and in the end exactly the first record's start to the last's end.
func TestConsumedGivesBackOnlyWhatIsDone(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 200 {
		body := make([]byte, 64+r.IntN(4096))
		// Records at increasing offsets, with gaps (the JSON between them); some copied
		// out of the body (escapes), as ParseBody does.
		var records [][]byte
		var where [][2]int
		for at := 1 + r.IntN(8); at < len(body)-2; {
			n := 1 + r.IntN(200)
			if at+n > len(body) {
				break
			}
			if r.IntN(5) == 0 {
				records = append(records, make([]byte, n))
				where = append(where, [2]int{-1, -1})
			} else {
				records = append(records, body[at:at+n:at+n])
				where = append(where, [2]int{at, at + n})
			}
			at += n + r.IntN(12)
		}
		s := &spans{body: body}
		c := newConsumed(body, records, s.discard)
		first, last := -1, -1
		for _, w := range where {
			if w[0] >= 0 {
				if first < 0 {
					first = w[0]
				}
				last = w[1]
			}
		}
		if first < 0 {
			if c != nil {
				t.Fatalf("round %d: a tracker for records none of which alias the body", round)
			}
			continue
		}
		done := make([]bool, len(records))
		for _, i := range r.Perm(len(records)) {
			before := len(s.got)
			c.record(i)
			done[i] = true
			for _, g := range s.got[before:] {
				for k, w := range where {
					if w[0] >= 0 && !done[k] && w[0] < g[1] && g[0] < w[1] {
						t.Fatalf("round %d: [%d,%d) discarded while record %d at [%d,%d) is not done", round, g[0], g[1], k, w[0], w[1])
					}
				}
			}
		}
		// Contiguous, from the end down, nothing twice.
		at := last
		for _, g := range s.got {
			if g[1] != at || g[0] >= g[1] {
				t.Fatalf("round %d: spans %v, want contiguous pieces from %d down", round, s.got, last)
			}
			at = g[0]
		}
		if at != first {
			t.Fatalf("round %d: discarded [%d,%d), want [%d,%d)", round, at, last, first, last)
		}
	}
}

func TestConsumedGivesNothingForRecordsOutOfOrder(t *testing.T) {
	body := make([]byte, 100)
	if c := newConsumed(body, [][]byte{body[50:60], body[10:20]}, func([]byte) { t.Fatal("discarded") }); c != nil {
		t.Fatal("a tracker for records out of body order")
	}
	if c := newConsumed(body, [][]byte{body[10:30], body[20:40]}, func([]byte) { t.Fatal("discarded") }); c != nil {
		t.Fatal("a tracker for overlapping records")
	}
	if c := newConsumed(body[:50], [][]byte{body[60:70]}, func([]byte) { t.Fatal("discarded") }); c != nil {
		t.Fatal("a tracker for a record past the body")
	}
}
