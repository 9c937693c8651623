package sqsqueue_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aient/firehose-drain/internal/testkit/awstest"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/grouper"
	"github.com/aient/firehose-drain/pkg/sqsqueue"
)

func TestPackedEventsArriveAsTheGrouperReadsThem(t *testing.T) {
	m := awstest.Start(t)
	ctx := context.Background()
	client := sqs.NewFromConfig(m.Config())
	q, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("packed")})
	if err != nil {
		t.Fatal(err)
	}
	evs := events(500, func(i int) string { return fmt.Sprintf("ERROR request %d failed: %s", i, strings.Repeat("é", i%300)) })
	evs[250].Message = strings.Repeat("x", 400_000) // truncated, in a message of its own
	if err := sqsqueue.New(client, aws.ToString(q.QueueUrl)).Send(ctx, evs); err != nil {
		t.Fatalf("Send: %v", err)
	}
	byID := map[string]event.Event{}
	messages := 0
	deadline := time.Now().Add(20 * time.Second)
	for len(byID) < len(evs) && time.Now().Before(deadline) {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range out.Messages {
			messages++
			body := aws.ToString(msg.Body)
			if len(body) > sqsqueue.MaxMessageBytes {
				t.Fatalf("a message of %d bytes, over SQS's limit", len(body))
			}
			got, err := grouper.Decode([]byte(body))
			if err != nil {
				t.Fatalf("the grouper cannot read a message: %v", err)
			}
			for _, e := range got {
				if _, dup := byID[e.ID]; dup {
					t.Fatalf("event %s received twice", e.ID)
				}
				byID[e.ID] = e
			}
		}
	}
	if len(byID) != len(evs) {
		t.Fatalf("received %d events, want %d", len(byID), len(evs))
	}
	for i, want := range evs {
		got := byID[want.ID]
		if i == 250 {
			if !got.Truncated {
				t.Error("the huge event arrived untruncated")
			}
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("event %d arrived as %+v, want %+v", i, got, want)
		}
	}
	// ~200 KB of small events in ~25 KB messages, plus the huge one alone.
	if messages > 20 {
		t.Errorf("%d messages for 500 events, want them packed (at most 20)", messages)
	}
}

func TestPackedMessagesStayWithinSQSLimitsAndFailuresCountTheirEvents(t *testing.T) {
	f := &fakeSQS{failEntry: func(body string, _ int) bool { return strings.Contains(body, "flaky") }}
	s := packedFakeSender(t, f)
	evs := events(300, func(i int) string {
		if i == 123 {
			return "flaky"
		}
		return strings.Repeat("y", 200+i)
	})
	err := s.Send(context.Background(), evs)
	if !errors.Is(err, sqsqueue.ErrUnavailable) {
		t.Fatalf("Send = %v, want ErrUnavailable for the message holding the flaky event", err)
	}
	var failedEvents int
	for body := range f.attempts {
		if strings.Contains(body, "flaky") {
			got, derr := grouper.Decode([]byte(body))
			if derr != nil {
				t.Fatal(derr)
			}
			failedEvents = len(got)
		}
	}
	if want := fmt.Sprintf("%d of 300 events not sent", failedEvents); failedEvents < 2 || !strings.Contains(err.Error(), want) {
		t.Fatalf("Send = %v, want it to say %q (the failed message's events)", err, want)
	}
	delivered := 0
	for body := range f.delivered {
		got, derr := grouper.Decode([]byte(body))
		if derr != nil {
			t.Fatal(derr)
		}
		delivered += len(got)
	}
	if delivered != 300-failedEvents {
		t.Fatalf("%d events delivered, want %d", delivered, 300-failedEvents)
	}
	for i := range f.batchSizes {
		if f.batchSizes[i] > sqsqueue.MaxBatchEntries || f.batchBytes[i] > sqsqueue.MaxBatchBytes {
			t.Fatalf("batch %d: %d entries, %d bytes; limits %d and %d", i, f.batchSizes[i], f.batchBytes[i], sqsqueue.MaxBatchEntries, sqsqueue.MaxBatchBytes)
		}
	}
}
