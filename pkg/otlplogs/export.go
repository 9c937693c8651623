// Package otlplogs exports every CloudWatch Logs data event of a Firehose delivery as
// OpenTelemetry logs over OTLP/HTTP (http/protobuf or http/json, gzip or not), configured by
// the OpenTelemetry SDK's OTEL_EXPORTER_OTLP_* variables.
//
// The mapping follows the semantic conventions: one ResourceLogs per (drain, account,
// region, log group, log stream) with cloud.*, aws.log.*, service.name, faas.* (Lambda log
// groups), deployment.environment.name, aient.org and aient.drain.id; scope firehose-drain
// with encoding.format=aws.cloudwatch; one LogRecord per event with its own time, the
// receipt as observed time, the level as severity, the message as body, log.record.uid =
// the event's dedup identity (so a backend can drop Firehose's retries),
// faas.invocation_id, and exception.* for error-class events from pkg/grouping.
//
// A Session exports one delivery while it is decoded: decoding goroutines encode into
// reused messages (the official go.opentelemetry.io/proto/otlp types), full batches
// (bounded by records and bytes) go out with bounded concurrency, and Wait reports what
// the downstream accepted. A failure the downstream may recover from (5xx, 429, timeout,
// connection error) is an error: the delivery must be answered 503 so that Firehose
// retries it. Records rejected by a partialSuccess, or a batch refused with another 4xx,
// are counted and reported, never retried.
package otlplogs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/aient/firehose-drain/pkg/cwpayload"
)

// ErrDownstream wraps every export failure that the delivery's retry may get past.
var ErrDownstream = errors.New("OTLP logs downstream unavailable")

// maxResponse bounds how much of an answer is read.
const maxResponse = 64 << 10

// maxReason bounds a rejection reason as kept on the drain.
const maxReason = 300

// Exporter posts OTLP logs to one endpoint. It is safe for concurrent use; each delivery
// is one Session.
type Exporter struct {
	cfg    Config
	client *http.Client
	log    *slog.Logger

	// Idle encoders, kept across deliveries (a sync.Pool would lose their reused messages
	// at every GC, which a 6 MB delivery triggers): at most maxIdleEncoders.
	encMu    sync.Mutex
	encoders []*encoder
	// Idle batch buffers (encoded, compressed), kept across deliveries for the same reason.
	bufMu sync.Mutex
	bufs  [][]byte
	zbufs []*bytes.Buffer
	zws   []*gzip.Writer // idle compressors (each holds its window and tables)
}

// New returns an Exporter. client may be nil (a client of its own with keep-alive
// connections); logger may be nil (slog.Default()).
func New(cfg Config, client *http.Client, logger *slog.Logger) (*Exporter, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if client == nil {
		t := &http.Transport{Proxy: http.ProxyFromEnvironment}
		if dt, ok := http.DefaultTransport.(*http.Transport); ok {
			t = dt.Clone()
		}
		t.MaxIdleConnsPerHost = 2 * cfg.Concurrency
		client = &http.Client{Transport: t}
	}
	if logger == nil {
		logger = slog.Default()
	}
	x := &Exporter{cfg: cfg, client: client, log: logger}
	return x, nil
}

// Config returns the exporter's configuration with its defaults (headers included: do not
// log it).
func (x *Exporter) Config() Config { return x.cfg }

// Delivery is what every record of one delivery is stamped with.
type Delivery struct {
	Drain, Org, Env string
	// Observed is the receipt time (observedTimeUnixNano).
	Observed time.Time
}

// Result is what one delivery's export did.
type Result struct {
	// Records is how many log records were sent in batches the downstream answered.
	Records int64
	// Rejected counts the records a partialSuccess (or a 4xx) refused; Reason is the last
	// reason given (the downstream's own words, cut short).
	Rejected int64
	Reason   string
	// Batches is how many export requests were answered; WireBytes their bodies as sent.
	Batches   int
	WireBytes int64
	// Err is set (wrapping ErrDownstream) when the delivery must be retried.
	Err error
}

// Session exports one delivery. Visitor is safe for concurrent use; Wait is called once,
// after the last record's End.
type Session struct {
	x        *Exporter
	ctx      context.Context
	d        Delivery
	observed uint64

	sem    chan struct{}
	wg     sync.WaitGroup
	failed atomic.Bool

	mu       sync.Mutex
	free     []*encoder // encoders between records, their batches in progress
	res      Result
	firstErr error
}

