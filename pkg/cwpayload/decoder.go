package cwpayload

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"

	"github.com/aient/firehose-drain/internal/jsonscan"
	"github.com/aient/firehose-drain/pkg/event"
)

// maxPooledBuffer is the largest buffer a worker keeps between records, and
// maxPooledEvents the most kept events. A Decoder keeps maxFreeWorkers workers of at most
// maxFreeWorkerBytes of buffers besides its sync.Pool.
const (
	maxPooledBuffer    = 64 << 20
	maxPooledEvents    = 16 << 10
	maxFreeWorkers     = 4
	maxFreeWorkerBytes = 8 << 20
)

// Decoder decodes Firehose record data. It holds pools of gzip readers and buffers and is
// safe for concurrent use.
type Decoder struct {
	limits   Limits
	noStitch bool
	// noPresize turns off sizing the inflate buffer from the gzip trailer (benchmarks
	// compare both).
	noPresize bool
	b64       *b64Tables // read only
	workers   sync.Pool  // *worker
	// free keeps up to maxFreeWorkers workers of modest buffers (maxFreeWorkerBytes) out
	// of the reach of the garbage collector, which empties workers every other cycle:
	// the next request's workers do not grow their buffers again.
	free    chan *worker
	decoded sync.Pool // *Decoded (pooled.go)
	// chunks keeps up to maxFreeChunks event chunks of finished Decodeds (pooled.go): a
	// bounded free list rather than a sync.Pool, which every other garbage collection
	// empties — about once a request.
	chunks chan *[]event.Event
}

// worker is the reusable state of one decoding goroutine.
type worker struct {
	raw []byte // base64-decoded record
	out []byte // inflated record
	gz  *gzip.Reader
	br  bytes.Reader
	p   parser
}

// NewDecoder returns a Decoder with the given limits; zero fields take DefaultLimits.
func NewDecoder(l Limits) *Decoder {
	def := DefaultLimits()
	if l.MaxRecordBytes <= 0 {
		l.MaxRecordBytes = def.MaxRecordBytes
	}
	if l.MaxRecordInflated <= 0 {
		l.MaxRecordInflated = def.MaxRecordInflated
	}
	if l.MaxRequestInflated <= 0 {
		l.MaxRequestInflated = def.MaxRequestInflated
	}
	if l.MaxRequestBreadcrumbs == 0 {
		l.MaxRequestBreadcrumbs = def.MaxRequestBreadcrumbs
	}
	d := &Decoder{limits: l, b64: newB64Tables(), chunks: make(chan *[]event.Event, maxFreeChunks), free: make(chan *worker, maxFreeWorkers)}
	d.workers.New = func() any { return new(worker) }
	return d
}

// WithoutStitching returns a copy of the decoder that leaves traces split across events
// as they are (for comparisons; the ingest always stitches).
func (d *Decoder) WithoutStitching() *Decoder {
	c := NewDecoder(d.limits)
	c.noStitch = true
	return c
}

// Limits returns the decoder's limits.
func (d *Decoder) Limits() Limits { return d.limits }

// DecodeRecords decodes the base64 data strings of a Firehose request (slices may alias the
// request body) with up to workers goroutines and returns one result per record, in record
// order. A bad record does not stop the others. When ctx ends, records not yet started
// get a RecordError carrying ctx's error.
func (d *Decoder) DecodeRecords(ctx context.Context, records [][]byte, st *Stamp, workers int) []RecordResult {
	if st == nil {
		st = &Stamp{}
	}
	results := make([]RecordResult, len(records))
	d.decodeInto(ctx, records, st, workers, results, nil)
	return results
}

// decodeInto decodes records into results (one each) under the request's inflate budget
// and links their breadcrumbs; the records' Errors are cut from kept's chunks, or
// allocated when kept is nil.
func (d *Decoder) decodeInto(ctx context.Context, records [][]byte, st *Stamp, workers int, results []RecordResult, kept *Decoded) {
	budget := &atomic.Int64{}
	budget.Store(d.limits.MaxRequestInflated)
	d.each(len(records), workers, func(w *worker, i int) {
		w.p.kept = kept
		d.decodeOne(ctx, w, i, records[i], st, budget, &results[i])
		w.p.kept = nil
		if st.Done != nil {
			st.Done(i)
		}
	})
	d.link(results)
}

