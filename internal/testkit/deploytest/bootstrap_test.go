package deploytest

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aient/firehose-drain/internal/testkit/awstest"
	dedupddb "github.com/aient/firehose-drain/pkg/dedup/ddb"
	drainsddb "github.com/aient/firehose-drain/pkg/drains/ddb"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/grouper"
	"github.com/aient/firehose-drain/pkg/otlplogs"
	problemsddb "github.com/aient/firehose-drain/pkg/problems/ddb"
)

// stack is what template.yaml deploys, made on moto: the tables, the queue and the pepper,
// named as the functions' environment names them.
type stack struct {
	cfg         aws.Config
	env         map[string]string
	endpoint    string
	resources   map[string]any // a resource's name, URL or ARN -> its template reference
	queueURL    string
	problems    *problemsddb.Store
	sqs         *sqs.Client
	ingestWait  time.Duration
	grouperWait time.Duration
}

func deployOnMoto(t testing.TB) stack {
	t.Helper()
	m := awstest.Start(t)
	cfg := m.Config()
	ctx := t.Context()
	db := dynamodb.NewFromConfig(cfg)
	const drainsTable, claimsTable, problemsTable = "firehose-drain-drains", "firehose-drain-claims", "firehose-drain-problems"
	for table, create := range map[string]func(context.Context, *dynamodb.Client, string) error{
		drainsTable: drainsddb.CreateTable, claimsTable: dedupddb.CreateTable, problemsTable: problemsddb.CreateTable,
	} {
		if err := create(ctx, db, table); err != nil {
			t.Fatal(err)
		}
	}
	sq := sqs.NewFromConfig(cfg)
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("firehose-drain-events")})
	if err != nil {
		t.Fatal(err)
	}
	const pepper = "examplepepper0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO" // 64 characters, as generated
	sec, err := secretsmanager.NewFromConfig(cfg).CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("firehose-drain-pepper"), SecretString: aws.String(pepper),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := SeedExampleDrains(ctx, drainsddb.New(db, drainsTable), []byte(pepper), time.Now()); err != nil {
		t.Fatal(err)
	}
	return stack{
		cfg: cfg,
		env: map[string]string{
			"AIENT_DRAINS_TABLE":        drainsTable,
			"AIENT_CLAIMS_TABLE":        claimsTable,
			"AIENT_PROBLEMS_TABLE":      problemsTable,
			"AIENT_QUEUE_URL":           aws.ToString(q.QueueUrl),
			"AIENT_PEPPER_SECRET_ID":    aws.ToString(sec.ARN),
			"AIENT_ALERT_SECRET_PREFIX": alertSecretPrefix,
			"AIENT_CONSOLE_URL":         "https://console.example",
			"AWS_ENDPOINT_URL":          m.Endpoint,
			"AWS_ACCESS_KEY_ID":         "testing",
			"AWS_SECRET_ACCESS_KEY":     "testing",
			"AWS_REGION":                awstest.Region,
			"AWS_LAMBDA_LOG_FORMAT":     "JSON",
			"AWS_LAMBDA_LOG_LEVEL":      "DEBUG",
		},
		endpoint: m.Endpoint,
		resources: map[string]any{
			drainsTable:              getAtt("DrainsTable", "Arn"),
			claimsTable:              getAtt("ClaimsTable", "Arn"),
			problemsTable:            getAtt("ProblemsTable", "Arn"),
			aws.ToString(q.QueueUrl): getAtt("EventQueue", "Arn"),
			aws.ToString(sec.ARN):    ref("PepperSecret"),
		},
		queueURL:    aws.ToString(q.QueueUrl),
		problems:    problemsddb.New(db, problemsTable),
		sqs:         sq,
		ingestWait:  90 * time.Second, // the template's Timeouts
		grouperWait: 60 * time.Second,
	}
}

