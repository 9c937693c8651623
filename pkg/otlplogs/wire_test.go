package otlplogs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
	"github.com/aient/firehose-drain/internal/testkit/scale"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/ingest"
	"github.com/aient/firehose-drain/pkg/otlplogs"
)

// capture is a receiver that keeps every request body.
type capture struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies [][]byte
}

func newCapture(t testing.TB) *capture {
	c := &capture{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.bodies = append(c.bodies, b)
		c.mu.Unlock()
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// flatRecords is every log record of the bodies with its resource and scope, each as the
// deterministic bytes of a one-record LogsData, sorted: what a backend receives,
// whatever the batching.
func flatRecords(t testing.TB, bodies [][]byte, unmarshal func([]byte, *logspb.LogsData) error) []string {
	t.Helper()
	var out []string
	for _, b := range bodies {
		var ld logspb.LogsData
		if err := unmarshal(b, &ld); err != nil {
			t.Fatalf("the official types cannot read a request: %v", err)
		}
		for _, rl := range ld.ResourceLogs {
			for _, sl := range rl.ScopeLogs {
				for _, lr := range sl.LogRecords {
					one := &logspb.LogsData{ResourceLogs: []*logspb.ResourceLogs{{
						Resource:  rl.Resource,
						ScopeLogs: []*logspb.ScopeLogs{{Scope: sl.Scope, LogRecords: []*logspb.LogRecord{lr}}},
					}}}
					m, err := proto.MarshalOptions{Deterministic: true}.Marshal(one)
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, string(m))
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

var receipt = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// both is the whole handler exporting http/protobuf (protowire, wire.go) and http/json
// (the official types' protojson), uncompressed, each to a capture.
type both struct {
	caps [2]*capture
	hs   [2]*ingest.Handler
}

func newBoth(t testing.TB, batch int) *both {
	var b both
	for i, protocol := range []string{otlplogs.ProtocolProtobuf, otlplogs.ProtocolJSON} {
		b.caps[i] = newCapture(t)
		x, err := otlplogs.New(otlplogs.Config{Endpoint: b.caps[i].srv.URL, Protocol: protocol, Compression: otlplogs.CompressionNone, MaxBatchRecords: batch},
			nil, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		b.hs[i] = ingest.New(benchAuth{drains.Drain{ID: "drn_wire", Org: "acme", Env: "prod", State: drains.StateActive}},
			benchBooks{}, benchClaims{}, benchSender{}, ingest.Config{Workers: 2, Export: x, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return receipt }})
	}
	return &b
}

// export delivers body through both handlers and returns each downstream's records.
func (b *both) export(t testing.TB, body []byte) (wire, official []string) {
	t.Helper()
	var rb struct {
		RequestID string `json:"requestId"`
	}
	_ = json.Unmarshal(body, &rb)
	req := benchRequest(body)
	req.Header = func(n string) string {
		switch n {
		case "x-amz-firehose-request-id":
			return rb.RequestID
		case "x-amz-firehose-access-key":
			return "k"
		case "x-amz-firehose-source-arn":
			return sourceARN
		}
		return ""
	}
	var got [2][][]byte
	for i, h := range b.hs {
		b.caps[i].mu.Lock()
		b.caps[i].bodies = nil
		b.caps[i].mu.Unlock()
		resp := h.Handle(context.Background(), req)
		if resp.Status != http.StatusOK && resp.Status != http.StatusBadRequest {
			t.Fatalf("status %d %s", resp.Status, resp.Body)
		}
		got[i] = b.caps[i].bodies
	}
	wire = flatRecords(t, got[0], func(b []byte, m *logspb.LogsData) error { return proto.Unmarshal(b, m) })
	official = flatRecords(t, got[1], func(b []byte, m *logspb.LogsData) error { return protojson.Unmarshal(b, m) })
	return wire, official
}

// TestWireEncodingIsTheOfficialOne: the hand-written http/protobuf body decodes, with the
// official types, to exactly the records the official types build and marshal (the
// http/json path), over the benchmark's delivery and the conformance captures, in small
// and large batches.
func TestWireEncodingIsTheOfficialOne(t *testing.T) {
	// The bench mix at 30 KB: every kind of line, several batches of 3 (make test-long: 300 KB).
	bench, _ := benchDelivery(scale.N(t, 30_000, 300_000))
	bodies := map[string][]byte{"bench": bench}
	for name, b := range captures(t) {
		bodies[name] = b
	}
	rigs := []*both{newBoth(t, 3), newBoth(t, 8192)}
	for name, body := range bodies {
		for i, batch := range []int{3, 8192} {
			wire, official := rigs[i].export(t, body)
			if len(official) == 0 && name == "bench" {
				t.Fatal("nothing exported")
			}
			if want := len(reference(t, body)); len(official) != want {
				t.Errorf("%s: %d records exported, the capture holds %d data events", name, len(official), want)
			}
			if !slices.Equal(wire, official) {
				t.Errorf("%s, batches of %d: the wire encoding gives %d records, the official types %d, or they differ", name, batch, len(wire), len(official))
			}
		}
	}
}

// FuzzWireEncoding: any messages (invalid UTF-8, long, error-class, request ids) give the
// same records on both encodings, and the official types read every request.
func FuzzWireEncoding(f *testing.F) {
	f.Add([]byte("2026-11-21T12:00:00.000Z\taaaaaaaa-1111-4222-8333-444455556666\tERROR\tInvoke Error {\"errorType\":\"TypeError\",\"errorMessage\":\"x\",\"stack\":[\"TypeError: x\",\"    at f (/var/task/a.js:1:1)\"]}"), "/aws/lambda/f", "2026/11/21/[3]abc")
	f.Add([]byte("plain \xff\xfe line\nERROR boom \xc3"), "/ecs/\xffapp", "s\x00")
	f.Add([]byte(""), "", "")
	b := newBoth(f, 2)
	f.Fuzz(func(t *testing.T, msg []byte, group, stream string) {
		var evs []fht.LogEvent
		for i, m := range bytes.SplitAfter(msg, []byte("|")) {
			evs = append(evs, fht.LogEvent{ID: fmt.Sprint(1000 + i), Timestamp: int64(1700000000000 + i), Message: string(m)})
		}
		body := fht.Body("f", fht.Record(group, stream, evs...))
		wire, official := b.export(t, body)
		if !slices.Equal(wire, official) {
			t.Fatalf("the encodings differ: %d and %d records", len(wire), len(official))
		}
	})
}
