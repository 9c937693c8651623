package otlplogs_test

// The bound sources (Kinesis, S3, a direct subscription) export through the shared
// ingest.Pipeline exactly as the Firehose endpoint does: the same mapping, checked at the
// Collector's own receiver, and the same retry semantics (a failed export makes the item,
// object or event retry; a partialSuccess is counted, not retried).

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/aient/firehose-drain/pkg/dedup"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/ingest"
	"github.com/aient/firehose-drain/pkg/otlplogs"
	"github.com/aient/firehose-drain/pkg/sources"
)

// objects is an in-memory S3 bucket (sources.ObjectGetter).
type objects struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (o *objects) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	b, ok := o.m[*in.Bucket+"/"+*in.Key]
	if !ok {
		return nil, fmt.Errorf("no such key %s/%s", *in.Bucket, *in.Key)
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(b))}, nil
}

// sourceRig is every source kind's handler over one pipeline exporting to endpoint; its
// rig (drain, store, receipt time, recorder) is what check reads.
type sourceRig struct {
	*rig
	handlers map[string]sources.Handler
	objs     *objects
	n        int
}

func newSourceRig(t *testing.T, cfg otlplogs.Config) *sourceRig {
	t.Helper()
	r, _, quiet := baseRig(t, cfg)
	st := r.store
	p := ingest.NewPipeline(st.Drains(), st.Drains(), dedup.New(st.Claims(), dedup.Config{}), r.sent, ingest.PipelineConfig{
		Now: func() time.Time { return r.now }, Export: r.export, Logger: quiet,
	})
	sr := &sourceRig{rig: r, handlers: map[string]sources.Handler{}, objs: &objects{m: map[string][]byte{}}}
	for _, k := range sources.Kinds {
		sr.handlers[k.Name] = k.New(p, sources.Config{Drain: r.drain.ID, Region: "us-east-2", Objects: sr.objs, Logger: quiet})
	}
	return sr
}

