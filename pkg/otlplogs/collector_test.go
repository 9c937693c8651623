package otlplogs_test

// These tests export through the whole ingest handler to the OpenTelemetry Collector's own
// OTLP/HTTP receiver (go.opentelemetry.io/collector/receiver/otlpreceiver), running
// in-process on a loopback port with a consumertest sink, and read what it received with
// the Collector's pdata types.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/aient/firehose-drain/internal/testkit/conformance"
	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
	"github.com/aient/firehose-drain/pkg/dedup"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/grouping"
	"github.com/aient/firehose-drain/pkg/ingest"
	"github.com/aient/firehose-drain/pkg/level"
	"github.com/aient/firehose-drain/pkg/otlplogs"
)

// collector is the Collector's OTLP receiver on a loopback port.
type collector struct {
	sink *consumertest.LogsSink
	addr string // host:port
}

func startCollector(t *testing.T) *collector {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	f := otlpreceiver.NewFactory()
	cfg, ok := f.CreateDefaultConfig().(*otlpreceiver.Config)
	if !ok {
		t.Fatalf("the OTLP receiver's default config is %T", f.CreateDefaultConfig())
	}
	cfg.Protocols.GRPC = configoptional.None[configgrpc.ServerConfig]()
	cfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.NetAddr.Endpoint = addr
	c := &collector{sink: new(consumertest.LogsSink), addr: addr}
	var r receiver.Logs
	r, err = f.CreateLogs(context.Background(), receivertest.NewNopSettings(f.Type()), cfg, c.sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Shutdown(context.Background()) })
	return c
}

func (c *collector) url() string { return "http://" + c.addr + "/v1/logs" }

// record is one log record as the Collector received it, with its resource and scope.
type record struct {
	res, scope, attrs map[string]any
	scopeName         string
	lr                plog.LogRecord
}

func (c *collector) records() []record {
	var out []record
	for _, ld := range c.sink.AllLogs() {
		for i := range ld.ResourceLogs().Len() {
			rl := ld.ResourceLogs().At(i)
			res := rl.Resource().Attributes().AsRaw()
			for j := range rl.ScopeLogs().Len() {
				sl := rl.ScopeLogs().At(j)
				for k := range sl.LogRecords().Len() {
					lr := sl.LogRecords().At(k)
					out = append(out, record{
						res: res, scope: sl.Scope().Attributes().AsRaw(), scopeName: sl.Scope().Name(),
						attrs: lr.Attributes().AsRaw(), lr: lr,
					})
				}
			}
		}
	}
	return out
}

// rig is the ingest handler over an embedded store, exporting to endpoint.
type rig struct {
	h      *ingest.Handler
	drain  drains.Drain
	key    string
	sent   *recorder
	store  *embedded.Store
	now    time.Time
	export *otlplogs.Exporter
}

// recorder is the Sender: it keeps what the ingest sent downstream.
type recorder struct {
	mu  sync.Mutex
	evs []event.Event
}

func (r *recorder) Send(_ context.Context, evs []event.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, evs...)
	return nil
}

func (r *recorder) identities() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[string]int{}
	for i := range r.evs {
		m[r.evs[i].Identity()]++
	}
	return m
}

