package sqsqueue_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aient/firehose-drain/internal/testkit/awstest"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/sqsqueue"
)

func events(n int, msg func(i int) string) []event.Event {
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i] = sample(msg(i))
		evs[i].ID = fmt.Sprintf("3799%016d", i)
	}
	return evs
}

func TestSendDeliversEveryEventAndTruncatesTheHugeOne(t *testing.T) {
	m := awstest.Start(t)
	ctx := context.Background()
	client := sqs.NewFromConfig(m.Config())
	q, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("events")})
	if err != nil {
		t.Fatal(err)
	}
	// 1 MB of mixed-width text, so the cut lands among multi-byte runes.
	huge := strings.Repeat("Traceback: é€😀 <tag> \"q\"\n", 1_000_000/33)
	evs := events(25, func(i int) string { return fmt.Sprintf("ERROR request %d failed: timeout é", i) })
	evs[7].Message = huge

	if err := sqsqueue.New(client, aws.ToString(q.QueueUrl), sqsqueue.WithPacking(1, 0)).Send(ctx, evs); err != nil {
		t.Fatalf("Send: %v", err)
	}

	byID := map[string]event.Event{}
	var hugeBody int
	deadline := time.Now().Add(20 * time.Second)
	for len(byID) < len(evs) && time.Now().Before(deadline) {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range out.Messages {
			body := aws.ToString(msg.Body)
			e := decodeMessage(t, []byte(body))
			if _, dup := byID[e.ID]; dup {
				t.Fatalf("event %s received twice", e.ID)
			}
			byID[e.ID] = e
			if e.ID == evs[7].ID {
				hugeBody = len(body)
			}
		}
	}
	if len(byID) != len(evs) {
		t.Fatalf("received %d events, want %d", len(byID), len(evs))
	}
	for i, want := range evs {
		got := byID[want.ID]
		if i == 7 {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("event %d arrived as %+v, want %+v", i, got, want)
		}
	}
	got := byID[evs[7].ID]
	if !got.Truncated || !strings.HasPrefix(huge, got.Message) || !utf8.ValidString(got.Message) {
		t.Fatalf("huge event: truncated %t, message a prefix %t, valid UTF-8 %t; want all true",
			got.Truncated, strings.HasPrefix(huge, got.Message), utf8.ValidString(got.Message))
	}
	if hugeBody > sqsqueue.MaxMessageBytes || hugeBody < sqsqueue.MaxMessageBytes-32 {
		t.Fatalf("huge event's body is %d bytes, want just under %d", hugeBody, sqsqueue.MaxMessageBytes)
	}
	got.Message, got.Truncated = evs[7].Message, false
	if !reflect.DeepEqual(got, evs[7]) {
		t.Fatalf("huge event's other fields changed: %+v", got)
	}
}

// A queue that does not exist is a permanent failure (a retry does not cure it by itself),
// on moto as on SQS: the error is an *sqsqueue.Error without ErrUnavailable.
func TestSendToAQueueThatDoesNotExistIsPermanent(t *testing.T) {
	m := awstest.Start(t)
	client := sqs.NewFromConfig(m.Config())
	url := m.Endpoint + "/123456789012/no-such-queue"
	err := sqsqueue.New(client, url).Send(context.Background(), events(3, func(int) string { return "boom" }))
	var se *sqsqueue.Error
	if !errors.As(err, &se) || errors.Is(err, sqsqueue.ErrUnavailable) {
		t.Fatalf("Send: %v, want a permanent *sqsqueue.Error, not ErrUnavailable", err)
	}
	if !strings.Contains(err.Error(), "3 of 3 events not sent") {
		t.Fatalf("Send: %v, want it to say 3 of 3 events not sent", err)
	}
}

// fakeSQS answers SendMessageBatch like SQS, failing entries or whole calls on demand,
// and records what it saw.
type fakeSQS struct {
	mu sync.Mutex
	// failEntry decides whether an entry fails on its attempt (1-based) at that body.
	failEntry func(body string, attempt int) bool
	// failCall decides whether a whole call (1-based) answers 500.
	failCall func(call int) bool
	delay    time.Duration

	calls       int
	attempts    map[string]int
	delivered   map[string]int
	batchSizes  []int
	batchBytes  []int
	inFlight    int
	maxInFlight int
}

