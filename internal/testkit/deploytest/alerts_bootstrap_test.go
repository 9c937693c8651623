package deploytest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/aient/firehose-drain/pkg/alerts"
	alertsddb "github.com/aient/firehose-drain/pkg/alerts/ddb"
)

// alertSecretPrefix is the stack's AlertSecretPrefix (the stack is named firehose-drain).
const alertSecretPrefix = "firehose-drain/alerts/"

// checkAlerts runs the alerts bootstrap on the outbox the grouper left: the new problem's
// notice goes to an SNS topic (read back through a subscribed queue) and to a webhook
// whose URL and key are in Secrets Manager, each once, even when the stream hands the
// record over twice.
func checkAlerts(t *testing.T, s stack, fn *Function) {
	ctx := t.Context()
	cfg := s.cfg
	db := dynamodb.NewFromConfig(cfg)
	sn, sq := sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	topic, err := sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("firehose-drain-alerts")})
	if err != nil {
		t.Fatal(err)
	}
	s.resources[aws.ToString(topic.TopicArn)] = ref("AlertTopic")
	inbox, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("alerts-inbox")})
	if err != nil {
		t.Fatal(err)
	}
	qa, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: inbox.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(qa.Attributes["QueueArn"])}); err != nil {
		t.Fatal(err)
	}

	var (
		mu    sync.Mutex
		calls []*http.Request
		body  [][]byte
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		calls, body = append(calls, r), append(body, b)
		mu.Unlock()
	}))
	defer hook.Close()

	secrets := alertsddb.NewSecrets(secretsmanager.NewFromConfig(cfg), alertSecretPrefix)
	ref, err := secrets.PutSecret(ctx, "dst_hook", alerts.Secret{URL: hook.URL + "/alerts", SigningKey: "k3y"})
	if err != nil {
		t.Fatal(err)
	}
	s.resources[ref] = alertSecrets()
	dests := alertsddb.NewDestinations(db, s.env["AIENT_PROBLEMS_TABLE"])
	s.resources[s.env["AIENT_PROBLEMS_TABLE"]+"/index/byProblem"] = alertsDestinationIndex()
	for _, d := range []alerts.Destination{
		{ID: "dst_sns", Type: alerts.SNS, TopicARN: aws.ToString(topic.TopicArn), Target: aws.ToString(topic.TopicArn), CreatedAt: time.Now()},
		{ID: "dst_hook", Type: alerts.Webhook, Target: alerts.Redact(hook.URL), SecretRef: ref, CreatedAt: time.Now()},
	} {
		if err := dests.Add(ctx, d); err != nil {
			t.Fatal(err)
		}
	}

	pending, err := s.problems.Outbox().Pending(ctx, time.Now().Add(time.Hour), 10)
	if err != nil || len(pending) != 1 || pending[0].Notice.Transition != "new" {
		t.Fatalf("the grouper's outbox: %+v, %v; want the new problem's notice", pending, err)
	}
	id := pending[0].Notice.ID
	// What the stream delivers: the notice item's insert, keys only (twice: at least once).
	rec := events.DynamoDBEventRecord{EventName: "INSERT", EventSource: "aws:dynamodb", Change: events.DynamoDBStreamRecord{
		SequenceNumber: "100", StreamViewType: "KEYS_ONLY",
		Keys: map[string]events.DynamoDBAttributeValue{"pk": events.NewStringAttribute(alerts.NoticeKeyPrefix + id)},
	}}
	payload, err := json.Marshal(events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{rec, rec}})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		ictx, cancel := context.WithTimeout(ctx, 60*time.Second)
		res, err := fn.Invoke(ictx, payload)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		var resp events.DynamoDBEventResponse
		if err := json.Unmarshal(res.Payload, &resp); err != nil || res.Err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("alerts answered %s (%+v, %v): want no failures\n%s", res.Payload, res.Err, err, fn.Logs())
		}
	}

	mu.Lock()
	if len(calls) != 1 || calls[0].Header.Get("X-Aient-Signature") != alerts.Sign("k3y", body[0]) || calls[0].Header.Get("X-Aient-Delivery") != id {
		t.Errorf("the webhook got %d calls (want 1, signed, with the delivery id)", len(calls))
	}
	mu.Unlock()
	var got []string
	for deadline := time.Now().Add(10 * time.Second); len(got) == 0 && time.Now().Before(deadline); {
		out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: inbox.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			got = append(got, aws.ToString(m.Body))
		}
	}
	if len(got) != 1 || !strings.Contains(got[0], `[aient] New problem in `+ExampleOrg+`/`+ExampleEnv) {
		t.Errorf("the topic's subscriber got %d messages: %v", len(got), got)
	}
	left, err := s.problems.Outbox().Pending(ctx, time.Now().Add(time.Hour), 10)
	if err != nil || len(left) != 0 {
		t.Errorf("the outbox still has %d notices (%v)", len(left), err)
	}
	if d, err := dests.Get(ctx, "dst_hook"); err != nil || d.Sent != 1 || d.Health != alerts.Healthy {
		t.Errorf("the webhook destination: %+v, %v", d.Status, err)
	}
}