// baseRig is a store with one drain and an exporter by cfg: what the Firehose rig and the
// sources' rig share.
func baseRig(t *testing.T, cfg otlplogs.Config) (*rig, *drains.Service, *slog.Logger) {
	t.Helper()
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	r := &rig{store: st, sent: &recorder{}, now: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	svc := drains.NewService(st.Drains(), drains.PepperFunc(st.Pepper), drains.Config{})
	if r.drain, r.key, err = svc.Create(context.Background(), "acme", "prod"); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	if r.export, err = otlplogs.New(cfg, nil, quiet); err != nil {
		t.Fatal(err)
	}
	return r, svc, quiet
}

func newRig(t *testing.T, cfg otlplogs.Config) *rig {
	t.Helper()
	r, svc, quiet := baseRig(t, cfg)
	r.h = ingest.New(svc, r.store.Drains(), dedup.New(r.store.Claims(), dedup.Config{}), r.sent, ingest.Config{
		Now: func() time.Time { return r.now }, Export: r.export, Logger: quiet,
	})
	return r
}

const sourceARN = "arn:aws:firehose:us-east-2:366620023056:deliverystream/aient"

func (r *rig) deliver(t *testing.T, body []byte) (int, string) {
	t.Helper()
	var b struct {
		RequestID string `json:"requestId"`
	}
	_ = json.Unmarshal(body, &b)
	h := map[string]string{
		"x-amz-firehose-request-id": b.RequestID, "x-amz-firehose-access-key": r.key,
		"x-amz-firehose-source-arn": sourceARN, "content-type": "application/json",
	}
	resp := r.h.Handle(context.Background(), ingest.Request{
		Method: http.MethodPost, Path: ingest.PathPrefix + r.drain.ID,
		Header: func(n string) string { return h[n] }, Body: body,
	})
	return resp.Status, string(resp.Body)
}

// captures returns every conformance capture as a Firehose request body: the whole
// requests as they are, the decompressed record payloads wrapped into a one-record request.
func captures(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, f := range append(conformance.Files(t, "firehose/alloy/*.json"), conformance.Files(t, "firehose/vector/*.json")...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f)] = b
	}
	for _, f := range append(conformance.Files(t, "firehose/otel/*.json"), conformance.Files(t, "firehose/otel/*.ndjson")...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out["otel/"+filepath.Base(f)] = fht.Body("0b7a2c1e-0000-4000-8000-00000000000"+fmt.Sprint(len(out)%10),
			base64.StdEncoding.EncodeToString(fht.Gzip(b)))
	}
	// The captures hold no error-class event: add the shapes the grouper extracts.
	var evs []fht.LogEvent
	for i := range 3 {
		evs = append(evs, fht.ErrorEvent(i), fht.OtherErrorEvent(i))
	}
	evs = append(evs, fht.LogEvent{
		ID: "375639105114867596244445032505023732049171397591609999", Timestamp: 1700000000999,
		Message: "2023-11-14T22:13:20.999Z\t0d2b7a8e-5f0c-4b59-9d7e-6f1f2a3b4c5d\tERROR\tInvoke Error \t{\"errorType\":\"TypeError\",\"errorMessage\":\"x is undefined\",\"stack\":[\"TypeError: x is undefined\",\"    at handler (/var/task/index.js:3:9)\"]}\n",
	})
	out["synthetic/errors"] = fht.Body("c0ffee00-0000-4000-8000-000000000001",
		fht.Record("/aws/lambda/payments", "2026/11/21/[7]abcdef0123456789", evs...),
		fht.Record("/ecs/orders", "orders/app/1234", fht.ErrorEvent(9)))
	return out
}

// refEvent is one event as the reference decoder (encoding/json, compress/gzip) reads a
// capture, with the attributes the mapping must give it.
type refEvent struct {
	account, region, group, stream, id, msg string
	ts                                      int64
}

