package chaos_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/aient/firehose-drain/internal/testkit/awstest"
	"github.com/aient/firehose-drain/internal/testkit/chaos"
	"github.com/aient/firehose-drain/internal/testkit/deploytest"
	dedupddb "github.com/aient/firehose-drain/pkg/dedup/ddb"
	drainsddb "github.com/aient/firehose-drain/pkg/drains/ddb"
	problemsddb "github.com/aient/firehose-drain/pkg/problems/ddb"
)

// awsSize is how much of a drill against moto runs.
type awsSize struct {
	deliveries, parallel, groupers int
	rate                           float64       // AWS calls that get a fault
	crash                          float64       // invocations whose process is killed midway
	lostDelete                     float64       // handled SQS messages the poller does not delete
	window                         time.Duration // Firehose's retry duration
	ingestTimeout, grouperTimeout  time.Duration // the functions' deadlines
	visibility                     int32         // the queue's visibility timeout, seconds
	lease                          time.Duration // AIENT_CLAIM_LEASE
	budget                         time.Duration // the whole drill
}

func awsDrillSize() awsSize {
	if *longDrill {
		return awsSize{
			deliveries: 150, parallel: 4, groupers: 2, rate: 0.3, crash: 0.1, lostDelete: 0.05,
			window: 300 * time.Second, ingestTimeout: 8 * time.Second, grouperTimeout: 8 * time.Second,
			visibility: 4, lease: 3 * time.Second, budget: 25 * time.Minute,
		}
	}
	return awsSize{
		deliveries: 10, parallel: 3, groupers: 2, rate: 0.2, crash: 0.1, lostDelete: 0.1,
		window: 120 * time.Second, ingestTimeout: 5 * time.Second, grouperTimeout: 5 * time.Second,
		visibility: 2, lease: 2 * time.Second, budget: 4 * time.Minute,
	}
}

// sandbox is one Lambda execution environment: a bootstrap process that takes one
// invocation at a time. An invocation that outlives its deadline, or a crash, ends the
// process; the next invocation starts a new one (a cold start), as Lambda does.
type sandbox struct {
	t       *testing.T
	bin     string
	env     map[string]string
	timeout time.Duration
	fn      *deploytest.Function
	tally   *chaos.Counter
	name    string
}

// errTimeout is an invocation Lambda ended at its deadline.
var errTimeout = errors.New("the invocation ran past its deadline: the sandbox is killed")

// invoke runs one invocation; crashAfter > 0 kills the process that long into it.
func (s *sandbox) invoke(ctx context.Context, payload []byte, crashAfter time.Duration) (*deploytest.Result, error) {
	if s.fn != nil {
		if exited, _ := s.fn.Exited(); exited {
			s.fn = nil
		}
	}
	if s.fn == nil {
		s.fn = deploytest.StartFunction(s.t, s.bin, s.env)
		s.fn.Timeout = s.timeout
		s.tally.Add(s.name+" cold starts", 1)
	}
	fn := s.fn
	// Lambda ends the sandbox at the deadline; a little slack for the answer in flight.
	ictx, cancel := context.WithTimeout(ctx, s.timeout+300*time.Millisecond)
	defer cancel()
	if crashAfter > 0 {
		timer := time.AfterFunc(crashAfter, func() {
			s.tally.Add(s.name+" crashes (SIGKILL mid-invocation)", 1)
			fn.Kill()
		})
		defer timer.Stop()
	}
	res, err := fn.Invoke(ictx, payload)
	if err != nil {
		fn.Kill()
		s.fn = nil
		if ictx.Err() != nil && ctx.Err() == nil {
			s.tally.Add(s.name+" timeouts", 1)
			return nil, errTimeout
		}
		return nil, err
	}
	return res, nil
}

// awsDrill is the drill's state against moto.
type awsDrill struct {
	t        *testing.T
	size     awsSize
	work     workload
	tally    *chaos.Counter
	ingest   chan *sandbox
	groupers []*sandbox
	sqs      *sqs.Client // the poller's own client: no faults (it is AWS's side)
	queueURL string

	mu  sync.Mutex
	rng *rand.Rand
}

