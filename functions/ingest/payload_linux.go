//go:build linux

package main

import (
	"errors"
	"io"
	"syscall"

	"github.com/aient/firehose-drain/internal/alias"
)

// reservedPayload is the address space kept for events: well above the 6 MB Lambda
// allows an invocation's payload, so a real event always fits. Pages are only backed once
// an event touches them.
const reservedPayload = 16 << 20

// payloadBuffer holds the event being served, outside the Go heap: one anonymous private
// mapping, reused for every invocation. An event that would not fit is read into the heap.
type payloadBuffer struct {
	mem  []byte // nil when the mapping failed: the heap is used
	used int    // how much of mem the largest event touched
}

func newPayloadBuffer() *payloadBuffer {
	mem, err := syscall.Mmap(-1, 0, reservedPayload, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		mem = nil
	}
	return &payloadBuffer{mem: mem}
}

// read reads r to its end and returns the event, valid until done.
func (b *payloadBuffer) read(r io.Reader) ([]byte, error) {
	if b.mem == nil {
		return io.ReadAll(r)
	}
	n := 0
	for n < len(b.mem) {
		m, err := r.Read(b.mem[n:])
		n += m
		if errors.Is(err, io.EOF) {
			b.used = max(b.used, n)
			return b.mem[:n:n], nil
		}
		if err != nil {
			return nil, err
		}
	}
	// Larger than the reservation: the rest goes to the heap.
	rest, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return append(append(make([]byte, 0, n+len(rest)), b.mem[:n]...), rest...), nil
}

// discard gives the pages wholly inside part (a part of the event being served) back to
// the system: they read as zeros after, and are backed again only when the next event
// is read into them. A part outside the mapping (an event read into the heap) is left
// alone.
func (b *payloadBuffer) discard(part []byte) {
	off := alias.Offset(b.mem, part)
	if off < 0 {
		return
	}
	const page = 4096 // the smallest page; with larger ones madvise rounds within the range
	start, end := (off+page-1)/page*page, (off+len(part))/page*page
	if end > start {
		_ = syscall.Madvise(b.mem[start:end], syscall.MADV_DONTNEED) // only a hint: on failure the pages stay
	}
}

// done ends the invocation's use of the buffer.
func (b *payloadBuffer) done() {}
