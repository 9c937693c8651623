package deploytest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
)

// dynamoWrites are the DynamoDB operations that write.
var dynamoWrites = map[string]bool{"PutItem": true, "UpdateItem": true, "DeleteItem": true, "TransactWriteItems": true, "BatchWriteItem": true}

func countCalls(calls []apiCall) (writes, reads, sends int, ops map[string]int) {
	ops = map[string]int{}
	for _, c := range calls {
		ops[c.Service+"."+c.Op]++
		switch {
		case c.Service == "DynamoDB_20120810" && dynamoWrites[c.Op]:
			writes++
		case c.Service == "DynamoDB_20120810":
			reads++
		case c.Service == "AmazonSQS" && strings.HasPrefix(c.Op, "SendMessage"):
			sends++
		}
	}
	return writes, reads, sends, ops
}

// TestAWSCallsOfTheRealBinaries counts, at the HTTP layer in front of moto, the AWS requests
// the real bootstrap binaries make for a delivery with 5 % error-class events, for its
// retry, and for grouping what it queued.
func TestAWSCallsOfTheRealBinaries(t *testing.T) {
	t.Parallel() // its own moto account: no turns with the package's other tests
	if testing.Short() {
		t.Skip("builds both functions and runs moto")
	}
	s := deployOnMoto(t)
	env := func(endpoint string) map[string]string {
		out := map[string]string{"AWS_ENDPOINT_URL": endpoint}
		for k, v := range s.env {
			if k != "AWS_ENDPOINT_URL" {
				out[k] = v
			}
		}
		return out
	}
	ingestCalls, grouperCalls := recordCalls(t, s.endpoint), recordCalls(t, s.endpoint)
	ingest := StartFunction(t, BuildBootstrap(t, "./functions/ingest"), env(ingestCalls.URL))
	ingest.Timeout = s.ingestWait
	grouper := StartFunction(t, BuildBootstrap(t, "./functions/grouper"), env(grouperCalls.URL))
	grouper.Timeout = s.grouperWait

	// 40 records of 50 events: 2000 events, every 20th an error of one of two bugs.
	const records, perRecord = 40, 50
	var data []string
	errorEvents := 0
	for r := range records {
		var evs []fht.LogEvent
		for k := range perRecord {
			i := r*perRecord + k
			switch {
			case i%40 == 0:
				evs = append(evs, fht.OtherErrorEvent(i))
				errorEvents++
			case i%20 == 0:
				evs = append(evs, fht.ErrorEvent(i))
				errorEvents++
			default:
				evs = append(evs, fht.InfoEvent(i))
			}
		}
		data = append(data, fht.Record("/aws/lambda/pay", fmt.Sprintf("2026/11/21/[$LATEST]%04d", r), evs...))
	}
	const reqID = "5ee0a7d6-0b4c-4c1d-9f3e-8a2b6c1d0e9f"
	payload, err := json.Marshal(functionURLEvent(urlRequest{
		method: "POST", drainID: ExampleDrainID, accessKey: ExampleAccessKey, requestID: reqID,
		sourceARN: "arn:aws:firehose:us-east-1:123456789012:deliverystream/aient-cloudwatch-logs",
		body:      fht.Body(reqID, data...), time: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC),
	}))
	if err != nil {
		t.Fatal(err)
	}
	deliver := func(label string) (writes, sends int) {
		before := len(ingestCalls.Calls())
		res, err := ingest.Invoke(t.Context(), payload)
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		var answer struct {
			StatusCode int `json:"statusCode"`
		}
		if err := json.Unmarshal(res.Payload, &answer); err != nil || answer.StatusCode != 200 {
			t.Fatalf("%s: answer %s (%v), want 200", label, res.Payload, err)
		}
		w, r, sn, ops := countCalls(ingestCalls.Calls()[before:])
		t.Logf("ingest, %s: %d error events of %d: %d DynamoDB writes (%.3f per error event), %d reads, %d SQS sends; %v",
			label, errorEvents, records*perRecord, w, float64(w)/float64(errorEvents), r, sn, ops)
		return w, sn
	}

	// The drain's bookkeeping is one write per delivery whatever its size; the rest is the
	// claims (one conditional PutItem each) and their commits (100 per transaction).
	w, sends := deliver("first delivery")
	if per := float64(w-1) / float64(errorEvents); per > 1.1 {
		t.Errorf("%.3f DynamoDB writes per error event besides the bookkeeping, want at most 1.1", per)
	}
	if sends == 0 {
		t.Error("the delivery sent nothing")
	}
	w, sends = deliver("Firehose retry of the same delivery")
	if w-1 > errorEvents || sends != 0 {
		t.Errorf("the retry made %d writes besides the bookkeeping and %d sends, want at most one per error event and none", w-1, sends)
	}

	// Group what was queued, in batches of up to 100 messages as the event source would.
	var msgs []events.SQSMessage
	for {
		out, err := s.sqs.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(s.queueURL), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			msgs = append(msgs, events.SQSMessage{MessageId: aws.ToString(m.MessageId), Body: aws.ToString(m.Body)})
		}
	}
	payload, err = json.Marshal(events.SQSEvent{Records: msgs})
	if err != nil {
		t.Fatal(err)
	}
	res, err := grouper.Invoke(t.Context(), payload)
	if err != nil {
		t.Fatal(err)
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(res.Payload, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("grouper answered %s (%v), want no failures", res.Payload, err)
	}
	gw, gr, _, ops := countCalls(grouperCalls.Calls())
	t.Logf("grouper: %d messages carrying %d error events: %d DynamoDB writes (%.3f per error event), %d reads; %v",
		len(msgs), errorEvents, gw, float64(gw)/float64(errorEvents), gr, ops)
	if len(msgs) >= errorEvents {
		t.Errorf("%d messages for %d events: not packed", len(msgs), errorEvents)
	}
	ps, err := s.problems.List(t.Context(), ExampleOrg, ExampleEnv)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, p := range ps {
		total += p.Count
	}
	if len(ps) != 2 || total != int64(errorEvents) {
		t.Errorf("%d problems counting %d, want 2 counting %d", len(ps), total, errorEvents)
	}
}
