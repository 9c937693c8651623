package cwpayload

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"

	"github.com/aient/firehose-drain/internal/jsonscan"
)

// This file holds the decoding entry points of the sources other than the Firehose HTTP
// endpoint: DecodeData for record data that is no longer base64 (Kinesis records), and
// DecodeStream for a stream of concatenated CloudWatch Logs documents of any length (S3
// objects, Firehose backup objects), read through a bounded buffer. Both end in the same
// parser as DecodeRecords, so every source decodes, classifies and stamps the same way.

// DecodeData decodes record data that is already raw bytes (gzip or plain JSON, one or
// more documents), as Kinesis delivers it, with up to workers goroutines. Results are in
// input order; the request caps of d's Limits apply to all of datas together.
func (d *Decoder) DecodeData(ctx context.Context, datas [][]byte, st *Stamp, workers int) []RecordResult {
	if st == nil {
		st = &Stamp{}
	}
	results := make([]RecordResult, len(datas))
	budget := &atomic.Int64{}
	budget.Store(d.limits.MaxRequestInflated)
	d.each(len(datas), workers, func(w *worker, i int) {
		d.decodeDataOne(ctx, w, i, datas[i], st, budget, &results[i])
	})
	d.link(results)
	return results
}

func (d *Decoder) decodeDataOne(ctx context.Context, w *worker, i int, raw []byte, st *Stamp, budget *atomic.Int64, res *RecordResult) {
	if err := ctx.Err(); err != nil {
		res.Err = &RecordError{Index: i, Reason: "not decoded before the deadline", Err: err}
		return
	}
	defer func() {
		if r := recover(); r != nil {
			res.Err = &RecordError{Index: i, Reason: "internal decoder error", Err: fmt.Errorf("%v", r)}
		}
	}()
	if st.Visit != nil {
		if w.p.visitor = st.Visit(i); w.p.visitor != nil {
			defer func(v Visitor) { w.p.visitor = nil; v.End() }(w.p.visitor)
		}
	}
	if err := d.decodeRaw(w, raw, st, budget, res); err != nil {
		err.Index = i
		res.Err = err
	}
}

// decodeRaw is decodeRecord after base64.
func (d *Decoder) decodeRaw(w *worker, raw []byte, st *Stamp, budget *atomic.Int64, res *RecordResult) *RecordError {
	n := len(raw)
	switch {
	case int64(n) > d.limits.MaxRecordBytes:
		return &RecordError{Reason: fmt.Sprintf("record over %s bytes", thousands(d.limits.MaxRecordBytes))}
	case n == 0:
		return &RecordError{Reason: "empty record"}
	}
	data := raw
	if n >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		out, rerr := d.inflate(w, raw, budget)
		if rerr != nil {
			return rerr
		}
		data = out
	} else {
		if budget.Add(-int64(n)) < 0 {
			return &RecordError{Reason: fmt.Sprintf("request inflated size over the %s-byte cap", thousands(d.limits.MaxRequestInflated))}
		}
		if first := firstNonSpace(raw); first != '{' {
			return &RecordError{Reason: "not gzip and not JSON"}
		}
	}
	return w.p.parseRecord(data, st, res)
}

// DocError says which document of a stream could not be decoded, and why.
type DocError struct {
	// Offset is the document's first byte in the stream: in the object as stored when it
	// is plain, in its inflated bytes when it is gzip (Inflated is then set).
	Offset   int64
	Inflated bool
	// Reason is short and user-facing, as RecordError's.
	Reason string
	Err    error
}

// Error returns "document at byte 1234 (inflated): truncated document: ...".
func (e *DocError) Error() string {
	where := fmt.Sprintf("document at byte %d", e.Offset)
	if e.Inflated {
		where += " (inflated)"
	}
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", where, e.Reason, e.Err)
	}
	return where + ": " + e.Reason
}

// Unwrap returns the underlying error.
func (e *DocError) Unwrap() error { return e.Err }

// DocResult is what one document of a stream held. Result.Err is always nil: a bad
// document is reported in Err with its offset.
type DocResult struct {
	Offset int64
	Result RecordResult
	Err    *DocError
}

// StreamStats is what DecodeStream read.
type StreamStats struct {
	// Bytes is the number of payload bytes read (inflated, when the stream is gzip).
	Bytes int64
	// Documents counts the documents found, good and bad.
	Documents int
	// Rejected counts the documents reported with an error.
	Rejected int
}

