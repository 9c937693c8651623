// Package alias tells whether one byte slice lies inside another's bytes: the ingest gives
// back parts of the Lambda event it has decoded, and what it gives must be inside the
// memory it may drop.
package alias

import "unsafe"

// Offset is part's offset in b when part is a non-empty run of b's bytes (whatever either's
// capacity: a three-index slice of b still counts), else -1. The addresses are only
// compared, never made into pointers.
func Offset(b, part []byte) int {
	if len(part) == 0 || len(b) == 0 {
		return -1
	}
	off := int(uintptr(unsafe.Pointer(unsafe.SliceData(part))) - uintptr(unsafe.Pointer(unsafe.SliceData(b))))
	if off < 0 || off > len(b)-len(part) {
		return -1
	}
	return off
}