// receiveAll drains the queue (moto returns what is visible at once).
func (s stack) receiveAll(t *testing.T) []event.Event {
	t.Helper()
	var out []event.Event
	for {
		r, err := s.sqs.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(s.queueURL), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Messages) == 0 {
			return out
		}
		for _, m := range r.Messages {
			evs, err := grouper.Decode([]byte(aws.ToString(m.Body))) // one event or several packed
			if err != nil {
				t.Fatalf("queued message %q is not what the grouper reads: %v", aws.ToString(m.Body), err)
			}
			out = append(out, evs...)
			if _, err := s.sqs.DeleteMessage(t.Context(), &sqs.DeleteMessageInput{QueueUrl: aws.String(s.queueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func invokeFile(t *testing.T, f *Function, file string) *Result {
	t.Helper()
	payload, err := os.ReadFile(filepath.Join(eventsDir(t), file))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), f.Timeout+10*time.Second)
	defer cancel()
	res, err := f.Invoke(ctx, payload)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return res
}

// TestBootstrapsAnswerEveryEvent does what `sam local invoke` does, without Docker: it
// builds both bootstrap binaries, runs each as a process against the Runtime API harness
// with AWS services from moto, feeds it every file in events/, and checks every answer.
func TestBootstrapsAnswerEveryEvent(t *testing.T) {
	t.Parallel() // its own moto account: no turns with the package's other tests
	if testing.Short() {
		t.Skip("builds both functions and runs moto")
	}
	s := deployOnMoto(t)
	// Each function reaches moto through its own recorder, so its calls can be checked
	// against its role.
	withEndpoint := func(endpoint string) map[string]string {
		env := map[string]string{"AWS_ENDPOINT_URL": endpoint}
		for k, v := range s.env {
			if k != "AWS_ENDPOINT_URL" {
				env[k] = v
			}
		}
		return env
	}
	ingestCalls, grouperCalls := recordCalls(t, s.endpoint), recordCalls(t, s.endpoint)
	// The ingest exports every data event over OTLP, its headers from the secret (read when
	// it starts: the IAM check below sees that call).
	secretARN := createOTLPHeadersSecret(t, s, "firehose-drain-ingest-otlp-headers")
	receiver := newOTLPReceiver(t)
	ingestEnv := withEndpoint(ingestCalls.URL)
	ingestEnv[otlplogs.EnvLogsEndpoint], ingestEnv[otlplogs.EnvHeadersSecret] = receiver.URL+"/v1/logs", secretARN
	ingest := StartFunction(t, BuildBootstrap(t, "./functions/ingest"), ingestEnv)
	ingest.Timeout = s.ingestWait
	grouper := StartFunction(t, BuildBootstrap(t, "./functions/grouper"), withEndpoint(grouperCalls.URL))
	grouper.Timeout = s.grouperWait

	for _, exp := range Expectations() {
		if exp.Kind != FunctionURL {
			continue
		}
		t.Run(exp.File, func(t *testing.T) {
			if err := CheckAnswer(exp, invokeFile(t, ingest, exp.File)); err != nil {
				t.Error(err)
			}
		})
	}
	t.Run("only the gzip request's two error events reached the queue", func(t *testing.T) {
		queued := s.receiveAll(t)
		if len(queued) != 2 {
			t.Fatalf("queued %d events, want 2: %+v", len(queued), queued)
		}
		for _, e := range queued {
			if e.Drain != ExampleDrainID || e.Org != ExampleOrg || e.Account != "123456789012" || e.Region != "us-east-1" ||
				!e.Level.IsErrorClass() || e.FirehoseRequestID != gzipRequestID {
				t.Errorf("queued event %+v", e)
			}
		}
	})
	t.Run("the ingest exported the data events with the headers from the secret", func(t *testing.T) {
		checkExported(t, "ingest", receiver, 2, ingest.Logs())
		if !readSecret(ingestCalls.Calls(), secretARN) {
			t.Error("the ingest never read the OTLP headers secret")
		}
	})
	t.Run("a Firehose retry of the gzip request is answered 200 and queues nothing again", func(t *testing.T) {
		i := slices.IndexFunc(Expectations(), func(e Expectation) bool { return e.File == "url-gzip-request.json" })
		if i < 0 {
			t.Fatal("no expectation for url-gzip-request.json")
		}
		exp := Expectations()[i]
		if err := CheckAnswer(exp, invokeFile(t, ingest, exp.File)); err != nil {
			t.Fatal(err)
		}
		if queued := s.receiveAll(t); len(queued) != 0 {
			t.Errorf("the retry queued %d events again", len(queued))
		}
	})

	for _, exp := range Expectations() {
		if exp.Kind != SQS {
			continue
		}
		t.Run(exp.File, func(t *testing.T) {
			if err := CheckAnswer(exp, invokeFile(t, grouper, exp.File)); err != nil {
				t.Error(err)
			}
		})
	}
	t.Run("the error event is one problem counted once, although two batches carried it", func(t *testing.T) {
		ps, err := s.problems.List(t.Context(), ExampleOrg, ExampleEnv)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 1 || ps[0].Count != 1 {
			t.Fatalf("problems %+v, want one with count 1", ps)
		}
	})
	alertsCalls := recordCalls(t, s.endpoint)
	t.Run("the new problem's alert reaches the SNS topic and a signed webhook through the alerts function", func(t *testing.T) {
		alertsFn := StartFunction(t, BuildBootstrap(t, "./functions/alerts"), withEndpoint(alertsCalls.URL))
		alertsFn.Timeout = 360 * time.Second
		checkAlerts(t, s, alertsFn)
	})
	t.Run("every AWS call each function made is allowed by its role in template.yaml", func(t *testing.T) {
		c := samTransform(t)
		checkCallsAllowed(t, c, "IngestFunction", ingestCalls.Calls(), s.resources)
		checkCallsAllowed(t, c, "GrouperFunction", grouperCalls.Calls(), s.resources)
		checkCallsAllowed(t, c, "AlertsFunction", alertsCalls.Calls(), s.resources)
	})
}