// Begin starts the export of one delivery; ctx bounds it (the delivery's deadline).
func (x *Exporter) Begin(ctx context.Context, d Delivery) *Session {
	return &Session{
		x: x, ctx: ctx, d: d, observed: uint64(d.Observed.UnixNano()),
		sem: make(chan struct{}, x.cfg.Concurrency),
	}
}

// Visitor returns the Visitor of one record (cwpayload.Stamp.Visit).
func (s *Session) Visitor(int) cwpayload.Visitor {
	s.mu.Lock()
	if n := len(s.free); n > 0 {
		e := s.free[n-1]
		s.free = s.free[:n-1]
		s.mu.Unlock()
		return e
	}
	s.mu.Unlock()
	e := s.x.getEncoder()
	if want := s.x.cfg.MaxBatchBytes + 64<<10; s.x.cfg.Protocol == ProtocolJSON && cap(e.arena) < want {
		e.arena = make([]byte, 0, want)
	}
	e.s = s
	return e
}

// idle takes an encoder back between records.
func (s *Session) idle(e *encoder) {
	s.mu.Lock()
	s.free = append(s.free, e)
	s.mu.Unlock()
}

// Wait sends what is left, waits for every request and returns the result.
func (s *Session) Wait() Result {
	s.mu.Lock()
	free := s.free
	s.free = nil
	s.mu.Unlock()
	for _, e := range free {
		e.flush()
		e.s = nil
		s.x.putEncoder(e)
	}
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.res
	r.Err = s.firstErr
	return r
}

func (s *Session) fail(err error) {
	s.mu.Lock()
	if s.firstErr == nil {
		s.firstErr = err
	}
	s.mu.Unlock()
	s.failed.Store(true)
}

// submit sends one encoded batch of n records, waiting for a free slot.
func (s *Session) submit(buf []byte, n int) {
	select {
	case s.sem <- struct{}{}:
	case <-s.ctx.Done():
		s.fail(fmt.Errorf("%w: deadline reached before the export: %w", ErrDownstream, s.ctx.Err()))
		s.x.putBuf(buf)
		return
	}
	if s.failed.Load() {
		<-s.sem
		s.x.putBuf(buf)
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() { <-s.sem }()
		s.send(buf, n)
	}()
}

// send posts one batch and records the answer.
func (s *Session) send(buf []byte, n int) {
	x := s.x
	body := buf
	var zb *bytes.Buffer
	if x.cfg.Compression == CompressionGzip {
		zb = x.compress(buf)
		body = zb.Bytes()
	}
	defer func() {
		x.putBuf(buf)
		if zb != nil {
			x.putZBuf(zb)
		}
	}()
	rejected, reason, err := x.post(s.ctx, body, n)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.firstErr == nil {
			s.firstErr = err
		}
		s.failed.Store(true)
		return
	}
	s.res.Batches++
	s.res.WireBytes += int64(len(body))
	s.res.Records += int64(n)
	if rejected > 0 {
		s.res.Rejected += rejected
		s.res.Reason = reason
	}
}

