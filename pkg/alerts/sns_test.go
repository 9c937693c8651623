package alerts_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/aient/firehose-drain/internal/testkit/awstest"
	"github.com/aient/firehose-drain/pkg/alerts"
	"github.com/aient/firehose-drain/pkg/problems"
)

// SNS on moto: a queue subscribed to the topic receives the alert, as email or chat
// subscribers would.
func TestSNSDeliveryReachesASubscribedQueue(t *testing.T) {
	m := awstest.Start(t)
	cfg := m.Config()
	ctx := t.Context()
	sn, sq := sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	topic, err := sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("aient-alerts")})
	if err != nil {
		t.Fatal(err)
	}
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("alerts-inbox")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(attrs.Attributes["QueueArn"])}); err != nil {
		t.Fatal(err)
	}

	r := newRig(t)
	r.d = alerts.NewDeliverer(r.dests, r.secrets, r.outbox, alerts.NewSenders(nil, sn), alerts.Config{ConsoleURL: "https://console.example", Now: r.clock})
	if err := r.dests.Add(ctx, alerts.Destination{ID: "dst_sns", Type: alerts.SNS, TopicARN: *topic.TopicArn, Target: *topic.TopicArn, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	n := notice(7, problems.ToEscalating, t0)
	n.Problem.Title = "TimeoutError: " + strings.Repeat("the upstream payment service did not answer ", 5)
	r.outbox.Put(n)
	if _, err := r.d.DeliverPending(ctx, 10); err != nil {
		t.Fatal(err)
	}

	var got []string
	deadline := time.Now().Add(10 * time.Second)
	for len(got) == 0 && time.Now().Before(deadline) {
		out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range out.Messages {
			got = append(got, aws.ToString(msg.Body))
		}
	}
	if len(got) != 1 {
		t.Fatalf("%d messages in the subscribed queue, want 1", len(got))
	}
	// The queue gets SNS's envelope: Subject, and the "sqs" or else the "default" body.
	var env struct {
		Subject           string
		Message           string
		MessageAttributes map[string]struct{ Value string }
	}
	if err := json.Unmarshal([]byte(got[0]), &env); err != nil {
		t.Fatalf("envelope %s: %v", got[0], err)
	}
	if len(env.Subject) >= 100 || !strings.HasPrefix(env.Subject, "[aient] Escalating in acme/prod: TimeoutError") {
		t.Fatalf("subject %q (%d)", env.Subject, len(env.Subject))
	}
	var doc alerts.Document
	if err := json.Unmarshal([]byte(env.Message), &doc); err != nil {
		t.Fatalf("the default body is not the alert document: %v: %s", err, env.Message)
	}
	if doc.Kind != alerts.KindEscalating || doc.ID != n.ID || doc.Problem == nil || doc.Problem.URL != "https://console.example/problems/prob007" {
		t.Fatalf("document %+v", doc)
	}
	if env.MessageAttributes["aient.id"].Value != n.ID {
		t.Fatalf("message attributes %+v, want aient.id %s", env.MessageAttributes, n.ID)
	}
	if d, _ := r.dests.Get(ctx, "dst_sns"); d.Health != alerts.Healthy || d.Sent != 1 {
		t.Fatalf("destination %+v", d.Status)
	}
}