func (d *awsDrill) chance(p float64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rng.Float64() < p
}

// crashAfter draws whether an invocation's process is killed, and how far into it: within
// the first 400 ms, where an invocation against moto spends its AWS calls.
func (d *awsDrill) crashAfter() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.rng.Float64() >= d.size.crash {
		return 0
	}
	return time.Duration(1 + d.rng.Int64N(int64(400*time.Millisecond)))
}

// TestDrillAgainstMoto is the chaos drill of the AWS deployment: the real ingest and
// grouper bootstrap binaries on the Lambda Runtime API, their AWS calls through a proxy
// that injects 500s, throttling, writes that land while the caller sees an error or a
// reset, and answers that never come; Firehose's retry loop in front (the same delivery
// until a conforming 200, within the retry duration); SQS's event source mapping behind
// (messages not deleted come back after the visibility timeout; some handled ones are
// not deleted); sandboxes killed at their deadline and at random moments. At the end
// every error event sent is counted exactly once: nothing lost, nothing twice.
func TestDrillAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("the chaos drill builds both functions and runs moto")
	}
	t.Parallel()
	size := awsDrillSize()
	seed := drillSeed(t)
	ctx, cancel := context.WithTimeout(t.Context(), size.budget)
	defer cancel()

	m := awstest.Start(t)
	cfg := m.Config()
	db := dynamodb.NewFromConfig(cfg)
	const drainsTable, claimsTable, problemsTable = "chaos-drains", "chaos-claims", "chaos-problems"
	for table, create := range map[string]func(context.Context, *dynamodb.Client, string) error{
		drainsTable: drainsddb.CreateTable, claimsTable: dedupddb.CreateTable, problemsTable: problemsddb.CreateTable,
	} {
		if err := create(ctx, db, table); err != nil {
			t.Fatal(err)
		}
	}
	sq := sqs.NewFromConfig(cfg)
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName:  aws.String("chaos-events"),
		Attributes: map[string]string{"VisibilityTimeout": strconv.Itoa(int(size.visibility))},
	})
	if err != nil {
		t.Fatal(err)
	}
	const pepper = "chaospepper0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
	sec, err := secretsmanager.NewFromConfig(cfg).CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("chaos-pepper"), SecretString: aws.String(pepper),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := deploytest.SeedExampleDrains(ctx, drainsddb.New(db, drainsTable), []byte(pepper), time.Now()); err != nil {
		t.Fatal(err)
	}

	proxy, err := chaos.NewProxy(m.Endpoint, chaos.Config{Rate: size.rate, Seed: seed, MaxHang: 2 * size.ingestTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	env := map[string]string{
		"AIENT_DRAINS_TABLE":     drainsTable,
		"AIENT_CLAIMS_TABLE":     claimsTable,
		"AIENT_PROBLEMS_TABLE":   problemsTable,
		"AIENT_QUEUE_URL":        aws.ToString(q.QueueUrl),
		"AIENT_PEPPER_SECRET_ID": aws.ToString(sec.ARN),
		"AIENT_CLAIM_LEASE":      size.lease.String(),
		"AWS_ENDPOINT_URL":       proxy.URL,
		"AWS_ACCESS_KEY_ID":      "testing",
		"AWS_SECRET_ACCESS_KEY":  "testing",
		"AWS_REGION":             awstest.Region,
		"AWS_LAMBDA_LOG_FORMAT":  "JSON",
		"AWS_LAMBDA_LOG_LEVEL":   "WARN",
	}
	ingestBin := deploytest.BuildBootstrap(t, "./functions/ingest")
	grouperBin := deploytest.BuildBootstrap(t, "./functions/grouper")

	d := &awsDrill{
		t: t, size: size, tally: &chaos.Counter{}, sqs: sq, queueURL: aws.ToString(q.QueueUrl),
		rng:    rand.New(rand.NewPCG(seed, 1)),
		ingest: make(chan *sandbox, size.parallel),
	}
	d.work = newWorkload(rand.New(rand.NewPCG(seed, 2)), size.deliveries)
	for range size.parallel {
		d.ingest <- &sandbox{t: t, bin: ingestBin, env: env, timeout: size.ingestTimeout, tally: d.tally, name: "ingest"}
	}
	for range size.groupers {
		d.groupers = append(d.groupers, &sandbox{t: t, bin: grouperBin, env: env, timeout: size.grouperTimeout, tally: d.tally, name: "grouper"})
	}

	start := time.Now()
	firehoseDone := make(chan struct{})
	var pollers sync.WaitGroup
	for _, g := range d.groupers {
		pollers.Add(1)
		go func() {
			defer pollers.Done()
			d.poll(ctx, g, firehoseDone)
		}()
	}
	var senders sync.WaitGroup
	work := make(chan delivery)
	for range size.parallel {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for dl := range work {
				d.deliver(ctx, dl)
			}
		}()
	}
	for _, dl := range d.work.deliveries {
		work <- dl
	}
	close(work)
	senders.Wait()
	close(firehoseDone)
	pollers.Wait()
	elapsed := time.Since(start)

	ps, err := problemsddb.New(db, problemsTable).List(context.Background(), deploytest.ExampleOrg, deploytest.ExampleEnv)
	if err != nil {
		t.Fatal(err)
	}
	counted, errs := d.work.check(ps)
	if lost := d.tally.Get("deliveries lost (retry duration over: to the S3 backup)"); lost > 0 {
		errs = append(errs, fmt.Errorf("%d deliveries ran out of Firehose's retry duration", lost))
	}
	if n := d.tally.Get("answers not Firehose's"); n > 0 {
		errs = append(errs, fmt.Errorf("%d answers were not Firehose answers", n))
	}
	if ctx.Err() != nil {
		errs = append(errs, fmt.Errorf("the drill did not finish within %v", size.budget))
	}

	s := &chaos.Summary{Title: fmt.Sprintf("chaos drill against moto (real ingest + grouper binaries), seed %d, %v", seed, elapsed.Round(time.Second))}
	s.Faults(proxy.Tally())
	for _, k := range []string{"ingest crashes (SIGKILL mid-invocation)", "grouper crashes (SIGKILL mid-invocation)", "ingest timeouts", "grouper timeouts", "ingest cold starts", "grouper cold starts", "sqs deletes withheld (handled, redelivered)"} {
		s.Row(k, d.tally.Get(k))
	}
	s.Row("deliveries", len(d.work.deliveries))
	s.Row("delivery attempts", d.tally.Get("delivery attempts"))
	s.Row("retries", d.tally.Get("delivery attempts")-int64(len(d.work.deliveries)))
	s.Counts("ingest answers: ", d.tally.WithPrefix("answer "))
	s.Row("grouper invocations", d.tally.Get("grouper invocations"))
	s.Row("sqs messages received", d.tally.Get("sqs received"))
	s.Row("sqs redeliveries", d.tally.Get("sqs redeliveries"))
	s.Row("error events sent (repeats included)", d.work.sent)
	s.Row("distinct error events", d.work.distinct)
	s.Row("events counted in problems", counted)
	result := "PASS: every distinct error event counted exactly once"
	if len(errs) > 0 {
		result = fmt.Sprintf("FAIL: %v", errors.Join(errs...))
	}
	s.Row("result", result)
	report(t, s)
	for _, e := range errs {
		t.Error(e)
	}
}