// reference decodes a request body with the standard library; records that are not
// CloudWatch Logs documents are skipped (the ingest rejects them and exports nothing).
func reference(t *testing.T, body []byte) []refEvent {
	t.Helper()
	var req struct {
		Records []struct {
			Data string `json:"data"`
		} `json:"records"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatal(err)
	}
	var out []refEvent
	for _, rec := range req.Records {
		raw, err := base64.StdEncoding.DecodeString(rec.Data)
		if err != nil {
			continue
		}
		if len(raw) > 2 && raw[0] == 0x1f && raw[1] == 0x8b {
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err != nil {
				continue
			}
			if raw, err = io.ReadAll(zr); err != nil {
				continue
			}
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		var evs []refEvent
		ok := true
		for dec.More() {
			var doc struct {
				MessageType string `json:"messageType"`
				Owner       string `json:"owner"`
				LogGroup    string `json:"logGroup"`
				LogStream   string `json:"logStream"`
				LogEvents   []struct {
					ID              string            `json:"id"`
					Timestamp       int64             `json:"timestamp"`
					Message         string            `json:"message"`
					Account         string            `json:"@aws.account"`
					Region          string            `json:"@aws.region"`
					ExtractedFields map[string]string `json:"extractedFields"`
				} `json:"logEvents"`
			}
			if err := dec.Decode(&doc); err != nil || (doc.MessageType != "DATA_MESSAGE" && doc.MessageType != "CONTROL_MESSAGE") {
				ok = false
				break
			}
			if doc.MessageType != "DATA_MESSAGE" {
				continue
			}
			for _, e := range doc.LogEvents {
				r := refEvent{account: doc.Owner, region: "us-east-2", group: doc.LogGroup, stream: doc.LogStream, id: e.ID, msg: e.Message, ts: e.Timestamp}
				for _, a := range []string{e.Account, e.ExtractedFields["@aws.account"]} {
					if a != "" {
						r.account = a
					}
				}
				for _, g := range []string{e.Region, e.ExtractedFields["@aws.region"]} {
					if g != "" {
						r.region = g
					}
				}
				evs = append(evs, r)
			}
		}
		if ok {
			out = append(out, evs...)
		}
	}
	return out
}

// check compares every attribute of every received record with the reference events.
func check(t *testing.T, r *rig, got []record, want []refEvent) {
	t.Helper()
	byUID := map[string]record{}
	for _, g := range got {
		uid, _ := g.attrs[otlplogs.AttrLogRecordUID].(string)
		if _, dup := byUID[uid]; dup {
			t.Errorf("log.record.uid %s received twice", uid)
		}
		byUID[uid] = g
	}
	if len(got) != len(want) {
		t.Errorf("collector received %d log records, the capture holds %d data events", len(got), len(want))
	}
	for _, w := range want {
		uid := event.Identity(r.drain.ID, w.account, w.group, w.stream, w.id)
		g, ok := byUID[uid]
		if !ok {
			t.Errorf("event %s (%.40q): no log record with log.record.uid = its identity", w.id, w.msg)
			continue
		}
		wantRes := map[string]any{
			"cloud.provider": "aws", "cloud.account.id": w.account, "cloud.region": w.region,
			"aws.log.group.names": []any{w.group}, "aws.log.stream.names": []any{w.stream},
			"deployment.environment.name": "prod", "aient.org": "acme", "aient.drain.id": r.drain.ID,
			"service.name": w.group,
		}
		if fn, ok := strings.CutPrefix(w.group, "/aws/lambda/"); ok {
			wantRes["service.name"] = fn
			wantRes["cloud.platform"] = "aws_lambda"
			wantRes["faas.name"] = fn
			wantRes["faas.instance"] = w.stream
			if i, j := strings.IndexByte(w.stream, '['), strings.IndexByte(w.stream, ']'); i >= 0 && j > i+1 {
				wantRes["faas.version"] = w.stream[i+1 : j]
			}
		}
		if d := diff(g.res, wantRes); d != "" {
			t.Errorf("event %s: resource attributes: %s", w.id, d)
		}
		if g.scopeName != "firehose-drain" || fmt.Sprint(g.scope) != fmt.Sprint(map[string]any{"encoding.format": "aws.cloudwatch"}) {
			t.Errorf("event %s: scope %q %v", w.id, g.scopeName, g.scope)
		}
		if got, want := g.lr.Timestamp(), pcommon.Timestamp(w.ts*1e6); got != want {
			t.Errorf("event %s: timeUnixNano %d, want %d", w.id, got, want)
		}
		if got, want := g.lr.ObservedTimestamp().AsTime(), r.now; !got.Equal(want) {
			t.Errorf("event %s: observedTimeUnixNano %v, want the receipt %v", w.id, got, want)
		}
		lvl := level.OfString(w.msg)
		num, text := map[event.Level]plog.SeverityNumber{event.Debug: 5, event.Info: 9, event.Warn: 13, event.Error: 17, event.Fatal: 21}[lvl],
			map[event.Level]string{event.Debug: "DEBUG", event.Info: "INFO", event.Warn: "WARN", event.Error: "ERROR", event.Fatal: "FATAL"}[lvl]
		if g.lr.SeverityNumber() != num || g.lr.SeverityText() != text {
			t.Errorf("event %s (%.60q, level %q): severity %d %q, want %d %q", w.id, w.msg, lvl, g.lr.SeverityNumber(), g.lr.SeverityText(), num, text)
		}
		if g.lr.Body().Type() != pcommon.ValueTypeStr || g.lr.Body().Str() != w.msg {
			t.Errorf("event %s: body %q, want the message %q", w.id, g.lr.Body().AsString(), w.msg)
		}
		wantAttrs := map[string]any{"log.record.uid": uid}
		if id := lambdaRequestID(w.msg); id != "" {
			wantAttrs["faas.invocation_id"] = id
		}
		if lvl.IsErrorClass() {
			res := grouping.Analyze(w.msg, w.group)
			if len(res.Chain) > 0 {
				if res.Chain[0].Type != "" {
					wantAttrs["exception.type"] = res.Chain[0].Type
				}
				if res.Chain[0].Message != "" {
					wantAttrs["exception.message"] = res.Chain[0].Message
				}
				if st, _ := g.attrs["exception.stacktrace"].(string); !strings.Contains(st, res.Chain[0].Type) {
					t.Errorf("event %s: exception.stacktrace %q does not name %q", w.id, st, res.Chain[0].Type)
				}
				wantAttrs["exception.stacktrace"] = g.attrs["exception.stacktrace"]
			}
		}
		if d := diff(g.attrs, wantAttrs); d != "" {
			t.Errorf("event %s (%.60q): log record attributes: %s", w.id, w.msg, d)
		}
	}
}

// lambdaRequestID is the test's own reading of the request id the Lambda formats carry.
func lambdaRequestID(msg string) string {
	for _, p := range []string{"RequestId: ", `"requestId":"`} {
		if _, rest, ok := strings.Cut(msg, p); ok && len(rest) >= 36 {
			return rest[:36]
		}
	}
	if f := strings.Split(msg, "\t"); len(f) > 2 && len(f[1]) == 36 && strings.Count(f[1], "-") == 4 {
		return f[1]
	}
	return ""
}

