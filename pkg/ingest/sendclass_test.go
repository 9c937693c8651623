package ingest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aient/firehose-drain/internal/testkit/awstest"
	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
	"github.com/aient/firehose-drain/pkg/dedup"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/ingest"
	"github.com/aient/firehose-drain/pkg/sqsqueue"
)

// A send error keeps its class up to the answer, as a claim error does: a queue that does
// not exist (moto, the real SDK) is 500 "a retry does not cure it by itself", not 503; the
// claims are released either way, so the retry to a working queue sends everything.
func TestOnAWSASendToAQueueThatDoesNotExistAnswers500AndReleases(t *testing.T) {
	r, build := newAWSRig(t)
	d, key, _ := r.svc.Create(context.Background(), "acme", "prod")
	body := fht.Body("req-1", fht.Record("/aws/lambda/pay", "s", fht.ErrorEvent(1), fht.ErrorEvent(2)))
	missing := strings.TrimSuffix(r.queueURL, "events") + "no-such-queue"
	var b struct {
		RequestID string `json:"requestId"`
	}
	_ = json.Unmarshal(body, &b)
	hdr := map[string]string{"x-amz-firehose-request-id": b.RequestID, "x-amz-firehose-access-key": key}
	resp := build(sqsqueue.New(r.sqs, missing)).Handle(context.Background(), ingest.Request{
		Method: "POST", Path: "/aws/firehose/" + d.ID, Body: body,
		Header: func(n string) string { return hdr[n] },
	})
	a := decodeAnswer(t, resp.Status, resp.Body)
	if a.Status != 500 || !strings.Contains(a.ErrorMessage, "queue failed") || !strings.Contains(a.ErrorMessage, "does not cure") {
		t.Fatalf("with the queue missing: %d %q, want 500 saying the queue failed and a retry does not cure it", a.Status, a.ErrorMessage)
	}
	if st := deliverTo(build(nil), d.ID, key, body); st != 200 {
		t.Fatalf("retry to the real queue answered %d, want 200", st)
	}
	if got := r.drainQueue(t); len(got) != 2 {
		t.Fatalf("the retry sent %d events, want 2", len(got))
	}
}

// The real sender against an SQS that answers each class: throttled and 5xx are 503 with
// their reason, access denied is 500.
func TestSendFailuresAnswerByTheirClass(t *testing.T) {
	for _, c := range []struct {
		name, code string
		answer     int // SQS's HTTP status
		status     int // the ingest's
		msg        string
	}{
		{"throttled", "RequestThrottled", 400, 503, "queue throttled; retry"},
		{"unavailable", "InternalError", 500, 503, "queue unavailable; retry"},
		{"access denied", "AccessDenied", 400, 500, "queue failed with an error a retry does not cure by itself"},
		{"a disabled KMS key", "KmsDisabled", 400, 500, "queue failed with an error a retry does not cure by itself"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newDeadlineRig(t)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/x-amz-json-1.0")
				w.WriteHeader(c.answer)
				fmt.Fprintf(w, `{"__type":"com.amazonaws.sqs#%s","message":"refused"}`, c.code)
			}))
			t.Cleanup(srv.Close)
			client := sqs.NewFromConfig(aws.Config{
				Region:           awstest.Region,
				Credentials:      credentials.NewStaticCredentialsProvider("testing", "testing", ""),
				BaseEndpoint:     aws.String(srv.URL),
				RetryMaxAttempts: 1,
			})
			auth := &fakeAuth{
				drains: map[string]drains.Drain{drainID: {ID: drainID, Org: "acme", Env: "prod", State: drains.StateActive}},
				keys:   map[string]string{drainID: key},
			}
			r.h = ingest.New(auth, r.books, dedup.New(r.store, dedup.Config{Lease: time.Hour, Concurrency: 1}), sqsqueue.New(client, srv.URL+"/123456789012/events"), ingest.Config{})
			a := r.deliver(t)
			if a.Status != c.status || !strings.Contains(a.ErrorMessage, c.msg) {
				t.Fatalf("answer %d %q, want %d %q", a.Status, a.ErrorMessage, c.status, c.msg)
			}
			if held := r.store.inflight(); len(held) != 0 {
				t.Fatalf("claims %v left in flight after the failed send", held)
			}
		})
	}
}

// permanentSender fails every send as a queue that does not exist does.
type permanentSender struct{}

func (permanentSender) Send(_ context.Context, evs []event.Event) error {
	return &sqsqueue.Error{Queue: "q", NotSent: len(evs), Of: len(evs), Err: errors.New("QueueDoesNotExist")}
}

// The sources name a permanent queue failure ErrQueueFailed (retried, but not cured by
// waiting), not ErrUnavailable; the claims are released as for any failed send.
func TestPipelineAPermanentQueueFailureIsNamedSo(t *testing.T) {
	r := newPipeRig(t)
	r.p = ingest.NewPipeline(r.store, r.store, r.claims, permanentSender{}, ingest.PipelineConfig{Now: func() time.Time { return r.now }, FlushEvents: 2})
	res := r.p.Deliver(t.Context(), kinesisBatch(t))
	for _, i := range []int{0, 2} {
		if it := res.Items[i]; !it.Retry || !errors.Is(it.Err, ingest.ErrQueueFailed) || errors.Is(it.Err, ingest.ErrUnavailable) {
			t.Errorf("item %d: %+v, want retried with ErrQueueFailed, not ErrUnavailable", i, it)
		}
	}
	if r.claims.released != 3 || res.Sent != 0 {
		t.Errorf("released %d, sent %d", r.claims.released, res.Sent)
	}
}
