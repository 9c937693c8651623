package deploytest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// The sample events of the bound sources (functions/sources): a Kinesis batch, an S3
// notification and a direct subscription.

// The source event kinds.
const (
	Kinesis      Kind = "kinesis"      // events.KinesisEvent, for KinesisSourceFunction
	S3           Kind = "s3"           // events.S3Event, for S3SourceFunction
	Subscription Kind = "subscription" // events.CloudwatchLogsEvent, for SubscriptionSourceFunction
)

// The S3 object s3-object-created.json announces; tests put ExampleS3Object there.
const (
	ExampleS3Bucket = "example-cloudwatch-archive"
	ExampleS3Key    = "cloudwatch/2026/11/20/14/aient-cloudwatch-logs-1-2026-11-20-14-03-21-0f1e2d3c.gz"
	// ExampleMemberAccount is the member account of the organization whose events the
	// subscription sample carries (with @aws.account/@aws.region system fields).
	ExampleMemberAccount = "210987654321"
	ExampleMemberRegion  = "eu-west-1"
)

// Fixed identifiers of the source events.
var (
	kinesisGoodSeq    = "49656985543224581442513046325431478736391236046098169858"
	kinesisBadSeq     = "49656985543224581442513046325432687662210850675272876034"
	kinesisControlSeq = "49656985543224581442513046325433896588030465304447582210"
)

func sourceExpectations() []Expectation {
	return []Expectation{
		{
			File: "kinesis-cloudwatch.json", Kind: Kinesis, BatchItemFailures: []string{kinesisBadSeq},
			Shows: "a Kinesis batch from a CloudWatch Logs subscription: a gzip document with a Node.js Invoke Error and a Java exception, a record that is not gzip or JSON (a producer's stray write), and a CONTROL_MESSAGE; only the bad record's sequence number is reported, 2 events queued",
		},
		{
			File: "s3-object-created.json", Kind: S3, Sent: 3,
			Shows: "an S3 ObjectCreated notification for an object Firehose wrote (deploytest.ExampleS3Object: three gzip members, compact and pretty documents, no delimiter); the function streams it with GetObject, 3 events queued",
		},
		{
			File: "cloudwatch-logs-subscription.json", Kind: Subscription, Sent: 1,
			Shows: "a subscription filter that targets the function directly: awslogs.data from a member account of an organization, with @aws.account/@aws.region system fields; 1 event queued, stamped with that account and region",
		},
	}
}

func sourceTime() time.Time { return time.Date(2026, 11, 20, 14, 3, 21, 0, time.UTC) }

const javaError = "2026-11-20 14:03:02.117 ERROR [main] c.e.orders.Handler - order lookup failed\n" +
	"java.lang.IllegalStateException: order ord_5678 not found\n" +
	"\tat com.example.orders.OrderService.load(OrderService.java:57)\n" +
	"\tat com.example.orders.Handler.handleRequest(Handler.java:31)\n" +
	"\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)\n"