// DecodeStream reads r, gzip (one or more members, detected by the magic bytes) or plain,
// as one or more concatenated CloudWatch Logs documents — compact or pretty, separated by
// newlines or by nothing — and calls each with every document's result, in stream order.
// At most one document (capped at Limits.MaxRecordInflated) is held in memory at a time.
//
// A document that is delimited but not a CloudWatch Logs document is reported to each with
// its DocError and the stream goes on. Text between documents that is not a document, a
// document over the cap, a truncated last document or an unreadable gzip stream ends the
// stream: it is reported to each, and DecodeStream returns nil. DecodeStream returns
// each's error, ctx's error, or an error reading r.
func (d *Decoder) DecodeStream(ctx context.Context, r io.Reader, st *Stamp, each func(*DocResult) error) (StreamStats, error) {
	if st == nil {
		st = &Stamp{}
	}
	var stats StreamStats
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(2)
	src := io.Reader(br)
	inflated := len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b
	if inflated {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return stats, each(&DocResult{Err: &DocError{Inflated: true, Reason: gzipReason(err), Err: err}})
		}
		defer func() { _ = gz.Close() }() // read to the end or abandoned: Close reports nothing new
		src = gz
	}
	w := d.worker()
	defer d.release(w)
	// A stream's documents are linked as they come; its breadcrumbs are not budgeted (the
	// caller sends them in groups, each trimmed to the queue's budget).
	lk := newLinker(maxStreamTails)
	sp := docSplitter{r: src, max: int(d.limits.MaxRecordInflated)}
	for {
		if err := ctx.Err(); err != nil {
			return stats, err
		}
		doc, off, err := sp.next()
		stats.Bytes = sp.consumed
		if errors.Is(err, io.EOF) {
			return stats, nil
		}
		res := &DocResult{Offset: off}
		if err != nil {
			de, ok := errors.AsType[*DocError](err)
			if !ok {
				reason := gzipReason(err)
				if !inflated || reason == "unreadable gzip" {
					return stats, fmt.Errorf("read stream at byte %d: %w", sp.consumed, err)
				}
				de = &DocError{Reason: reason, Err: err}
			}
			de.Offset, de.Inflated = off, inflated
			if len(doc) > 0 {
				stats.Documents++
				if perr := d.parseDocument(w, stats.Documents-1, doc, st, &res.Result); perr != nil && de.Err == nil {
					de.Err = perr
				}
			}
			res.Err = de
			stats.Rejected++
			lk.link(&res.Result)
			return stats, each(res)
		}
		stats.Documents++
		if perr := d.parseDocument(w, stats.Documents-1, doc, st, &res.Result); perr != nil {
			res.Err = &DocError{Offset: off, Inflated: inflated, Reason: perr.Reason, Err: perr.Err}
			stats.Rejected++
		}
		lk.link(&res.Result)
		if err := each(res); err != nil {
			return stats, err
		}
	}
}

// maxStreamTails bounds the invocations a stream carries breadcrumbs of at once.
const maxStreamTails = 1024

// parseDocument parses document n of a stream; st.Visit, when set, gives its Visitor.
func (d *Decoder) parseDocument(w *worker, n int, doc []byte, st *Stamp, res *RecordResult) (err *RecordError) {
	defer func() {
		if r := recover(); r != nil {
			err = &RecordError{Reason: "internal decoder error", Err: fmt.Errorf("%v", r)}
		}
	}()
	if st.Visit != nil {
		if w.p.visitor = st.Visit(n); w.p.visitor != nil {
			defer func(v Visitor) { w.p.visitor = nil; v.End() }(w.p.visitor)
		}
	}
	w.p.noStitch = d.noStitch
	return w.p.parseRecord(doc, st, res)
}

// docSplitter cuts a stream into top-level JSON objects by counting braces outside strings.
// buf holds the bytes not yet handed out; it grows up to max.
type docSplitter struct {
	r   io.Reader
	max int
	buf []byte
	// buf[start:end] is unread; base is the stream offset of buf[0].
	start, end int
	base       int64
	eof        bool
	consumed   int64
}

// next returns the next document (valid until the next call) and its stream offset.
func (s *docSplitter) next() ([]byte, int64, error) {
	// Skip whitespace to the document's start.
	for {
		for s.start < s.end && jsonscan.IsSpace(s.buf[s.start]) {
			s.start++
		}
		if s.start < s.end {
			break
		}
		if s.eof {
			s.consumed = s.base + int64(s.end)
			return nil, s.base + int64(s.start), io.EOF
		}
		if err := s.fill(); err != nil {
			return nil, s.base + int64(s.start), err
		}
	}
	off := s.base + int64(s.start)
	if s.buf[s.start] != '{' {
		return nil, off, framingError("text between documents that is not a JSON object")
	}
	depth, inStr := 0, false
	i := s.start
	for {
		for ; i < s.end; i++ {
			if inStr {
				// Most of a document is message text: find the closing quote with
				// IndexByte, and count the backslashes before it (all of the document
				// so far is in buf, so they are too).
				q := bytes.IndexByte(s.buf[i:s.end], '"')
				if q < 0 {
					i = s.end - 1
					continue
				}
				i += q
				n := 0
				for k := i - 1; k >= s.start && s.buf[k] == '\\'; k-- {
					n++
				}
				if n%2 == 0 {
					inStr = false
				}
				continue
			}
			switch s.buf[i] {
			case '"':
				inStr = true
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					doc := s.buf[s.start : i+1]
					s.start = i + 1
					s.consumed = s.base + int64(s.start)
					return doc, off, nil
				}
			}
		}
		if s.eof {
			s.consumed = s.base + int64(s.end)
			// The partial document is returned with the error: what it holds before the
			// cut counts, as for a Firehose record that goes wrong part way.
			return s.buf[s.start:s.end], off, framingError("truncated document: the stream ends inside it")
		}
		if s.end-s.start >= s.max {
			return nil, off, framingError(fmt.Sprintf("document over the %s-byte cap", thousands(int64(s.max))))
		}
		rel := i - s.start
		if err := s.fill(); err != nil {
			return nil, off, err
		}
		i = s.start + rel
	}
}

// fill moves the unread bytes to the front and reads more; at most max bytes are held.
func (s *docSplitter) fill() error {
	if s.start > 0 {
		n := copy(s.buf, s.buf[s.start:s.end])
		s.base += int64(s.start)
		s.start, s.end = 0, n
	}
	if s.end == len(s.buf) {
		size := max(64<<10, 2*len(s.buf))
		size = min(size, s.max+1)
		if size <= len(s.buf) {
			return nil // full at the cap: next sees it
		}
		nb := make([]byte, size)
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	n, err := s.r.Read(s.buf[s.end:])
	s.end += n
	if errors.Is(err, io.EOF) {
		s.eof = true
		return nil
	}
	return err
}

// framingError is a stream error the splitter finds itself; the caller sets the offset.
func framingError(reason string) error { return &DocError{Reason: reason} }