// post sends one request body; it returns the records the downstream rejected (with its
// reason) or an error wrapping ErrDownstream.
func (x *Exporter) post(ctx context.Context, body []byte, n int) (int64, string, error) {
	ctx, cancel := context.WithTimeout(ctx, x.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, x.cfg.Endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, "", fmt.Errorf("%w: %w", ErrDownstream, err)
	}
	for k, v := range x.cfg.Headers {
		req.Header.Set(k, v)
	}
	ct := "application/x-protobuf"
	if x.cfg.Protocol == ProtocolJSON {
		ct = "application/json"
	}
	req.Header.Set("Content-Type", ct)
	if x.cfg.Compression == CompressionGzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	req.Header.Set("User-Agent", "firehose-drain")
	resp, err := x.client.Do(req)
	if err != nil {
		// Connection refused or reset, timeout, deadline: the retry may get through.
		// (url.Error quotes the URL: the endpoint is configuration, not a secret.)
		return 0, "", fmt.Errorf("%w: %w", ErrDownstream, err)
	}
	defer func() { _ = resp.Body.Close() }() // read to the cap below: nothing more to learn
	answer, rerr := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	switch {
	case resp.StatusCode/100 == 2:
		if rerr != nil {
			return 0, "", fmt.Errorf("%w: reading the answer: %w", ErrDownstream, rerr)
		}
		rej, msg, err := partialSuccess(answer, resp.Header.Get("Content-Type"))
		if err != nil {
			// The batch was accepted; an answer we cannot read is logged, not retried.
			x.log.WarnContext(ctx, "OTLP logs answer not understood", "status", resp.StatusCode, "err", err)
			return 0, "", nil
		}
		if rej > 0 {
			msg = clip(msg)
			x.log.WarnContext(ctx, "OTLP logs partially rejected", "rejected", rej, "of", n, "reason", msg)
		}
		return rej, msg, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return 0, "", fmt.Errorf("%w: HTTP %d", ErrDownstream, resp.StatusCode)
	default:
		// 400 and the other client errors are permanent (OTLP/HTTP): a retry would send the
		// same batch again. Counted as rejected.
		reason := clip(fmt.Sprintf("HTTP %d: %s", resp.StatusCode, statusMessage(answer)))
		x.log.WarnContext(ctx, "OTLP logs batch refused", "records", n, "reason", reason)
		return int64(n), reason, nil
	}
}

// partialSuccess reads ExportLogsServiceResponse.partial_success from an answer, protobuf
// or JSON as its content type says (an empty answer is a full success).
func partialSuccess(b []byte, contentType string) (int64, string, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return 0, "", nil
	}
	if strings.HasPrefix(contentType, "application/json") {
		var r struct {
			PartialSuccess struct {
				RejectedLogRecords json.RawMessage `json:"rejectedLogRecords"`
				ErrorMessage       string          `json:"errorMessage"`
			} `json:"partialSuccess"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			return 0, "", fmt.Errorf("JSON answer: %w", err)
		}
		n := int64(0)
		if raw := strings.Trim(string(r.PartialSuccess.RejectedLogRecords), `"`); raw != "" && raw != "null" {
			v, err := strconv.ParseInt(raw, 10, 64)
			if err != nil {
				return 0, "", fmt.Errorf("JSON answer: rejectedLogRecords %q", clip(raw))
			}
			n = v
		}
		return n, r.PartialSuccess.ErrorMessage, nil
	}
	// ExportLogsServiceResponse { ExportLogsPartialSuccess partial_success = 1 }
	// ExportLogsPartialSuccess { int64 rejected_log_records = 1; string error_message = 2 }
	var n int64
	var msg string
	for len(b) > 0 {
		num, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return 0, "", fmt.Errorf("protobuf answer: %w", protowire.ParseError(l))
		}
		b = b[l:]
		if num == 1 && typ == protowire.BytesType {
			ps, l := protowire.ConsumeBytes(b)
			if l < 0 {
				return 0, "", fmt.Errorf("protobuf answer: %w", protowire.ParseError(l))
			}
			b = b[l:]
			for len(ps) > 0 {
				pn, pt, l := protowire.ConsumeTag(ps)
				if l < 0 {
					return 0, "", fmt.Errorf("protobuf answer: %w", protowire.ParseError(l))
				}
				ps = ps[l:]
				switch {
				case pn == 1 && pt == protowire.VarintType:
					v, l := protowire.ConsumeVarint(ps)
					if l < 0 {
						return 0, "", fmt.Errorf("protobuf answer: %w", protowire.ParseError(l))
					}
					n, ps = int64(v), ps[l:]
				case pn == 2 && pt == protowire.BytesType:
					v, l := protowire.ConsumeBytes(ps)
					if l < 0 {
						return 0, "", fmt.Errorf("protobuf answer: %w", protowire.ParseError(l))
					}
					msg, ps = string(v), ps[l:]
				default:
					l := protowire.ConsumeFieldValue(pn, pt, ps)
					if l < 0 {
						return 0, "", fmt.Errorf("protobuf answer: %w", protowire.ParseError(l))
					}
					ps = ps[l:]
				}
			}
			continue
		}
		l = protowire.ConsumeFieldValue(num, typ, b)
		if l < 0 {
			return 0, "", fmt.Errorf("protobuf answer: %w", protowire.ParseError(l))
		}
		b = b[l:]
	}
	return n, msg, nil
}

