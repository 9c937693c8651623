package deploytest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/aient/firehose-drain/internal/testkit/awstest"
	drainsddb "github.com/aient/firehose-drain/pkg/drains/ddb"
	"github.com/aient/firehose-drain/pkg/otlplogs"
)

// TestSourceBootstrapsAnswerEveryEvent runs the real functions/sources binary, once per
// source kind as template.yaml deploys it, against moto (DynamoDB, SQS, S3, Kinesis): every
// source events/ file gets its answer, a retry queues nothing again, the queued events are
// grouped into problems counted once each even when SQS delivers them twice, the drain
// books each kind, and every call is allowed by the function's role.
func TestSourceBootstrapsAnswerEveryEvent(t *testing.T) {
	t.Parallel() // its own moto account: no turns with the package's other tests
	if testing.Short() {
		t.Skip("builds the sources function and runs moto")
	}
	s := deployOnMoto(t)
	ctx := t.Context()
	s3c := s3.NewFromConfig(awsConfig(s), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(ExampleS3Bucket)}); err != nil {
		t.Fatal(err)
	}
	obj, err := ExampleS3Object()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(ExampleS3Bucket), Key: aws.String(ExampleS3Key), Body: bytes.NewReader(obj)}); err != nil {
		t.Fatal(err)
	}

	// The OTLP logs export on, its headers from a Secrets Manager secret as template.yaml
	// gives them (OtlpHeadersSecretArn): each function reads the secret when it starts,
	// and the IAM check below sees that call.
	secretARN := createOTLPHeadersSecret(t, s, "firehose-drain-otlp-headers")

	bin := BuildBootstrap(t, "./functions/sources")
	fns := map[Kind]*Function{}
	recorders := map[Kind]*callRecorder{}
	receivers := map[Kind]*otlpReceiver{}
	for _, kind := range []Kind{Kinesis, S3, Subscription} {
		rec := recordCalls(t, s.endpoint)
		receivers[kind] = newOTLPReceiver(t)
		env := map[string]string{
			"AIENT_SOURCE_KIND": string(kind), "AIENT_DRAIN_ID": ExampleDrainID, "AWS_ENDPOINT_URL": rec.URL,
			otlplogs.EnvLogsEndpoint: receivers[kind].URL + "/v1/logs", otlplogs.EnvHeadersSecret: secretARN,
		}
		for k, v := range s.env {
			if _, set := env[k]; !set && k != "AIENT_PEPPER_SECRET_ID" && k != "AIENT_PROBLEMS_TABLE" {
				env[k] = v
			}
		}
		if kind == S3 {
			env["AIENT_S3_PREFIX"] = "cloudwatch/"
		}
		f := StartFunction(t, bin, env)
		f.Timeout = 60 * time.Second
		fns[kind], recorders[kind] = f, rec
	}

	queuedBy := map[Kind]int{Kinesis: 2, S3: 3, Subscription: 1}
	var all []sqsMessage
	for _, exp := range Expectations() {
		f, ok := fns[exp.Kind]
		if !ok {
			continue
		}
		t.Run(exp.File, func(t *testing.T) {
			if err := CheckAnswer(exp, invokeFile(t, f, exp.File)); err != nil {
				t.Fatal(err)
			}
			queued := s.receiveAll(t)
			if len(queued) != queuedBy[exp.Kind] {
				t.Fatalf("queued %d events, want %d", len(queued), queuedBy[exp.Kind])
			}
			for i, e := range queued {
				if e.Drain != ExampleDrainID || e.Org != ExampleOrg || e.Env != ExampleEnv || !e.Level.IsErrorClass() {
					t.Errorf("queued %+v", e)
				}
				if exp.Kind == Subscription && (e.Account != ExampleMemberAccount || e.Region != ExampleMemberRegion) {
					t.Errorf("the member account's event is stamped %s/%s, want %s/%s", e.Account, e.Region, ExampleMemberAccount, ExampleMemberRegion)
				}
				body, _ := json.Marshal(e)
				all = append(all, sqsMessage{id: fmt.Sprintf("%s-%d", exp.Kind, i), body: body})
			}
			// The same event again (a Kinesis retry, a second notification, an async retry).
			res := invokeFile(t, f, exp.File)
			if exp.Kind == Kinesis {
				if err := CheckAnswer(exp, res); err != nil {
					t.Errorf("retry: %v", err)
				}
			} else {
				var sum sourceSummary
				if err := json.Unmarshal(res.Payload, &sum); err != nil || sum.Sent != 0 || sum.Duplicates != exp.Sent {
					t.Errorf("retry answered %s (%v), want nothing sent and %d duplicates", res.Payload, err, exp.Sent)
				}
			}
			if again := s.receiveAll(t); len(again) != 0 {
				t.Errorf("the retry queued %d events again", len(again))
			}
		})
	}

	t.Run("a Kinesis batch read from a moto stream reports exactly the bad record's sequence number", func(t *testing.T) {
		kc := kinesis.NewFromConfig(awsConfig(s))
		const stream = "aient-cloudwatch-logs"
		if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(1)}); err != nil {
			t.Fatal(err)
		}
		good, _ := gzipDoc(t, "moto-stream", 3)
		var seqs []string
		for i, data := range [][]byte{good, []byte("\x1f\x8b\x08\x00garbage"), good} {
			out, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), Data: data, PartitionKey: aws.String("p" + strconv.Itoa(i))})
			if err != nil {
				t.Fatal(err)
			}
			seqs = append(seqs, aws.ToString(out.SequenceNumber))
		}
		shards, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
		if err != nil || len(shards.Shards) != 1 {
			t.Fatalf("shards %v, %v", shards, err)
		}
		it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: shards.Shards[0].ShardId, ShardIteratorType: "TRIM_HORIZON"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil || len(got.Records) != 3 {
			t.Fatalf("records %d, %v", len(got.Records), err)
		}
		// The event the event source mapping makes of them.
		var ev events.KinesisEvent
		for _, r := range got.Records {
			ev.Records = append(ev.Records, events.KinesisEventRecord{
				AwsRegion: awstest.Region, EventSource: "aws:kinesis", EventName: "aws:kinesis:record", EventVersion: "1.0",
				EventSourceArn: "arn:aws:kinesis:us-east-1:123456789012:stream/" + stream,
				EventID:        aws.ToString(shards.Shards[0].ShardId) + ":" + aws.ToString(r.SequenceNumber),
				Kinesis: events.KinesisRecord{
					Data: r.Data, PartitionKey: aws.ToString(r.PartitionKey), SequenceNumber: aws.ToString(r.SequenceNumber),
					KinesisSchemaVersion: "1.0", ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: aws.ToTime(r.ApproximateArrivalTimestamp)},
				},
			})
		}
		payload, _ := json.Marshal(ev)
		for attempt := range 2 {
			cctx, cancel := context.WithTimeout(ctx, time.Minute)
			res, err := fns[Kinesis].Invoke(cctx, payload)
			cancel()
			if err != nil || res.Err != nil {
				t.Fatalf("invoke: %v %v", err, res.Err)
			}
			var resp events.KinesisEventResponse
			if err := json.Unmarshal(res.Payload, &resp); err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != seqs[1] {
				t.Fatalf("attempt %d answered %s, want exactly %s", attempt, res.Payload, seqs[1])
			}
			queued := s.receiveAll(t)
			// The good document is in the stream twice: one identity, queued once.
			if want := []int{3, 0}[attempt]; len(queued) != want {
				t.Fatalf("attempt %d queued %d, want %d", attempt, len(queued), want)
			}
			for i, e := range queued {
				body, _ := json.Marshal(e)
				all = append(all, sqsMessage{id: fmt.Sprintf("moto-%d", i), body: body})
			}
		}
	})

	t.Run("the grouper counts every queued event once, although SQS delivers it twice", func(t *testing.T) {
		grouper := StartFunction(t, BuildBootstrap(t, "./functions/grouper"), s.env)
		grouper.Timeout = s.grouperWait
		payload, err := json.Marshal(sqsEvent(sourceTime(), all...))
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			cctx, cancel := context.WithTimeout(ctx, time.Minute)
			res, err := grouper.Invoke(cctx, payload)
			cancel()
			if err != nil || res.Err != nil {
				t.Fatalf("grouper: %v %v", err, res.Err)
			}
			var resp events.SQSEventResponse
			if err := json.Unmarshal(res.Payload, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
				t.Fatalf("grouper answered %s", res.Payload)
			}
		}
		ps, err := s.problems.List(ctx, ExampleOrg, ExampleEnv)
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, p := range ps {
			total += int(p.Count)
		}
		for _, p := range ps {
			t.Logf("problem %q count %d", p.Title, p.Count)
		}
		if total != len(all) || len(all) != 2+3+1+3 {
			t.Fatalf("problems count %d occurrences in %d problems, want %d (one per queued event)", total, len(ps), len(all))
		}
	})

	t.Run("the drain books each source kind", func(t *testing.T) {
		d, err := drainsddb.New(dynamodb.NewFromConfig(awsConfig(s)), s.env["AIENT_DRAINS_TABLE"]).Get(ctx, ExampleDrainID)
		if err != nil {
			t.Fatal(err)
		}
		for kind, want := range map[string][2]int64{"kinesis": {4, 4}, "s3": {2, 0}, "subscription": {2, 0}} {
			st, ok := d.Sources[kind]
			if !ok || st.Deliveries != want[0] || st.Rejected != want[1] || st.LastReceivedAt.IsZero() {
				t.Errorf("source %s: %+v, want %d deliveries and %d rejected", kind, st, want[0], want[1])
			}
		}
	})

	t.Run("every source exported its data events with the headers from the secret", func(t *testing.T) {
		for kind, r := range receivers {
			// At least the error events each kind queued (the data events besides them too).
			checkExported(t, string(kind), r, queuedBy[kind], fns[kind].Logs())
		}
	})

	t.Run("every AWS call each source function made is allowed by its role in template.yaml", func(t *testing.T) {
		c := samTransform(t)
		for kind, rec := range recorders {
			var calls, objects []apiCall
			for _, call := range rec.Calls() {
				if call.Service == "query" && call.Op == "" {
					objects = append(objects, call) // S3's REST GetObject: checked below
					continue
				}
				calls = append(calls, call)
			}
			checkCallsAllowed(t, c, sourceFunctions[string(kind)], calls, s.resources)
			if !readSecret(calls, secretARN) {
				t.Errorf("%s never read the OTLP headers secret", kind)
			}
			if (kind == S3) != (len(objects) > 0) {
				t.Errorf("%s made %d REST (S3) calls", kind, len(objects))
			}
		}
		// The S3 role may read exactly bucket/prefix*; the object read is under it.
		role := c.resource(t, "S3SourceRole", "AWS::IAM::Role").Properties
		allowed := allowedGrants(t, "S3SourceRole", role)
		if !allowed[grant{"s3:GetObject", map[string]any{"Fn::Sub": "arn:${AWS::Partition}:s3:::${S3BucketName}/${S3Prefix}*"}}.key()] {
			t.Error("S3SourceRole does not allow s3:GetObject on the bucket's prefix")
		}
	})
}

func awsConfig(s stack) aws.Config {
	return aws.Config{
		Region:       awstest.Region,
		BaseEndpoint: aws.String(s.endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	}
}

func gzipDoc(t *testing.T, stream string, n int) ([]byte, error) {
	t.Helper()
	doc := cloudWatchDocument{MessageType: "DATA_MESSAGE", Owner: "123456789012", LogGroup: "/aws/lambda/moto", LogStream: stream, SubscriptionFilters: []string{"aient"}}
	for i := range n {
		doc.LogEvents = append(doc.LogEvents, logEvent{ID: eventID(sourceTime(), 100+i), Timestamp: sourceTime().UnixMilli() + int64(i), Message: fmt.Sprintf(`{"level":"ERROR","message":"moto failure %d","error":"MotoError%d","stack":"MotoError%d: moto failure\n    at run (/var/task/moto.js:%d:1)"}`, i, i, i, i)})
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(raw); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