func diff(got, want map[string]any) string {
	var d []string
	for k, w := range want {
		if g, ok := got[k]; !ok {
			d = append(d, fmt.Sprintf("%s missing (want %v)", k, w))
		} else if fmt.Sprint(g) != fmt.Sprint(w) {
			d = append(d, fmt.Sprintf("%s = %v, want %v", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			d = append(d, fmt.Sprintf("unexpected %s = %v", k, g))
		}
	}
	slices.Sort(d)
	return strings.Join(d, "; ")
}

// TestConformanceCapturesReachTheCollector: every capture, through the whole ingest, over
// each protocol and compression, arrives at the Collector's receiver with every attribute.
func TestConformanceCapturesReachTheCollector(t *testing.T) {
	modes := []struct{ protocol, compression string }{
		{otlplogs.ProtocolProtobuf, otlplogs.CompressionGzip},
		{otlplogs.ProtocolProtobuf, otlplogs.CompressionNone},
		{otlplogs.ProtocolJSON, otlplogs.CompressionGzip},
		{otlplogs.ProtocolJSON, otlplogs.CompressionNone},
	}
	caps := captures(t)
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range caps {
			if !yield(k) {
				return
			}
		}
	})
	total := 0
	for _, m := range modes {
		t.Run(m.protocol+"+"+m.compression, func(t *testing.T) {
			col := startCollector(t)
			r := newRig(t, otlplogs.Config{Endpoint: col.url(), Protocol: m.protocol, Compression: m.compression, MaxBatchRecords: 4})
			for _, name := range names {
				t.Run(name, func(t *testing.T) {
					col.sink.Reset()
					want := reference(t, caps[name])
					status, body := r.deliver(t, caps[name])
					if status != http.StatusOK && status != http.StatusBadRequest {
						t.Fatalf("status %d %s", status, body)
					}
					check(t, r, col.records(), want)
					total += len(want)
				})
			}
		})
	}
	if total < 4*20 {
		t.Errorf("only %d events checked over all modes: the captures should hold more", total)
	}
}

// proxy stands between the exporter and the Collector and misbehaves on demand.
type proxy struct {
	t       *testing.T
	mode    atomic.Value // string: "pass", "503", "429", "hang", "reset", "partial", "400"
	failNth atomic.Int64 // misbehave from the nth request of a delivery on (1-based); 0: always
	n       atomic.Int64
	url     string
	forward *httputil.ReverseProxy
}