// recordsOf returns the record data (base64 of gzip documents) of a Firehose body.
func recordsOf(t *testing.T, body []byte) []string {
	t.Helper()
	var b struct {
		Records []struct {
			Data string `json:"data"`
		} `json:"records"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(b.Records))
	for i, r := range b.Records {
		out[i] = r.Data
	}
	return out
}

func unbase64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// deliver hands the records to a source the way its trigger would: one Kinesis batch, one
// S3 object of concatenated gzip members, one subscription invocation per record. It
// returns what the source asks to have retried (failed sequence numbers; the S3 or
// subscription invocation errors).
func (r *sourceRig) deliver(t *testing.T, kind string, recs []string) []string {
	t.Helper()
	ctx := context.Background()
	h := r.handlers[kind]
	var retry []string
	switch kind {
	case drains.SourceKinesis:
		var ev events.KinesisEvent
		for i, rec := range recs {
			ev.Records = append(ev.Records, events.KinesisEventRecord{
				AwsRegion: "us-east-2", EventSource: "aws:kinesis", EventID: fmt.Sprintf("shardId-000000000000:4959%040d", i),
				Kinesis: events.KinesisRecord{Data: unbase64(t, rec), SequenceNumber: fmt.Sprintf("4959%040d", i)},
			})
		}
		payload, _ := json.Marshal(ev)
		out, err := h(ctx, payload)
		if err != nil {
			t.Fatalf("kinesis handler: %v", err)
		}
		var resp events.KinesisEventResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatal(err)
		}
		for _, f := range resp.BatchItemFailures {
			retry = append(retry, f.ItemIdentifier)
		}
	case drains.SourceS3:
		var obj bytes.Buffer
		for _, rec := range recs {
			obj.Write(unbase64(t, rec))
		}
		r.n++
		key := fmt.Sprintf("logs/object-%d.gz", r.n)
		r.objs.mu.Lock()
		r.objs.m["cw-archive/"+key] = obj.Bytes()
		r.objs.mu.Unlock()
		payload, _ := json.Marshal(events.S3Event{Records: []events.S3EventRecord{{
			EventSource: "aws:s3", EventName: "ObjectCreated:Put", AWSRegion: "us-east-2",
			S3: events.S3Entity{Bucket: events.S3Bucket{Name: "cw-archive"}, Object: events.S3Object{Key: key}},
		}}})
		if _, err := h(ctx, payload); err != nil {
			retry = append(retry, err.Error())
		}
	case drains.SourceSubscription:
		for _, rec := range recs {
			payload, _ := json.Marshal(map[string]any{"awslogs": map[string]string{"data": rec}})
			if _, err := h(ctx, payload); err != nil {
				retry = append(retry, err.Error())
			}
		}
	default:
		t.Fatalf("no delivery for source kind %q", kind)
	}
	return retry
}

var sourceKinds = []string{drains.SourceKinesis, drains.SourceS3, drains.SourceSubscription}

// TestSourcesExportLikeTheFirehoseEndpoint: every data event a source delivers reaches the
// Collector with the whole mapping of item 2, the same log.record.uid as through Firehose.
func TestSourcesExportLikeTheFirehoseEndpoint(t *testing.T) {
	caps := captures(t)
	bodies := map[string][]byte{"synthetic/errors": caps["synthetic/errors"]}
	bodies["burst"], _, _ = burst(3, 10)
	for _, kind := range sourceKinds {
		t.Run(kind, func(t *testing.T) {
			col := startCollector(t)
			r := newSourceRig(t, otlplogs.Config{Endpoint: col.url(), MaxBatchRecords: 4})
			for name, body := range bodies {
				col.sink.Reset()
				if retry := r.deliver(t, kind, recordsOf(t, body)); len(retry) > 0 {
					t.Fatalf("%s: the source asks for a retry: %v", name, retry)
				}
				want := reference(t, body)
				if len(want) == 0 {
					t.Fatalf("%s: no reference events", name)
				}
				check(t, r.rig, col.records(), want)
			}
			d, err := r.store.Drains().Get(context.Background(), r.drain.ID)
			if err != nil {
				t.Fatal(err)
			}
			if d.Counters.LogsRejected != 0 || d.Sources[kind].Deliveries == 0 {
				t.Errorf("drain after the deliveries: logsRejected %d, %s deliveries %d", d.Counters.LogsRejected, kind, d.Sources[kind].Deliveries)
			}
		})
	}
}

// TestSourcesRetryWhenTheDownstreamFails: a downstream that fails part way (503, a reset
// connection) makes every Kinesis record with events a batch item failure, the S3 object
// and the subscription event fail their invocations; the retry exports every record again
// with the same log.record.uid, and each error event is sent downstream once.
func TestSourcesRetryWhenTheDownstreamFails(t *testing.T) {
	for _, kind := range sourceKinds {
		for _, mode := range []string{"503", "reset"} {
			t.Run(kind+"/"+mode, func(t *testing.T) {
				col := startCollector(t)
				px := newProxy(t, col)
				r := newSourceRig(t, otlplogs.Config{Endpoint: px.url, MaxBatchRecords: 7, Concurrency: 1, Timeout: 2 * time.Second})
				body, events, errs := burst(6, 10)
				recs := recordsOf(t, body)
				px.mode.Store(mode)
				px.failNth.Store(2) // the first batch gets through, then the downstream fails
				retry := r.deliver(t, kind, recs)
				switch kind {
				case drains.SourceKinesis:
					if len(retry) != len(recs) {
						t.Fatalf("kinesis: %d batch item failures %v, want every record (%d)", len(retry), retry, len(recs))
					}
				default:
					if len(retry) == 0 || !strings.Contains(retry[0], "OTLP") {
						t.Fatalf("%s: invocation errors %v, want a failure naming the OTLP export", kind, retry)
					}
				}
				first := uids(col.records())
				if len(first) == 0 {
					t.Fatal("nothing reached the collector before the failure")
				}

				px.mode.Store("pass")
				px.n.Store(0)
				if retry := r.deliver(t, kind, recs); len(retry) > 0 {
					t.Fatalf("retry: %v", retry)
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
				sent := r.sent.identities()
				if len(sent) != errs {
					t.Errorf("%d distinct error events sent downstream, want %d", len(sent), errs)
				}
				for id, n := range sent {
					if n != 1 {
						t.Errorf("error event %s sent %d times over the two attempts", id, n)
					}
				}
			})
		}
	}
}

// TestSourcesCountPartialSuccess: records a partialSuccess rejected are counted on the
// drain with the reason, and the source asks for no retry.
func TestSourcesCountPartialSuccess(t *testing.T) {
	for _, kind := range sourceKinds {
		t.Run(kind, func(t *testing.T) {
			col := startCollector(t)
			px := newProxy(t, col)
			r := newSourceRig(t, otlplogs.Config{Endpoint: px.url, MaxBatchRecords: 1000})
			body, _, _ := burst(1, 10)
			px.mode.Store("partial")
			if retry := r.deliver(t, kind, recordsOf(t, body)); len(retry) > 0 {
				t.Fatalf("partialSuccess: the source asks for a retry: %v", retry)
			}
			d, err := r.store.Drains().Get(context.Background(), r.drain.ID)
			if err != nil {
				t.Fatal(err)
			}
			if d.Counters.LogsRejected != 2*px.n.Load() || d.LastLogsRejected == nil || !strings.Contains(d.LastLogsRejected.Reason, "size limit") {
				t.Errorf("logsRejected %d (want 2 per batch, %d batches), last %+v", d.Counters.LogsRejected, px.n.Load(), d.LastLogsRejected)
			}
		})
	}
}