// statusMessage is the message of an error answer: a google.rpc.Status in protobuf
// (message = field 2) or JSON, else the text itself.
func statusMessage(b []byte) string {
	var js struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &js) == nil && js.Message != "" {
		return js.Message
	}
	for p := b; len(p) > 0; {
		num, typ, l := protowire.ConsumeTag(p)
		if l < 0 {
			break
		}
		p = p[l:]
		if num == 2 && typ == protowire.BytesType {
			if v, l := protowire.ConsumeBytes(p); l >= 0 {
				return string(v)
			}
			break
		}
		if l = protowire.ConsumeFieldValue(num, typ, p); l < 0 {
			break
		}
		p = p[l:]
	}
	return strings.ToValidUTF8(string(b), "?")
}

func clip(s string) string {
	s = strings.ToValidUTF8(strings.TrimSpace(s), "?")
	if len(s) > maxReason {
		return s[:maxReason] + "…"
	}
	return s
}

// maxIdleEncoders bounds the encoders (each up to a batch of messages and its arena) an
// Exporter keeps between deliveries.
const maxIdleEncoders = 8

func (x *Exporter) getEncoder() *encoder {
	x.encMu.Lock()
	defer x.encMu.Unlock()
	if n := len(x.encoders); n > 0 {
		e := x.encoders[n-1]
		x.encoders = x.encoders[:n-1]
		return e
	}
	return newEncoder()
}

func (x *Exporter) putEncoder(e *encoder) {
	x.encMu.Lock()
	defer x.encMu.Unlock()
	if len(x.encoders) < maxIdleEncoders {
		x.encoders = append(x.encoders, e)
	}
}

// maxIdleBuffers bounds the batch buffers of each kind an Exporter keeps.
func (x *Exporter) maxIdleBuffers() int { return x.cfg.Concurrency + maxIdleEncoders }

func (x *Exporter) getBuf() []byte {
	x.bufMu.Lock()
	defer x.bufMu.Unlock()
	if n := len(x.bufs); n > 0 {
		b := x.bufs[n-1]
		x.bufs = x.bufs[:n-1]
		return b[:0]
	}
	return make([]byte, 0, x.cfg.MaxBatchBytes+x.cfg.MaxBatchBytes/4)
}

func (x *Exporter) putBuf(b []byte) {
	if cap(b) > 4*x.cfg.MaxBatchBytes {
		return
	}
	x.bufMu.Lock()
	defer x.bufMu.Unlock()
	if len(x.bufs) < x.maxIdleBuffers() {
		x.bufs = append(x.bufs, b)
	}
}

func (x *Exporter) getZBuf() *bytes.Buffer {
	x.bufMu.Lock()
	defer x.bufMu.Unlock()
	if n := len(x.zbufs); n > 0 {
		zb := x.zbufs[n-1]
		x.zbufs = x.zbufs[:n-1]
		return zb
	}
	return nil
}

func (x *Exporter) putZBuf(zb *bytes.Buffer) {
	x.bufMu.Lock()
	defer x.bufMu.Unlock()
	if len(x.zbufs) < x.maxIdleBuffers() && zb.Cap() <= 4*x.cfg.MaxBatchBytes {
		x.zbufs = append(x.zbufs, zb)
	}
}

// compress gzips b into a pooled buffer.
func (x *Exporter) compress(b []byte) *bytes.Buffer {
	zb := x.getZBuf()
	if zb == nil {
		zb = bytes.NewBuffer(make([]byte, 0, len(b)/4+1024))
	}
	zb.Reset()
	x.bufMu.Lock()
	var zw *gzip.Writer
	if n := len(x.zws); n > 0 {
		zw = x.zws[n-1]
		x.zws = x.zws[:n-1]
	}
	x.bufMu.Unlock()
	if zw == nil {
		var err error
		if zw, err = gzip.NewWriterLevel(zb, x.cfg.GzipLevel); err != nil {
			zw = gzip.NewWriter(zb)
		}
	} else {
		zw.Reset(zb)
	}
	_, _ = zw.Write(b) // a bytes.Buffer does not fail
	_ = zw.Close()
	x.bufMu.Lock()
	if len(x.zws) < x.cfg.Concurrency {
		x.zws = append(x.zws, zw)
	}
	x.bufMu.Unlock()
	return zb
}