func newProxy(t *testing.T, col *collector) *proxy {
	t.Helper()
	target, _ := url.Parse("http://" + col.addr)
	p := &proxy{t: t, forward: httputil.NewSingleHostReverseProxy(target)}
	p.mode.Store("pass")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: p}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	p.url = "http://" + l.Addr().String() + "/v1/logs"
	return p
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mode, _ := p.mode.Load().(string)
	if n := p.n.Add(1); mode != "pass" && n < p.failNth.Load() {
		mode = "pass"
	}
	switch mode {
	case "503":
		w.WriteHeader(http.StatusServiceUnavailable)
	case "429":
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
	case "hang":
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	case "reset":
		hj, _ := w.(http.Hijacker)
		conn, _, err := hj.Hijack()
		if err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // RST, not FIN
			}
			_ = conn.Close()
		}
	case "partial":
		// The Collector takes the batch, and the answer says some records were refused.
		p.forward.ServeHTTP(httptest.NewRecorder(), r)
		resp := plogotlp.NewExportResponse()
		resp.PartialSuccess().SetRejectedLogRecords(2)
		resp.PartialSuccess().SetErrorMessage("2 log records over the backend's size limit")
		b, _ := resp.MarshalProto()
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(b)
	case "400":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"code":3,"message":"bad request: unknown field"}`))
	default:
		p.forward.ServeHTTP(w, r)
	}
}

// burst is a delivery of n records of per events each, with an error every fifth event,
// in two streams of one function.
func burst(n, per int) ([]byte, int, int) {
	var data []string
	events, errs := 0, 0
	for i := range n {
		var evs []fht.LogEvent
		req := fmt.Sprintf("8f5c%04d-1111-4222-8333-444455556666", i)
		for j := range per {
			k := i*per + j
			if j%5 == 4 {
				e := fht.ErrorEvent(k)
				evs = append(evs, e)
				errs++
			} else {
				evs = append(evs, fht.LogEvent{
					ID: fmt.Sprintf("3756391051148675962444450325050237320491713975%010d", k), Timestamp: 1700000000000 + int64(k),
					Message: fmt.Sprintf("2023-11-14T22:13:20.000Z\t%s\tINFO\tstep %d\n", req, k),
				})
			}
			events++
		}
		data = append(data, fht.Record("/aws/lambda/checkout", fmt.Sprintf("2026/11/21/[$LATEST]%032d", i%2), evs...))
	}
	return fht.Body("a1b2c3d4-0000-4000-8000-000000000001", data...), events, errs
}

// TestDownstreamFailureIsRetried: whatever way the downstream fails, Firehose gets 503;
// its retry exports every record again with the same log.record.uid, and every error
// event is sent downstream exactly once over both attempts.
func TestDownstreamFailureIsRetried(t *testing.T) {
	for _, mode := range []string{"503", "429", "hang", "reset"} {
		t.Run(mode, func(t *testing.T) {
			col := startCollector(t)
			px := newProxy(t, col)
			r := newRig(t, otlplogs.Config{Endpoint: px.url, MaxBatchRecords: 7, Concurrency: 2, Timeout: 300 * time.Millisecond})
			body, events, errs := burst(6, 10)
			px.mode.Store(mode)
			px.failNth.Store(3) // the first two batches get through, then the downstream fails
			status, answer := r.deliver(t, body)
			if status != http.StatusServiceUnavailable || !strings.Contains(answer, "OTLP") {
				t.Fatalf("downstream %s: Firehose got %d %s, want 503 naming the OTLP downstream", mode, status, answer)
			}
			first := uids(col.records())

			px.mode.Store("pass")
			px.n.Store(0)
			if status, answer := r.deliver(t, body); status != http.StatusOK {
				t.Fatalf("retry: %d %s", status, answer)
			}
			all := col.records()
			second := uids(all[len(first):])
			if len(second) != events {
				t.Errorf("the retry exported %d distinct log.record.uids, want all %d events", len(second), events)
			}
			for u := range first {
				if !second[u] {
					t.Errorf("uid %s of the failed attempt not exported again by the retry", u)
				}
			}
			if len(all) != len(first)+events {
				t.Errorf("the retry exported %d records, want exactly %d", len(all)-len(first), events)
			}
			sent := r.sent.identities()
			if len(sent) != errs {
				t.Errorf("%d distinct error events sent downstream, want %d", len(sent), errs)
			}
			for id, n := range sent {
				if n != 1 {
					t.Errorf("error event %s sent %d times over the two attempts", id, n)
				}
			}
			d, err := r.store.Drains().Get(context.Background(), r.drain.ID)
			if err != nil {
				t.Fatal(err)
			}
			if d.Counters.LogsRejected != 0 {
				t.Errorf("logsRejected %d after a retried failure, want 0", d.Counters.LogsRejected)
			}
		})
	}
}

func uids(rs []record) map[string]bool {
	m := map[string]bool{}
	for _, r := range rs {
		uid, _ := r.attrs[otlplogs.AttrLogRecordUID].(string)
		m[uid] = true
	}
	return m
}

// TestPartialSuccessIsCountedNotRetried: rejected records are counted on the drain with the
// downstream's reason; Firehose gets 200, and nothing is sent again.
func TestPartialSuccessIsCountedNotRetried(t *testing.T) {
	col := startCollector(t)
	px := newProxy(t, col)
	r := newRig(t, otlplogs.Config{Endpoint: px.url, MaxBatchRecords: 1000})
	body, events, _ := burst(2, 10) // one batch
	px.mode.Store("partial")
	status, answer := r.deliver(t, body)
	if status != http.StatusOK {
		t.Fatalf("partialSuccess: Firehose got %d %s, want 200", status, answer)
	}
	// Each decoding worker fills a batch of its own: one or two requests, never more.
	batches := px.n.Load()
	if batches < 1 || batches > 2 {
		t.Errorf("%d export requests, want one per decoding worker (a partialSuccess is not retried)", batches)
	}
	if got := uids(col.records()); len(got) != events || len(col.records()) != events {
		t.Errorf("collector got %d records (%d distinct), want each of the %d once", len(col.records()), len(got), events)
	}
	d, err := r.store.Drains().Get(context.Background(), r.drain.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Counters.LogsRejected != 2*batches {
		t.Errorf("counters.logsRejected = %d, want 2 per answered batch (%d)", d.Counters.LogsRejected, 2*batches)
	}
	if d.LastLogsRejected == nil || !strings.Contains(d.LastLogsRejected.Reason, "size limit") {
		t.Errorf("lastLogsRejected = %+v, want the downstream's reason", d.LastLogsRejected)
	}
	st := drains.StatusOf(d, time.Now(), "")
	if st.Counters.LogsRejected != 2*batches || st.LastLogsRejected == nil {
		t.Errorf("drain status does not show the rejected logs: %+v", st)
	}

	// A 400 refuses the whole batch: counted too, not retried.
	px.mode.Store("400")
	px.n.Store(0)
	body2, events2, _ := burst(1, 3)
	if status, answer := r.deliver(t, body2); status != http.StatusOK {
		t.Fatalf("400 downstream: Firehose got %d %s, want 200 (a permanent refusal is counted, not retried)", status, answer)
	}
	d, _ = r.store.Drains().Get(context.Background(), r.drain.ID)
	if d.Counters.LogsRejected != 2*batches+int64(events2) || !strings.Contains(d.LastLogsRejected.Reason, "unknown field") {
		t.Errorf("after a 400: logsRejected %d (want %d), reason %+v", d.Counters.LogsRejected, 2*batches+int64(events2), d.LastLogsRejected)
	}
	if px.n.Load() != 1 {
		t.Errorf("%d requests for a one-record delivery refused with 400, want 1", px.n.Load())
	}
}

// TestNoEndpointNoExport: without OTEL_* variables nothing is exported and nothing changes.
func TestNoEndpointNoExport(t *testing.T) {
	_, ok, err := otlplogs.FromEnv(func(string) string { return "" })
	if ok || err != nil {
		t.Fatalf("FromEnv with no variables: ok %v err %v, want no export", ok, err)
	}
}
