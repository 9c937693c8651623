package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aient/firehose-drain/internal/testkit/awstest"
	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
	"github.com/aient/firehose-drain/internal/testkit/logtest"
	"github.com/aient/firehose-drain/pkg/dedup"
	dedupddb "github.com/aient/firehose-drain/pkg/dedup/ddb"
	"github.com/aient/firehose-drain/pkg/drains"
	drainsddb "github.com/aient/firehose-drain/pkg/drains/ddb"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/grouper"
	"github.com/aient/firehose-drain/pkg/ingest"
	"github.com/aient/firehose-drain/pkg/sqsqueue"
)

// countingTransport counts DynamoDB UpdateItem calls on the drains table.
type countingTransport struct {
	next          http.RoundTripper
	drainsUpdates atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("X-Amz-Target") == "DynamoDB_20120810.UpdateItem" && r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		if bytes.Contains(b, []byte(`"TableName":"drains"`)) {
			c.drainsUpdates.Add(1)
		}
	}
	return c.next.RoundTrip(r)
}

// awsRig is the ingest over the real adapters: DynamoDB drains and claims, SQS, all moto.
type awsRig struct {
	db       *dynamodb.Client
	sqs      *sqs.Client
	queueURL string
	svc      *drains.Service
	counter  *countingTransport
	logs     *logtest.Buffer
	now      time.Time
	mu       sync.Mutex
}

func (r *awsRig) clock() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now
}

func (r *awsRig) advance(d time.Duration) {
	r.mu.Lock()
	r.now = r.now.Add(d)
	r.mu.Unlock()
}

func newAWSRig(t *testing.T) (*awsRig, func(ingest.Sender) *ingest.Handler) {
	t.Helper()
	m := awstest.Start(t)
	ctx := context.Background()
	counter := &countingTransport{next: m.Transport()}
	cfg := m.ConfigWith(counter)
	db := dynamodb.NewFromConfig(cfg)
	q := sqs.NewFromConfig(cfg)
	if err := drainsddb.CreateTable(ctx, db, "drains"); err != nil {
		t.Fatal(err)
	}
	if err := dedupddb.CreateTable(ctx, db, "claims"); err != nil {
		t.Fatal(err)
	}
	qo, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("events")})
	if err != nil {
		t.Fatal(err)
	}
	r := &awsRig{
		db: db, sqs: q, queueURL: *qo.QueueUrl, counter: counter,
		now: time.Now().UTC().Truncate(time.Millisecond),
	}
	pepper := drains.PepperFunc(func(context.Context) ([]byte, error) { return []byte("pepper-from-secrets-manager"), nil })
	store := drainsddb.New(db, "drains")
	r.svc = drains.NewService(store, pepper, drains.Config{Now: r.clock})
	claims := dedup.New(dedupddb.New(db, "claims"), dedup.Config{Now: r.clock, Lease: time.Minute})
	var log *slog.Logger
	log, r.logs = logtest.Logger()
	build := func(s ingest.Sender) *ingest.Handler {
		if s == nil {
			s = sqsqueue.New(q, r.queueURL)
		}
		return ingest.New(r.svc, store, claims, s, ingest.Config{Now: r.clock, Logger: log})
	}
	return r, build
}

func deliverTo(h *ingest.Handler, id, key string, body []byte) int {
	var b struct {
		RequestID string `json:"requestId"`
	}
	_ = json.Unmarshal(body, &b)
	hdr := map[string]string{"x-amz-firehose-request-id": b.RequestID, "x-amz-firehose-access-key": key}
	return h.Handle(context.Background(), ingest.Request{
		Method: "POST", Path: "/aws/firehose/" + id, Body: body,
		Header: func(n string) string { return hdr[n] },
	}).Status
}

