package cwpayload

import "encoding/binary"

// maxDeflateRatio bounds how much deflate can expand: 258 bytes from 2 bits at best, so
// about 1032x. A gzip trailer claiming more than that for its input is not believed.
const maxDeflateRatio = 1032

// presize grows w.out to hold the record raw inflates to, read from the gzip trailer's
// ISIZE (the last member's size mod 2^32: a hint, which the cap bounds; appending still
// grows the buffer when the hint is short, as for several members). It never allocates
// more than limit, nor more than deflate could produce from raw, so a lying trailer
// costs nothing the cap does not already allow.
func (w *worker) presize(raw []byte, limit int64) {
	if len(raw) < 18 { // a gzip header (10) and trailer (8) at least
		return
	}
	n := int64(binary.LittleEndian.Uint32(raw[len(raw)-4:]))
	n = min(n, limit, int64(len(raw))*maxDeflateRatio)
	if n <= int64(cap(w.out)) {
		return
	}
	// Grow at least twofold, as append would, so a worker whose records grow one after
	// another does not allocate for each of them.
	w.out = make([]byte, 0, min(max(n, 2*int64(cap(w.out))), limit))
}