func (f *fakeSQS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") != "AmazonSQS.SendMessageBatch" {
		http.Error(w, "unexpected "+r.Header.Get("X-Amz-Target"), http.StatusBadRequest)
		return
	}
	var in struct {
		Entries []struct {
			ID          string `json:"Id"`
			MessageBody string
		}
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.calls++
	call := f.calls
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	f.mu.Unlock()
	time.Sleep(f.delay)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inFlight--
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if f.failCall != nil && f.failCall(call) {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"__type":"InternalError","message":"try again"}`)
		return
	}
	type ok struct {
		ID               string `json:"Id"`
		MessageID        string `json:"MessageId"`
		MD5OfMessageBody string
	}
	type bad struct {
		ID            string `json:"Id"`
		Code, Message string
		SenderFault   bool
	}
	var out struct {
		Successful []ok
		Failed     []bad
	}
	size := 0
	for _, e := range in.Entries {
		size += len(e.MessageBody)
		f.attempts[e.MessageBody]++
		if f.failEntry != nil && f.failEntry(e.MessageBody, f.attempts[e.MessageBody]) {
			out.Failed = append(out.Failed, bad{ID: e.ID, Code: "InternalError", Message: "entry failed"})
			continue
		}
		f.delivered[e.MessageBody]++
		sum := md5.Sum([]byte(e.MessageBody))
		out.Successful = append(out.Successful, ok{ID: e.ID, MessageID: fmt.Sprint(len(f.delivered)), MD5OfMessageBody: hex.EncodeToString(sum[:])})
	}
	f.batchSizes = append(f.batchSizes, len(in.Entries))
	f.batchBytes = append(f.batchBytes, size)
	if err := json.NewEncoder(w).Encode(out); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

func fakeSender(t *testing.T, f *fakeSQS) *sqsqueue.Sender {
	t.Helper()
	f.attempts, f.delivered = map[string]int{}, map[string]int{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	// Not awstest's config: its client sends one request at a time, which would hide
	// the sender's concurrency from the fake.
	client := sqs.NewFromConfig(aws.Config{
		Region:           awstest.Region,
		Credentials:      credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint:     aws.String(srv.URL),
		RetryMaxAttempts: 1,
	})
	return sqsqueue.New(client, srv.URL+"/123456789012/events", sqsqueue.WithPacking(1, 0))
}

func packedFakeSender(t *testing.T, f *fakeSQS) *sqsqueue.Sender {
	t.Helper()
	s := fakeSender(t, f)
	return sqsqueue.New(s.Client(), s.QueueURL())
}

func TestBatchesStayWithinSQSLimits(t *testing.T) {
	f := &fakeSQS{}
	s := fakeSender(t, f)
	// 30 KB events: the byte limit, not the count, closes most batches; small ones fill up to 10.
	evs := events(95, func(i int) string {
		if i%3 == 0 {
			return "short"
		}
		return strings.Repeat("x", 30_000)
	})
	if err := s.Send(context.Background(), evs); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if len(f.delivered) != len(evs) {
		t.Fatalf("%d distinct events delivered, want %d", len(f.delivered), len(evs))
	}
	for body, n := range f.delivered {
		if n != 1 {
			t.Fatalf("event delivered %d times: %.60s", n, body)
		}
	}
	for i := range f.batchSizes {
		if f.batchSizes[i] > sqsqueue.MaxBatchEntries || f.batchBytes[i] > sqsqueue.MaxBatchBytes {
			t.Fatalf("batch %d: %d entries, %d bytes; limits %d and %d", i, f.batchSizes[i], f.batchBytes[i], sqsqueue.MaxBatchEntries, sqsqueue.MaxBatchBytes)
		}
	}
	if len(f.batchSizes) > 14 {
		t.Fatalf("%d batches for 95 events, want them packed (at most 14)", len(f.batchSizes))
	}
}

func TestSendConcurrencyIsBounded(t *testing.T) {
	f := &fakeSQS{delay: 20 * time.Millisecond}
	s := fakeSender(t, f)
	if err := s.Send(context.Background(), events(300, func(i int) string { return "e" })); err != nil {
		t.Fatal(err)
	}
	if f.maxInFlight > 8 || f.maxInFlight < 2 {
		t.Fatalf("%d batches in flight at once, want between 2 and the bound 8", f.maxInFlight)
	}
}

func TestFailedEntriesAreRetriedOnce(t *testing.T) {
	for _, tc := range []struct {
		name       string
		fake       *fakeSQS
		wantErr    string // "" for success
		wantDelivs int
	}{
		{
			name:       "an entry that fails once is sent on the retry",
			fake:       &fakeSQS{failEntry: func(body string, attempt int) bool { return strings.Contains(body, "flaky") && attempt == 1 }},
			wantDelivs: 12,
		},
		{
			name:       "a call that fails once is sent on the retry",
			fake:       &fakeSQS{failCall: func(call int) bool { return call == 1 }},
			wantDelivs: 12,
		},
		{
			name:       "an entry that keeps failing is reported",
			fake:       &fakeSQS{failEntry: func(body string, _ int) bool { return strings.Contains(body, "flaky") }},
			wantErr:    "1 of 12 events not sent",
			wantDelivs: 11,
		},
		{
			name:       "calls that keep failing are reported",
			fake:       &fakeSQS{failCall: func(int) bool { return true }},
			wantErr:    "12 of 12 events not sent",
			wantDelivs: 0,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fakeSender(t, tc.fake)
			evs := events(12, func(i int) string {
				if i == 4 {
					return "flaky"
				}
				return "steady"
			})
			err := s.Send(context.Background(), evs)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Send: %v", err)
			case tc.wantErr != "" && (!errors.Is(err, sqsqueue.ErrUnavailable) || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Send: %v, want ErrUnavailable saying %q", err, tc.wantErr)
			}
			if len(tc.fake.delivered) != tc.wantDelivs {
				t.Fatalf("%d events delivered, want %d", len(tc.fake.delivered), tc.wantDelivs)
			}
			for body, n := range tc.fake.attempts {
				if n > 2 {
					t.Fatalf("an event was attempted %d times, want at most 2: %.60s", n, body)
				}
			}
		})
	}
}

func TestSendWithAnEndedContextIsUnavailable(t *testing.T) {
	f := &fakeSQS{}
	s := fakeSender(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Send(ctx, events(25, func(int) string { return "e" }))
	if !errors.Is(err, sqsqueue.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Send: %v, want ErrUnavailable and context.Canceled", err)
	}
}

func TestSendOfNothingSendsNothing(t *testing.T) {
	f := &fakeSQS{}
	s := fakeSender(t, f)
	if err := s.Send(context.Background(), nil); err != nil || f.calls != 0 {
		t.Fatalf("Send(nil) = %v with %d calls, want nil and none", err, f.calls)
	}
}
