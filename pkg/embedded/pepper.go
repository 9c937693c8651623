package embedded

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// PepperFile is the pepper's file name inside the data dir.
const PepperFile = "pepper"

// pepperSize is the pepper's length in bytes.
const pepperSize = 32

// Pepper returns the HMAC pepper for access-key digests, creating 32 random bytes on first
// use in dir/pepper (mode 0600, created atomically so two processes starting at once agree).
// The pepper is written whole to a private temporary file and then hard-linked into place:
// the link fails if another process got there first, and nobody ever reads a partial file.
func (s *Store) Pepper(ctx context.Context) ([]byte, error) {
	s.pepperMu.Lock()
	defer s.pepperMu.Unlock()
	if s.pepper != nil {
		return append([]byte(nil), s.pepper...), nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("embedded: pepper: %w", err)
	}
	path := filepath.Join(s.dir, PepperFile)
	p, err := readPepper(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := createPepper(s.dir, path); err != nil {
			return nil, err
		}
		p, err = readPepper(path)
	}
	if err != nil {
		return nil, err
	}
	s.pepper = p
	return append([]byte(nil), p...), nil
}

// readPepper reads the pepper file; its content never appears in an error.
func readPepper(path string) ([]byte, error) {
	p, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("embedded: read pepper: %w", err)
	}
	if len(p) != pepperSize {
		return nil, fmt.Errorf("embedded: pepper file %s holds %d bytes, want %d", path, len(p), pepperSize)
	}
	return p, nil
}

// createPepper puts a new random pepper at path unless one is already there.
func createPepper(dir, path string) (err error) {
	p := make([]byte, pepperSize)
	if _, err := rand.Read(p); err != nil {
		return fmt.Errorf("embedded: create pepper: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".pepper-*")
	if err != nil {
		return fmt.Errorf("embedded: create pepper: %w", err)
	}
	defer func() {
		if rmErr := os.Remove(tmp.Name()); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) && err == nil {
			err = fmt.Errorf("embedded: create pepper: remove temporary file: %w", rmErr)
		}
	}()
	// CreateTemp makes the file 0600.
	if _, err := tmp.Write(p); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("embedded: create pepper: write: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("embedded: create pepper: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("embedded: create pepper: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("embedded: create pepper: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the new name durable; best effort, the content is already synced
		_ = d.Close()
	}
	return nil
}