// sourceDocs are the documents of the source samples; stream and seq keep the Kinesis and
// the S3 samples' events apart (the same event through two sources of one drain is one
// identity, claimed once).
func sourceDocs(t time.Time, stream string, seq int) (errorsDoc, control, pretty []byte, err error) {
	at := func(d time.Duration) time.Time { return t.Add(d) }
	d1 := cloudWatchDocument{
		MessageType: "DATA_MESSAGE", Owner: "123456789012", LogGroup: "/aws/lambda/orders",
		LogStream: stream, SubscriptionFilters: []string{"aient"},
		LogEvents: []logEvent{
			{ID: eventID(at(-30*time.Second), seq+1), Timestamp: at(-30 * time.Second).UnixMilli(), Message: nodeInvokeError},
			{ID: eventID(at(-29*time.Second), seq+2), Timestamp: at(-29 * time.Second).UnixMilli(), Message: "2026-11-20T14:02:52.000Z\t0b1c\tINFO\torder ord_5678 fetched\n"},
			{ID: eventID(at(-19*time.Second), seq+3), Timestamp: at(-19 * time.Second).UnixMilli(), Message: javaError},
		},
	}
	ctl := cloudWatchDocument{
		MessageType: "CONTROL_MESSAGE", Owner: "CloudwatchLogs", LogGroup: "", LogStream: "",
		SubscriptionFilters: []string{},
		LogEvents:           []logEvent{{ID: "", Timestamp: t.UnixMilli(), Message: "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}},
	}
	d3 := cloudWatchDocument{
		MessageType: "DATA_MESSAGE", Owner: "123456789012", LogGroup: "/aws/lambda/checkout",
		LogStream: checkoutStream, SubscriptionFilters: []string{"aient"},
		LogEvents: []logEvent{
			{ID: eventID(at(-9*time.Second), seq+4), Timestamp: at(-9 * time.Second).UnixMilli(), Message: structuredError},
		},
	}
	if errorsDoc, err = json.Marshal(d1); err != nil {
		return nil, nil, nil, err
	}
	if control, err = json.Marshal(ctl); err != nil {
		return nil, nil, nil, err
	}
	if pretty, err = json.MarshalIndent(d3, "", "    "); err != nil {
		return nil, nil, nil, err
	}
	return errorsDoc, control, pretty, nil
}

// ExampleS3Object is the object s3-object-created.json announces: what Firehose writes to
// S3 from a CloudWatch Logs subscription without decompression, each record's gzip member
// concatenated with no delimiter (here three documents: two errors, a control message, one
// pretty-printed error).
func ExampleS3Object() ([]byte, error) {
	d1, ctl, d3, err := sourceDocs(sourceTime(), "2026/11/20/[$LATEST]7c6b5a49382716f5e4d3c2b1a0f9e8d7", 30)
	if err != nil {
		return nil, err
	}
	var obj []byte
	for _, d := range [][]byte{d1, ctl, d3} {
		gz, err := gzipBytes(d)
		if err != nil {
			return nil, err
		}
		obj = append(obj, gz...)
	}
	return obj, nil
}

func addSourceEvents(out map[string][]byte) error {
	t := sourceTime()
	d1, ctl, _, err := sourceDocs(t, "2026/11/20/[$LATEST]0a1b2c3d4e5f60718293a4b5c6d7e8f9", 10)
	if err != nil {
		return fmt.Errorf("source documents: %w", err)
	}
	gz1, err := gzipBytes(d1)
	if err != nil {
		return err
	}
	gzCtl, err := gzipBytes(ctl)
	if err != nil {
		return err
	}
	const streamARN = "arn:aws:kinesis:us-east-1:123456789012:stream/aient-cloudwatch-logs"
	rec := func(seq string, data []byte, n int) events.KinesisEventRecord {
		return events.KinesisEventRecord{
			AwsRegion: "us-east-1", EventID: "shardId-000000000000:" + seq, EventName: "aws:kinesis:record",
			EventSource: "aws:kinesis", EventSourceArn: streamARN, EventVersion: "1.0",
			InvokeIdentityArn: "arn:aws:iam::123456789012:role/firehose-drain-KinesisSourceRole-EXAMPLE",
			Kinesis: events.KinesisRecord{
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: t.Add(time.Duration(n) * time.Millisecond)},
				Data:                        data, PartitionKey: "d0c1b2a3e4f5a6b7c8d9e0f1a2b3c4d5", SequenceNumber: seq, KinesisSchemaVersion: "1.0",
			},
		}
	}
	kin := events.KinesisEvent{Records: []events.KinesisEventRecord{
		rec(kinesisGoodSeq, gz1, 0),
		rec(kinesisBadSeq, []byte("a producer's stray write: not a CloudWatch Logs payload\n"), 1),
		rec(kinesisControlSeq, gzCtl, 2),
	}}
	if out["kinesis-cloudwatch.json"], err = marshalEvent(kin); err != nil {
		return fmt.Errorf("kinesis-cloudwatch.json: %w", err)
	}

	obj, err := ExampleS3Object()
	if err != nil {
		return err
	}
	s3ev := events.S3Event{Records: []events.S3EventRecord{{
		EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: "us-east-1", EventTime: t.Add(65 * time.Second),
		EventName:         "ObjectCreated:Put",
		PrincipalID:       events.S3UserIdentity{PrincipalID: "AWS:AROAEXAMPLEFIREHOSE:firehose"},
		RequestParameters: events.S3RequestParameters{SourceIPAddress: "10.0.12.34"},
		ResponseElements:  map[string]string{"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
		S3: events.S3Entity{
			SchemaVersion: "1.0", ConfigurationID: "aient-cloudwatch-objects",
			Bucket: events.S3Bucket{Name: ExampleS3Bucket, OwnerIdentity: events.S3UserIdentity{PrincipalID: "A3NL1KOZZKExample"}, Arn: "arn:aws:s3:::" + ExampleS3Bucket},
			Object: events.S3Object{Key: ExampleS3Key, Size: int64(len(obj)), ETag: "d41d8cd98f00b204e9800998ecf8427e", Sequencer: "0065A1B2C3D4E5F601"},
		},
	}}}
	b, err := json.Marshal(s3ev)
	if err != nil {
		return fmt.Errorf("s3-object-created.json: %w", err)
	}
	// urlDecodedKey is aws-lambda-go's own field, not S3's: leave it out of the sample.
	var generic map[string]any
	if err := json.Unmarshal(b, &generic); err != nil {
		return err
	}
	records, _ := generic["Records"].([]any)
	for _, r := range records {
		rec, _ := r.(map[string]any)
		s3, _ := rec["s3"].(map[string]any)
		obj, ok := s3["object"].(map[string]any)
		if !ok {
			return fmt.Errorf("the S3 notification's record has no s3.object: %v", r)
		}
		delete(obj, "urlDecodedKey")
		delete(obj, "versionId")
	}
	if out["s3-object-created.json"], err = marshalEvent(generic); err != nil {
		return fmt.Errorf("s3-object-created.json: %w", err)
	}

	system := map[string]string{"@aws.account": ExampleMemberAccount, "@aws.region": ExampleMemberRegion}
	sub := cloudWatchDocument{
		MessageType: "DATA_MESSAGE", Owner: ExampleMemberAccount, LogGroup: "/aws/lambda/billing",
		LogStream: "2026/11/20/[$LATEST]9f8e7d6c5b4a39281706f5e4d3c2b1a0", SubscriptionFilters: []string{"aient-org"},
		LogEvents: []logEvent{
			{ID: eventID(t.Add(-5*time.Second), 21), Timestamp: t.Add(-5 * time.Second).UnixMilli(), Message: "START RequestId: 1a2b Version: $LATEST\n", ExtractedFields: system},
			{ID: eventID(t.Add(-4*time.Second), 22), Timestamp: t.Add(-4 * time.Second).UnixMilli(), Message: nodeInvokeError, ExtractedFields: system},
		},
	}
	raw, err := json.Marshal(sub)
	if err != nil {
		return err
	}
	gzSub, err := gzipBytes(raw)
	if err != nil {
		return err
	}
	subEv := events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: base64.StdEncoding.EncodeToString(gzSub)}}
	if out["cloudwatch-logs-subscription.json"], err = marshalEvent(subEv); err != nil {
		return fmt.Errorf("cloudwatch-logs-subscription.json: %w", err)
	}
	return nil
}

