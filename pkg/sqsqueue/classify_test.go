package sqsqueue_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aient/firehose-drain/internal/testkit/awstest"
	"github.com/aient/firehose-drain/pkg/sqsqueue"
)

// A send failure keeps its class: throttled and transient failures wrap ErrUnavailable
// (throttles ErrThrottled too), permanent ones (access denied, a queue that does not
// exist, an entry refused as the sender's fault) wrap neither, so the ingest can answer
// 500 for them instead of 503.
func TestSendErrorsKeepTheirClass(t *testing.T) {
	const (
		permanent = iota
		unavailable
		throttled
	)
	for _, tc := range []struct {
		name   string
		status int
		body   string // the whole call's answer; "" answers the entries with entry
		entry  string // a Failed entry's JSON fields beside Id
		class  int
	}{
		{"throttled call", 400, `{"__type":"com.amazonaws.sqs#RequestThrottled","message":"Rate exceeded"}`, "", throttled},
		{"throttled KMS key", 400, `{"__type":"com.amazonaws.sqs#KmsThrottled","message":"KMS rate exceeded"}`, "", throttled},
		{"a 500", 500, `{"__type":"com.amazonaws.sqs#InternalError","message":"try again"}`, "", unavailable},
		{"a 503 without a body", 503, ``, "", unavailable},
		{"access denied", 400, `{"__type":"com.amazonaws.sqs#AccessDenied","message":"not authorized to perform sqs:SendMessage"}`, "", permanent},
		{"a queue that does not exist", 400, `{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}`, "", permanent},
		{"a disabled KMS key", 400, `{"__type":"com.amazonaws.sqs#KmsDisabled","message":"key disabled"}`, "", permanent},
		{"entries failing on the server's side", 200, "", `"Code":"InternalError","Message":"entry failed","SenderFault":false`, unavailable},
		{"entries throttled", 200, "", `"Code":"RequestThrottled","Message":"slow down","SenderFault":true`, throttled},
		{"entries refused as the sender's fault", 200, "", `"Code":"InvalidMessageContents","Message":"bad characters","SenderFault":true`, permanent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls++
				w.Header().Set("Content-Type", "application/x-amz-json-1.0")
				if tc.entry != "" {
					fmt.Fprintf(w, `{"Successful":[],"Failed":[{"Id":"0",%s}]}`, tc.entry)
					return
				}
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}))
			t.Cleanup(srv.Close)
			client := sqs.NewFromConfig(aws.Config{
				Region:           awstest.Region,
				Credentials:      credentials.NewStaticCredentialsProvider("testing", "testing", ""),
				BaseEndpoint:     aws.String(srv.URL),
				RetryMaxAttempts: 1,
			})
			err := sqsqueue.New(client, srv.URL+"/123456789012/events").Send(context.Background(), events(1, func(int) string { return "boom" }))
			var se *sqsqueue.Error
			if !errors.As(err, &se) || se.NotSent != 1 || se.Of != 1 {
				t.Fatalf("Send: %#v, want an *sqsqueue.Error of 1 of 1 events", err)
			}
			gotUnavailable, gotThrottled := errors.Is(err, sqsqueue.ErrUnavailable), errors.Is(err, sqsqueue.ErrThrottled)
			want := map[int][2]bool{permanent: {false, false}, unavailable: {true, false}, throttled: {true, true}}[tc.class]
			if gotUnavailable != want[0] || gotThrottled != want[1] {
				t.Fatalf("Send: %v: wraps ErrUnavailable %t and ErrThrottled %t, want %t and %t", err, gotUnavailable, gotThrottled, want[0], want[1])
			}
			if calls == 0 {
				t.Fatal("the fake SQS saw no call")
			}
		})
	}
}

// A send that runs out of time is unavailable, whatever the call answered last.
func TestSendPastItsDeadlineIsUnavailable(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	client := sqs.NewFromConfig(aws.Config{
		Region:           awstest.Region,
		Credentials:      credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint:     aws.String(srv.URL),
		RetryMaxAttempts: 1,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := sqsqueue.New(client, srv.URL+"/123456789012/events").Send(ctx, events(3, func(int) string { return "late" }))
	if !errors.Is(err, sqsqueue.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sqsqueue.ErrThrottled) {
		t.Fatalf("Send: %v, want ErrUnavailable and DeadlineExceeded, not ErrThrottled", err)
	}
}