// report prints the drill's table: on stdout under `make chaos` (-chaos.long), in the
// test log otherwise.
func report(t *testing.T, s *chaos.Summary) {
	t.Helper()
	if *longDrill {
		s.Print(os.Stdout)
		return
	}
	t.Log(s.String())
}

// deliver is Firehose delivering one batch: the same request until a conforming 200,
// with backoff, within the retry duration.
func (d *awsDrill) deliver(ctx context.Context, dl delivery) {
	payload := urlEvent(dl, deploytest.ExampleDrainID, deploytest.ExampleAccessKey)
	start := time.Now()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		d.tally.Add("delivery attempts", 1)
		sb := <-d.ingest
		res, err := sb.invoke(ctx, payload, d.crashAfter())
		d.ingest <- sb
		switch {
		case err != nil:
			d.tally.Add("answer 502/504 (no answer)", 1)
		case res.Err != nil:
			d.tally.Add("answer 502 (function error)", 1)
		default:
			var resp events.LambdaFunctionURLResponse
			if jerr := json.Unmarshal(res.Payload, &resp); jerr != nil {
				d.tally.Add("answers not Firehose's", 1)
				d.t.Errorf("delivery %s: the answer is not a Function URL response: %v", dl.requestID, jerr)
				break
			}
			ok, what, aerr := firehoseAnswer(resp.StatusCode, []byte(resp.Body), dl.requestID)
			d.tally.Add("answer "+what, 1)
			if aerr != nil {
				d.tally.Add("answers not Firehose's", 1)
				d.t.Errorf("delivery %s: %v", dl.requestID, aerr)
			}
			if ok {
				return
			}
			if resp.StatusCode != 503 {
				d.t.Errorf("delivery %s: status %d (%s): only 200 or 503 are right for a valid delivery", dl.requestID, resp.StatusCode, resp.Body)
			}
		}
		if time.Since(start) > d.size.window {
			d.tally.Add("deliveries lost (retry duration over: to the S3 backup)", 1)
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// poll is one poller of SQS's event source mapping: receive a batch, invoke the grouper,
// delete the messages it did not name as failed. Failed, unanswered and crashed batches
// come back after the visibility timeout; now and then a handled message is not deleted
// either (a delete lost on the way), so the grouper sees it again. It ends when Firehose
// has finished and the queue is empty.
func (d *awsDrill) poll(ctx context.Context, g *sandbox, firehoseDone <-chan struct{}) {
	for ctx.Err() == nil {
		out, err := d.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(d.queueURL), MaxNumberOfMessages: 10,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		})
		if err != nil {
			if ctx.Err() == nil {
				d.t.Errorf("the poller's receive: %v", err)
			}
			return
		}
		if len(out.Messages) == 0 {
			select {
			case <-firehoseDone:
				if d.queueEmpty(ctx) {
					return
				}
			default:
			}
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		ev := events.SQSEvent{}
		for _, msg := range out.Messages {
			d.tally.Add("sqs received", 1)
			if n, _ := strconv.Atoi(msg.Attributes["ApproximateReceiveCount"]); n > 1 {
				d.tally.Add("sqs redeliveries", 1)
			}
			ev.Records = append(ev.Records, events.SQSMessage{
				MessageId: aws.ToString(msg.MessageId), ReceiptHandle: aws.ToString(msg.ReceiptHandle),
				Body: aws.ToString(msg.Body), Md5OfBody: aws.ToString(msg.MD5OfBody), Attributes: msg.Attributes,
				EventSource: "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:chaos-events", AWSRegion: awstest.Region,
			})
		}
		payload, err := json.Marshal(ev)
		if err != nil {
			d.t.Fatal(err)
		}
		d.tally.Add("grouper invocations", 1)
		res, err := g.invoke(ctx, payload, d.crashAfter())
		if err != nil || res.Err != nil {
			continue // the whole batch comes back
		}
		var resp events.SQSEventResponse
		if err := json.Unmarshal(res.Payload, &resp); err != nil {
			d.t.Errorf("the grouper's answer is not an SQSEventResponse: %v (%.200q)", err, res.Payload)
			continue
		}
		failed := map[string]bool{}
		for _, f := range resp.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
		for _, msg := range ev.Records {
			if failed[msg.MessageId] {
				continue
			}
			if d.chance(d.size.lostDelete) {
				d.tally.Add("sqs deletes withheld (handled, redelivered)", 1)
				continue
			}
			if _, err := d.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(d.queueURL), ReceiptHandle: aws.String(msg.ReceiptHandle)}); err != nil && ctx.Err() == nil {
				d.t.Errorf("the poller's delete: %v", err)
			}
		}
	}
}

// queueEmpty is true when no message is visible or in flight.
func (d *awsDrill) queueEmpty(ctx context.Context) bool {
	out, err := d.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(d.queueURL),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		return false
	}
	return out.Attributes["ApproximateNumberOfMessages"] == "0" && out.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
}