// drainQueue receives every message on the queue.
func (r *awsRig) drainQueue(t *testing.T) []event.Event {
	t.Helper()
	var out []event.Event
	for {
		m, err := r.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &r.queueURL, MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Messages) == 0 {
			return out
		}
		for _, msg := range m.Messages {
			evs, err := grouper.Decode([]byte(*msg.Body)) // one event or several packed
			if err != nil {
				t.Fatalf("queued message %q is not what the grouper reads: %v", *msg.Body, err)
			}
			out = append(out, evs...)
			if _, err := r.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: &r.queueURL, ReceiptHandle: msg.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

type failingSender struct{}

func (f *failingSender) Send(context.Context, []event.Event) error {
	return sqsqueue.ErrUnavailable
}

func TestOnAWSRetriesAndConcurrentDeliveriesSendEachErrorOnce(t *testing.T) {
	r, build := newAWSRig(t)
	h := build(nil)
	ctx := context.Background()
	d, key, err := r.svc.Create(ctx, "acme", "prod")
	if err != nil {
		t.Fatal(err)
	}
	body := fht.Body("req-1", fht.Record("/aws/lambda/pay", "s", fht.ErrorEvent(1), fht.InfoEvent(1), fht.ErrorEvent(2), fht.OtherErrorEvent(1)))

	// Two deliveries of the same batch at the same time, then a retry.
	var wg sync.WaitGroup
	var statuses [2]int
	for i := range statuses {
		wg.Go(func() { statuses[i] = deliverTo(h, d.ID, key, body) })
	}
	wg.Wait()
	for _, st := range statuses {
		if st != 200 && st != 503 {
			t.Fatalf("concurrent deliveries answered %v", statuses)
		}
	}
	if st := deliverTo(h, d.ID, key, body); st != 200 {
		t.Fatalf("retry answered %d", st)
	}
	got := r.drainQueue(t)
	if len(got) != 3 {
		t.Fatalf("%d messages on the queue, want the 3 error events once each", len(got))
	}

	// Another drain delivering identical events is its own tenant: nothing is suppressed.
	d2, key2, _ := r.svc.Create(ctx, "other", "prod")
	if st := deliverTo(h, d2.ID, key2, body); st != 200 {
		t.Fatalf("second drain answered %d", st)
	}
	if got := r.drainQueue(t); len(got) != 3 || got[0].Org != "other" {
		t.Fatalf("second drain's events on the queue: %d %+v", len(got), got)
	}
}

func TestOnAWSAFailingSendReleasesTheClaimsAndTheRetrySendsEverything(t *testing.T) {
	r, build := newAWSRig(t)
	ctx := context.Background()
	d, key, _ := r.svc.Create(ctx, "acme", "prod")
	body := fht.Body("req-1", fht.Record("/aws/lambda/pay", "s", fht.ErrorEvent(1), fht.ErrorEvent(2)))
	if st := deliverTo(build(&failingSender{}), d.ID, key, body); st != 503 {
		t.Fatalf("with SQS failing the delivery answered %d, want 503", st)
	}
	if st := deliverTo(build(nil), d.ID, key, body); st != 200 {
		t.Fatalf("retry answered %d", st)
	}
	if got := r.drainQueue(t); len(got) != 2 {
		t.Fatalf("the retry sent %d events, want 2", len(got))
	}
}

// A delivery that died after claiming (never sent, never committed) holds its claims until
// the lease ends: retries meanwhile answer 503; after it, the retry re-claims and sends.
func TestOnAWSACrashedDeliveryIsReclaimedAfterItsLease(t *testing.T) {
	r, build := newAWSRig(t)
	ctx := context.Background()
	d, key, _ := r.svc.Create(ctx, "acme", "prod")
	e := fht.ErrorEvent(1)
	body := fht.Body("req-1", fht.Record("/aws/lambda/pay", "s", e))
	crashed := dedup.New(dedupddb.New(r.db, "claims"), dedup.Config{Now: r.clock, Lease: time.Minute})
	id := event.Identity(d.ID, fht.Owner, "/aws/lambda/pay", "s", e.ID)
	if _, err := crashed.Claim(ctx, []string{id}); err != nil {
		t.Fatal(err)
	}
	h := build(nil)
	if st := deliverTo(h, d.ID, key, body); st != 503 {
		t.Fatalf("during the crashed delivery's lease: %d, want 503", st)
	}
	r.advance(time.Minute + time.Second)
	if st := deliverTo(h, d.ID, key, body); st != 200 {
		t.Fatalf("after the lease: %d, want 200", st)
	}
	if got := r.drainQueue(t); len(got) != 1 {
		t.Fatalf("%d events sent, want 1", len(got))
	}
}

// The drain lifecycle of issue 4 on DynamoDB: receiving, rotation with grace, revocation,
// a flood of bad keys, and the key never stored or logged.
func TestOnAWSTheDrainLifecycle(t *testing.T) {
	r, build := newAWSRig(t)
	h := build(nil)
	ctx := context.Background()
	d, oldKey, err := r.svc.Create(ctx, "acme", "prod")
	if err != nil {
		t.Fatal(err)
	}
	body := fht.Body("req-1", fht.Record("/aws/lambda/pay", "s", fht.InfoEvent(1)))
	if st := deliverTo(h, d.ID, oldKey, body); st != 200 {
		t.Fatalf("delivery answered %d", st)
	}
	got, _ := r.svc.Store().Get(ctx, d.ID)
	if s := drains.StatusOf(got, r.clock(), ""); s.Status != drains.StatusReceiving || s.Counters.Events != 1 {
		t.Fatalf("after a delivery: %+v", s)
	}

	// Rotate with a grace period: both keys work, then only the new one.
	_, newKey, err := r.svc.Rotate(ctx, d.ID, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	r.advance(3 * time.Second) // past the drain cache
	for name, k := range map[string]string{"old": oldKey, "new": newKey} {
		if st := deliverTo(h, d.ID, k, body); st != 200 {
			t.Errorf("within the grace period the %s key answered %d", name, st)
		}
	}
	r.advance(10 * time.Minute)
	if st := deliverTo(h, d.ID, oldKey, body); st != 401 {
		t.Errorf("after the grace period the old key answered %d, want 401", st)
	}
	if st := deliverTo(h, d.ID, newKey, body); st != 200 {
		t.Errorf("after the grace period the new key answered %d", st)
	}

	// A flood of 1,000 bad keys over 30 seconds writes at most one auth-failure update.
	r.advance(2 * time.Minute)
	before := r.counter.drainsUpdates.Load()
	for i := 0; i < 1000; i++ {
		r.advance(30 * time.Millisecond)
		if st := deliverTo(h, d.ID, "fhd_guess", body); st != 401 {
			t.Fatalf("bad key answered %d", st)
		}
	}
	if n := r.counter.drainsUpdates.Load() - before; n != 1 {
		t.Fatalf("the flood made %d UpdateItem calls on the drains table, want 1", n)
	}
	got, _ = r.svc.Store().Get(ctx, d.ID)
	if s := drains.StatusOf(got, r.clock(), ""); s.Alert != drains.AlertAuth || s.LastAuthError == nil {
		t.Fatalf("after the flood: %+v", s)
	}

	// Revoke: the next request is refused.
	if err := r.svc.Revoke(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if st := deliverTo(h, d.ID, newKey, body); st != 403 {
		t.Fatalf("after revoke the key answered %d, want 403", st)
	}

	// The keys never appear in a stored item or a log line.
	items, err := r.db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("drains")})
	if err != nil {
		t.Fatal(err)
	}
	dump, _ := json.Marshal(items.Items)
	logs := r.logs.String()
	for _, k := range []string{oldKey, newKey} {
		secret := strings.TrimPrefix(k, drains.KeyPrefix)
		if strings.Contains(string(dump), secret) {
			t.Error("a stored drain item holds an access key")
		}
		if strings.Contains(logs, secret) {
			t.Error("a log line holds an access key")
		}
	}
	if !strings.Contains(logs, "firehose delivery") {
		t.Fatal("no log lines were captured: the leak check above proves nothing")
	}
}
