//go:build !linux

package main

import "io"

// reservedPayload: events are read into the heap, whatever their size.
const reservedPayload = 16 << 20

// payloadBuffer reads each event into the heap (Lambda runs on Linux: payload_linux.go).
type payloadBuffer struct{}

func newPayloadBuffer() *payloadBuffer { return &payloadBuffer{} }

func (b *payloadBuffer) read(r io.Reader) ([]byte, error) { return io.ReadAll(r) }

func (b *payloadBuffer) discard([]byte) {}

func (b *payloadBuffer) done() {}