// each runs decode(w, i) for every record i of n on up to workers goroutines, each with
// its own worker, from the last record to the first (the request's breadcrumb budget goes
// to the newest records first), and then links the results' breadcrumbs.
func (d *Decoder) each(n, workers int, decode func(w *worker, i int)) {
	crumbs, carries := d.crumbBudgets()
	workers = max(1, min(workers, n))
	if workers == 1 {
		w := d.worker()
		w.p.crumbBudget, w.p.carryBudget = crumbs, carries
		for i := n - 1; i >= 0; i-- {
			decode(w, i)
		}
		d.release(w)
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			w := d.worker()
			w.p.crumbBudget, w.p.carryBudget = crumbs, carries
			defer d.release(w)
			for {
				i := n - int(next.Add(1))
				if i < 0 {
					return
				}
				decode(w, i)
			}
		})
	}
	wg.Wait()
}

// crumbBudgets are a request's breadcrumb budgets (crumbs.go): the errors' weight and a
// quarter of it for carried lines; nil: unbounded.
func (d *Decoder) crumbBudgets() (crumbs, carries *atomic.Int64) {
	if d.limits.MaxRequestBreadcrumbs < 0 {
		return nil, nil
	}
	crumbs, carries = &atomic.Int64{}, &atomic.Int64{}
	crumbs.Store(d.limits.MaxRequestBreadcrumbs)
	carries.Store(d.limits.MaxRequestBreadcrumbs / 4)
	return crumbs, carries
}

// link joins the breadcrumbs of invocations across the records of one request, in record
// order.
func (d *Decoder) link(results []RecordResult) {
	var lk *linker
	for i := range results {
		if len(results[i].links) > 0 {
			if lk == nil {
				lk = newLinker(math.MaxInt)
			}
			lk.link(&results[i])
		}
	}
}

// worker takes a worker from the pool.
func (d *Decoder) worker() *worker {
	select {
	case w := <-d.free:
		return w
	default:
	}
	if w, ok := d.workers.Get().(*worker); ok {
		return w
	}
	return new(worker)
}

func (d *Decoder) release(w *worker) {
	if cap(w.raw) > maxPooledBuffer {
		w.raw = nil
	}
	if cap(w.out) > maxPooledBuffer {
		w.out = nil
	}
	if cap(w.p.scratch) > maxPooledBuffer {
		w.p.scratch = nil
	}
	if cap(w.p.evs) > maxPooledEvents {
		w.p.evs = nil
	}
	w.p.crumbBudget, w.p.carryBudget = nil, nil
	w.p.kept, w.p.chunk = nil, nil
	w.p.reset(nil, nil, nil)
	w.br.Reset(nil)
	if cap(w.raw)+cap(w.out)+cap(w.p.scratch)+cap(w.p.evs)*int(unsafe.Sizeof(event.Event{})) <= maxFreeWorkerBytes {
		select {
		case d.free <- w:
			return
		default:
		}
	}
	d.workers.Put(w)
}

func (d *Decoder) decodeOne(ctx context.Context, w *worker, i int, rec []byte, st *Stamp, budget *atomic.Int64, res *RecordResult) {
	if err := ctx.Err(); err != nil {
		res.Err = &RecordError{Index: i, Reason: "not decoded before the deadline", Err: err}
		return
	}
	defer func() {
		// The decoder must never take the process down on untrusted input; a panic here
		// is a bug, reported as this record's error.
		if r := recover(); r != nil {
			res.Err = &RecordError{Index: i, Reason: "internal decoder error", Err: fmt.Errorf("%v", r)}
		}
	}()
	if st.Visit != nil {
		if w.p.visitor = st.Visit(i); w.p.visitor != nil {
			defer func(v Visitor) { w.p.visitor = nil; v.End() }(w.p.visitor)
		}
	}
	if err := d.decodeRecord(w, rec, st, budget, res); err != nil {
		err.Index = i
		res.Err = err
	}
}