// sourceSummary mirrors sources.Summary (deploytest does not import the code it checks).
type sourceSummary struct {
	Source      string   `json:"source"`
	Drain       string   `json:"drain"`
	Objects     int      `json:"objects"`
	Skipped     int      `json:"skipped"`
	Documents   int      `json:"documents"`
	Events      int      `json:"events"`
	ErrorEvents int      `json:"errorEvents"`
	Sent        int      `json:"sent"`
	Duplicates  int      `json:"duplicates"`
	Rejected    int      `json:"rejected"`
	Errors      []string `json:"errors"`
}

func checkSourceAnswer(exp Expectation, payload []byte) error {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if exp.Kind == Kinesis {
		var resp events.KinesisEventResponse
		if err := dec.Decode(&resp); err != nil {
			return fmt.Errorf("%s: answer %q is not a KinesisEventResponse: %w", exp.File, payload, err)
		}
		if resp.BatchItemFailures == nil {
			return fmt.Errorf("%s: answer %q has no batchItemFailures list", exp.File, payload)
		}
		got := make([]string, 0, len(resp.BatchItemFailures))
		for _, f := range resp.BatchItemFailures {
			got = append(got, f.ItemIdentifier)
		}
		want := slices.Clone(exp.BatchItemFailures)
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			return fmt.Errorf("%s: batchItemFailures %v, want %v", exp.File, got, want)
		}
		return nil
	}
	var s sourceSummary
	if err := dec.Decode(&s); err != nil {
		return fmt.Errorf("%s: answer %q is not a sources summary: %w", exp.File, payload, err)
	}
	var problems []error
	if s.Source != string(exp.Kind) || s.Drain != ExampleDrainID {
		problems = append(problems, fmt.Errorf("source %q drain %q, want %q %q", s.Source, s.Drain, exp.Kind, ExampleDrainID))
	}
	if s.Sent != exp.Sent || s.Rejected != exp.Rejected || len(s.Errors) != exp.Rejected {
		problems = append(problems, fmt.Errorf("sent %d rejected %d errors %v, want %d %d", s.Sent, s.Rejected, s.Errors, exp.Sent, exp.Rejected))
	}
	if err := errors.Join(problems...); err != nil {
		return fmt.Errorf("%s: %w", exp.File, err)
	}
	return nil
}
