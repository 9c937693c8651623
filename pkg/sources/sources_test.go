package sources_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/aient/firehose-drain/internal/testkit/awstest"
	"github.com/aient/firehose-drain/pkg/dedup"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/ingest"
	"github.com/aient/firehose-drain/pkg/sources"
)

const drainID = "drn_src"

func doc(t testing.TB, stream string, n, errs int) []byte {
	t.Helper()
	type ev struct {
		ID        string `json:"id"`
		Timestamp int64  `json:"timestamp"`
		Message   string `json:"message"`
	}
	d := map[string]any{"messageType": "DATA_MESSAGE", "owner": "111122223333", "logGroup": "/aws/lambda/pay", "logStream": stream, "subscriptionFilters": []string{"f"}}
	var evs []ev
	for i := range n {
		msg := fmt.Sprintf("INFO step %d", i)
		if i < errs {
			msg = fmt.Sprintf(`{"level":"ERROR","message":"charge failed %d","error":"CardError","stack":"CardError: charge failed\n    at charge (/var/task/pay.js:9:3)"}`, i)
		}
		evs = append(evs, ev{ID: fmt.Sprintf("%s-%d", stream, i), Timestamp: 1763726400000 + int64(i), Message: msg})
	}
	d["logEvents"] = evs
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type rig struct {
	st     *embedded.Store
	p      *ingest.Pipeline
	failQ  bool
	cfg    sources.Config
	events int
}

// queue counts what reaches the embedded queue, and fails on demand.
type queue struct {
	r *rig
}

func (q queue) Send(ctx context.Context, evs []event.Event) error {
	if q.r.failQ {
		return errors.New("queue down")
	}
	q.r.events += len(evs)
	return q.r.st.Queue().Send(ctx, evs)
}

func newRig(t *testing.T) *rig {
	t.Helper()
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Drains().Create(t.Context(), drains.Drain{ID: drainID, Org: "acme", Env: "prod", State: drains.StateActive, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	r := &rig{st: st}
	r.p = ingest.NewPipeline(st.Drains(), st.Drains(), dedup.New(st.Claims(), dedup.Config{}), queue{r}, ingest.PipelineConfig{})
	r.cfg = sources.Config{Drain: drainID, Region: "eu-central-1"}
	return r
}

func (r *rig) handler(t *testing.T, kind string) sources.Handler {
	t.Helper()
	k, err := sources.Lookup(kind)
	if err != nil {
		t.Fatal(err)
	}
	return k.New(r.p, r.cfg)
}

func (r *rig) source(t *testing.T, kind string) drains.SourceStats {
	t.Helper()
	d, err := r.st.Drains().Get(t.Context(), drainID)
	if err != nil {
		t.Fatal(err)
	}
	return d.Sources[kind]
}

func kinesisEvent(t testing.TB, datas ...[]byte) []byte {
	t.Helper()
	var ev events.KinesisEvent
	for i, d := range datas {
		ev.Records = append(ev.Records, events.KinesisEventRecord{
			AwsRegion: "eu-west-1", EventSource: "aws:kinesis", EventName: "aws:kinesis:record",
			EventSourceArn: "arn:aws:kinesis:eu-west-1:111122223333:stream/cw-logs",
			EventID:        fmt.Sprintf("shardId-000000000000:4959%040d", i),
			Kinesis:        events.KinesisRecord{Data: d, PartitionKey: "p", SequenceNumber: fmt.Sprintf("4959%040d", i), KinesisSchemaVersion: "1.0"},
		})
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKinesisReportsTheBadSequenceNumberAndARetrySendsNothingNew(t *testing.T) {
	r := newRig(t)
	h := r.handler(t, drains.SourceKinesis)
	payload := kinesisEvent(t, gz(t, doc(t, "a", 4, 2)), []byte("not a CloudWatch payload"), gz(t, doc(t, "b", 3, 1)))
	answer := func() []string {
		out, err := h(t.Context(), payload)
		if err != nil {
			t.Fatal(err)
		}
		var resp events.KinesisEventResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("answer %s: %v", out, err)
		}
		var ids []string
		for _, f := range resp.BatchItemFailures {
			ids = append(ids, f.ItemIdentifier)
		}
		return ids
	}
	bad := fmt.Sprintf("4959%040d", 1)
	if got := answer(); !slices.Equal(got, []string{bad}) {
		t.Fatalf("batchItemFailures %v, want [%s]", got, bad)
	}
	if r.events != 3 {
		t.Fatalf("queued %d events, want 3", r.events)
	}
	if got := answer(); !slices.Equal(got, []string{bad}) || r.events != 3 {
		t.Fatalf("the retried batch: failures %v, queued %d in all", got, r.events)
	}
	if k := r.source(t, drains.SourceKinesis); k.Deliveries != 2 || k.Rejected != 2 || k.ErrorEvents != 6 || k.LastError == nil || !strings.Contains(k.LastError.Reason, bad) {
		t.Errorf("kinesis bookkeeping %+v", k)
	}

	t.Run("a queue outage names every record with error events", func(t *testing.T) {
		r.failQ = true
		defer func() { r.failQ = false }()
		payload = kinesisEvent(t, gz(t, doc(t, "c", 2, 1)), gz(t, doc(t, "d", 2, 0)))
		if got := answer(); !slices.Equal(got, []string{fmt.Sprintf("4959%040d", 0)}) {
			t.Errorf("failures %v", got)
		}
	})
	t.Run("a source bound to no drain fails the invocation", func(t *testing.T) {
		cfg := r.cfg
		cfg.Drain = "drn_missing"
		k, _ := sources.Lookup(drains.SourceKinesis)
		if _, err := k.New(r.p, cfg)(t.Context(), payload); !errors.Is(err, ingest.ErrUnbound) {
			t.Errorf("err %v, want ErrUnbound", err)
		}
	})
	t.Run("an event that is not a Kinesis event is an error", func(t *testing.T) {
		if _, err := h(t.Context(), []byte(`{"Records": 3}`)); err == nil {
			t.Error("no error")
		}
	})
}

func subscriptionEvent(data []byte) []byte {
	b, _ := json.Marshal(events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: base64.StdEncoding.EncodeToString(data)}})
	return b
}

func TestSubscription(t *testing.T) {
	r := newRig(t)
	h := r.handler(t, drains.SourceSubscription)
	summary := func(payload []byte) (sources.Summary, error) {
		out, err := h(t.Context(), payload)
		var s sources.Summary
		if err == nil {
			if jerr := json.Unmarshal(out, &s); jerr != nil {
				t.Fatalf("answer %s: %v", out, jerr)
			}
		}
		return s, err
	}
	ev := subscriptionEvent(gz(t, doc(t, "a", 5, 2)))
	s, err := summary(ev)
	if err != nil || s.Events != 5 || s.ErrorEvents != 2 || s.Sent != 2 || s.Rejected != 0 {
		t.Fatalf("summary %+v, %v", s, err)
	}
	if s, err = summary(ev); err != nil || s.Sent != 0 || s.Duplicates != 2 || r.events != 2 {
		t.Fatalf("redelivered: %+v, %v (queued %d)", s, err, r.events)
	}
	// A payload that can never decode is counted, not retried.
	if s, err = summary(subscriptionEvent([]byte("\x1f\x8bnot really"))); err != nil || s.Rejected != 1 || len(s.Errors) != 1 {
		t.Fatalf("bad payload: %+v, %v", s, err)
	}
	// A queue outage fails the invocation so Lambda retries it.
	r.failQ = true
	if _, err = summary(subscriptionEvent(gz(t, doc(t, "b", 1, 1)))); !errors.Is(err, ingest.ErrUnavailable) {
		t.Fatalf("queue down: %v", err)
	}
	r.failQ = false
	if k := r.source(t, drains.SourceSubscription); k.Deliveries != 4 || k.Rejected != 1 {
		t.Errorf("subscription bookkeeping %+v", k)
	}
	// The events keep their own account; the region is the function's.
	msgs, err := r.st.Queue().Receive(t.Context(), 10, time.Minute)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("queue: %d, %v", len(msgs), err)
	}
	for _, m := range msgs {
		if m.Event.Account != "111122223333" || m.Event.Region != "eu-central-1" || m.Event.Org != "acme" {
			t.Errorf("queued %+v", m.Event)
		}
	}
}

// TestS3OnMoto streams objects from moto's S3 with the real SDK.
func TestS3OnMoto(t *testing.T) {
	m := awstest.Start(t)
	client := s3.NewFromConfig(m.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	ctx := t.Context()
	const bucket = "cw-archive"
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	put := func(key string, body []byte) {
		t.Helper()
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	// What Firehose writes to S3 from a CloudWatch Logs subscription: the records' gzip
	// members concatenated.
	first := doc(t, "a", 6, 3)
	put("logs/2026/11/21/firehose-1 with space.gz", append(gz(t, first), gz(t, doc(t, "b", 4, 1))...))
	// Plain, pretty, newline-separated, with a truncated last document.
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, doc(t, "c", 3, 2), "", "  "); err != nil {
		t.Fatal(err)
	}
	pretty.WriteString("\n")
	cut := pretty.Len()
	pretty.Write(doc(t, "d", 5, 5)[:60])
	put("logs/2026/11/21/plain.json", pretty.Bytes())
	put("other/ignored.gz", gz(t, doc(t, "e", 1, 1)))

	r := newRig(t)
	r.cfg.Objects = client
	r.cfg.Prefix = "logs/"
	h := r.handler(t, drains.SourceS3)
	notification := func(keys ...string) []byte {
		var ev events.S3Event
		for _, k := range keys {
			ev.Records = append(ev.Records, events.S3EventRecord{
				EventSource: "aws:s3", EventName: "ObjectCreated:Put", AWSRegion: "us-west-2",
				S3: events.S3Entity{Bucket: events.S3Bucket{Name: bucket}, Object: events.S3Object{Key: strings.ReplaceAll(k, " ", "+")}},
			})
		}
		b, _ := json.Marshal(ev)
		return b
	}
	summary := func(payload []byte) sources.Summary {
		t.Helper()
		out, err := h(ctx, payload)
		if err != nil {
			t.Fatal(err)
		}
		var s sources.Summary
		if err := json.Unmarshal(out, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := summary(notification("logs/2026/11/21/firehose-1 with space.gz", "logs/2026/11/21/plain.json", "other/ignored.gz"))
	if s.Objects != 2 || s.Skipped != 1 || s.Documents != 4 || s.ErrorEvents != 4+2 || s.Sent != 6 || s.Rejected != 1 || len(s.Errors) != 1 {
		t.Fatalf("summary %+v", s)
	}
	if e := s.Errors[0]; !strings.Contains(e, bucket+"/logs/2026/11/21/plain.json") || !strings.Contains(e, fmt.Sprintf("byte %d", cut)) {
		t.Errorf("error %q: want the object and the offset %d", e, cut)
	}

	// The same object announced by EventBridge is a no-op.
	eb, _ := json.Marshal(map[string]any{
		"version": "0", "id": "1", "detail-type": "Object Created", "source": "aws.s3", "account": "111122223333",
		"time": "2026-11-21T12:00:00Z", "region": "us-west-2", "resources": []string{"arn:aws:s3:::" + bucket},
		"detail": map[string]any{"bucket": map[string]string{"name": bucket}, "object": map[string]any{"key": "logs/2026/11/21/firehose-1 with space.gz", "size": 10}},
	})
	if s := summary(eb); s.Objects != 1 || s.Sent != 0 || s.Duplicates != 4 {
		t.Errorf("EventBridge redelivery %+v", s)
	}
	if r.events != 6 {
		t.Errorf("queued %d events, want 6", r.events)
	}
	if k := r.source(t, drains.SourceS3); k.Deliveries != 3 || k.Rejected != 1 {
		t.Errorf("s3 bookkeeping %+v", k)
	}
	// A missing object fails the invocation (S3 retries it).
	if _, err := h(ctx, notification("logs/missing.gz")); err == nil {
		t.Error("a missing object: no error")
	}
}

func TestLookupUnknownKind(t *testing.T) {
	if _, err := sources.Lookup("carrier-pigeon"); err == nil {
		t.Fatal("no error")
	}
	for _, k := range sources.Kinds {
		if !drains.ValidSource(k.Name) {
			t.Errorf("kind %q is not a drains source kind", k.Name)
		}
	}
}