// decodeRecord fills res and returns the record's error (its Index left to the caller)
// when the record is bad.
func (d *Decoder) decodeRecord(w *worker, rec []byte, st *Stamp, budget *atomic.Int64, res *RecordResult) *RecordError {
	if int64(base64.StdEncoding.DecodedLen(len(rec))) > d.limits.MaxRecordBytes+3 {
		return &RecordError{Reason: fmt.Sprintf("record over %s bytes", thousands(d.limits.MaxRecordBytes))}
	}
	if n := base64.StdEncoding.DecodedLen(len(rec)); cap(w.raw) < n {
		w.raw = make([]byte, n)
	}
	n, err := d.b64.decode(w.raw[:cap(w.raw)], rec)
	if err != nil {
		return &RecordError{Reason: "not base64", Err: err}
	}
	raw := w.raw[:n]
	if int64(n) > d.limits.MaxRecordBytes {
		return &RecordError{Reason: fmt.Sprintf("record over %s bytes", thousands(d.limits.MaxRecordBytes))}
	}
	if n == 0 {
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
	w.p.noStitch = d.noStitch
	return w.p.parseRecord(data, st, res)
}

// capWriter appends to a buffer and fails past the record's limit or once the request's
// budget, shared by all workers and taken chunk by chunk, runs out.
type capWriter struct {
	buf    []byte
	limit  int64
	budget *atomic.Int64
}

var (
	errRecordCap  = errors.New("record inflated size over the cap")
	errRequestCap = errors.New("request inflated size over the cap")
)

func (c *capWriter) Write(p []byte) (int, error) {
	if int64(len(c.buf))+int64(len(p)) > c.limit {
		return 0, errRecordCap
	}
	if c.budget.Add(-int64(len(p))) < 0 {
		return 0, errRequestCap
	}
	c.buf = append(c.buf, p...)
	return len(p), nil
}

// inflate gunzips raw into w.out, stopping past the record cap or the request budget. It
// returns the record's error when the gzip stream is bad or too big.
func (d *Decoder) inflate(w *worker, raw []byte, budget *atomic.Int64) ([]byte, *RecordError) {
	w.br.Reset(raw)
	var err error
	if w.gz == nil {
		w.gz, err = gzip.NewReader(&w.br)
	} else {
		err = w.gz.Reset(&w.br)
	}
	if err != nil {
		return nil, &RecordError{Reason: gzipReason(err), Err: err}
	}
	if !d.noPresize {
		w.presize(raw, min(d.limits.MaxRecordInflated, budget.Load()))
	}
	cw := capWriter{buf: w.out[:0], limit: d.limits.MaxRecordInflated, budget: budget}
	_, err = w.gz.WriteTo(&cw)
	w.out = cw.buf
	if err != nil {
		switch {
		case errors.Is(err, errRecordCap):
			return nil, &RecordError{Reason: fmt.Sprintf("inflated size over the %s-byte cap", thousands(d.limits.MaxRecordInflated))}
		case errors.Is(err, errRequestCap):
			return nil, &RecordError{Reason: fmt.Sprintf("request inflated size over the %s-byte cap", thousands(d.limits.MaxRequestInflated))}
		}
		return nil, &RecordError{Reason: gzipReason(err), Err: err}
	}
	return cw.buf, nil
}

func gzipReason(err error) string {
	var corrupt flate.CorruptInputError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "truncated gzip"
	case errors.Is(err, gzip.ErrChecksum):
		return "corrupt gzip (checksum mismatch)"
	case errors.As(err, &corrupt), errors.Is(err, gzip.ErrHeader):
		return "corrupt gzip"
	}
	return "unreadable gzip"
}

func firstNonSpace(b []byte) byte {
	for _, c := range b {
		if !jsonscan.IsSpace(c) {
			return c
		}
	}
	return 0
}

// thousands formats n with comma separators: 1024000 -> "1,024,000".
func thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b []byte
	for i, c := range []byte(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, c)
	}
	return string(b)
}
