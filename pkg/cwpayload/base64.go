package cwpayload

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
)

// b64Tables decodes standard base64 four characters at a time: table k maps the k-th
// character of a quantum to its bits, already placed in the quantum's three output bytes
// (little-endian), so a quantum is four loads and three ORs. A character outside the
// alphabet (padding, newlines, anything else) maps to b64Invalid.
type b64Tables [4][256]uint32

const (
	b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b64Invalid  = 1 << 24
)

func newB64Tables() *b64Tables {
	t := new(b64Tables)
	for k := range t {
		for c := range t[k] {
			t[k][c] = b64Invalid
		}
	}
	for i, c := range []byte(b64Alphabet) {
		v := uint32(i)
		t[0][c] = v << 2
		t[1][c] = v>>4 | (v&0xf)<<12
		t[2][c] = (v>>2)<<8 | (v&3)<<22
		t[3][c] = v << 16
	}
	return t
}

// decode is base64.StdEncoding.Decode, with the same results and errors. Whole quanta of
// plain alphabet characters are decoded here, four at a time; the last quantum (which may
// hold padding) and everything from the first other character on are left to
// encoding/base64.
func (t *b64Tables) decode(dst, src []byte) (int, error) {
	n, i := 0, 0
	t0, t1, t2, t3 := &t[0], &t[1], &t[2], &t[3]
	for ; i+16 < len(src) && n+14 <= len(dst); i, n = i+16, n+12 {
		s := src[i : i+16 : i+16]
		a := t0[s[0]] | t1[s[1]] | t2[s[2]] | t3[s[3]]
		b := t0[s[4]] | t1[s[5]] | t2[s[6]] | t3[s[7]]
		c := t0[s[8]] | t1[s[9]] | t2[s[10]] | t3[s[11]]
		e := t0[s[12]] | t1[s[13]] | t2[s[14]] | t3[s[15]]
		if (a|b|c|e)&b64Invalid != 0 {
			break
		}
		d := dst[n : n+14 : n+14]
		binary.LittleEndian.PutUint64(d, uint64(a)|uint64(b)<<24)
		binary.LittleEndian.PutUint64(d[6:], uint64(c)|uint64(e)<<24)
	}
	m, err := base64.StdEncoding.Decode(dst[n:], src[i:])
	var corrupt base64.CorruptInputError
	if errors.As(err, &corrupt) {
		err = corrupt + base64.CorruptInputError(i)
	}
	return n + m, err
}
