// Package deploytest checks the deploy side of firehose-drain: the SAM template (cfn-lint
// and the SAM transform), the user-side Firehose templates, the sample events in events/,
// and a Lambda Runtime API served in-process so a test can run a real bootstrap binary.
//
// It also owns what the sample events are made of: the example drain and access key that
// the tests seed, and the answer each events/ file must get (Expectations).
package deploytest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/event"
)

// Sample credentials used by every events/ file. They are examples, seeded by the tests
// (and by `aient drains` on a laptop if the user wants to replay the events); a real
// deployment creates its own drains and keys.
const (
	// ExampleDrainID is an active drain whose key is ExampleAccessKey.
	ExampleDrainID = "drn_example"
	// RevokedDrainID is a drain that had ExampleAccessKey as its key and was revoked.
	RevokedDrainID = "drn_revoked"
	// ExampleAccessKey is the X-Amz-Firehose-Access-Key of both example drains.
	ExampleAccessKey = "example-access-key-0123456789abcdef0123456789abcdef"
	// WrongAccessKey is a key no drain has.
	WrongAccessKey = "example-wrong-key-ffffffffffffffffffffffffffffffff"
	// ExampleOrg and ExampleEnv are what the example drains stamp on events.
	ExampleOrg = "example-org"
	ExampleEnv = "production"
)

// Kind says which Lambda event type an events/ file holds.
type Kind string

// The two event kinds of the sample events.
const (
	FunctionURL Kind = "function-url" // events.LambdaFunctionURLRequest, for the ingest
	SQS         Kind = "sqs"          // events.SQSEvent, for the grouper
)

// Expectation is the answer one events/ file must get from its function.
type Expectation struct {
	// File is the name of the file in events/.
	File string
	Kind Kind
	// Shows says in a few words what the file demonstrates (events/README.md repeats it).
	Shows string

	// Function URL answers: the HTTP status, the Firehose requestId the body must echo, and
	// whether the body carries an errorMessage (every non-200 answer does).
	Status       int
	RequestID    string
	ErrorMessage bool

	// SQS answers: the messageIds that must be reported in batchItemFailures (none: empty).
	// Kinesis answers: the sequence numbers.
	BatchItemFailures []string

	// S3 and subscription answers (a sources.Summary): the error-class events sent to the
	// queue on a first delivery, and the documents or payloads rejected.
	Sent, Rejected int
}

// Fixed identifiers inside the generated events, so that expectations can name them.
const (
	alloyRequestID     = "86208cf6-2bcc-47e6-9010-02ca9f44a025" // the alloy captures' requestId
	gzipRequestID      = "7d3c6a2e-9b1f-4c55-8e0a-2f6b1d4c9e01"
	malformedRequestID = "1f0e2d3c-4b5a-4697-8877-665544332211"
	goodMessageID      = "4d1c0e3a-5b6f-4e2d-9a8b-7c6d5e4f3a21"
	poisonMessageID    = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
	errorMessageID     = "2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901"
)

// Expectations lists every events/ file and the answer it must get. A test of the real
// functions (the Runtime API harness) checks each answer; TestEventsREADME checks that
// events/README.md documents each file.
func Expectations() []Expectation {
	return append([]Expectation{
		{
			File: "url-cloudwatch-data.json", Kind: FunctionURL, Status: 200, RequestID: alloyRequestID,
			Shows: "a real CloudWatch Logs delivery (Grafana Alloy capture): record 0 a CONTROL_MESSAGE, record 1 a DATA_MESSAGE with 13 Lambda log events, none error-class",
		},
		{
			File: "url-control-only.json", Kind: FunctionURL, Status: 200, RequestID: alloyRequestID,
			Shows: "the reachability check CloudWatch/Firehose sends: one CONTROL_MESSAGE record; accepted, nothing stored, drain marked reachable",
		},
		{
			File: "url-gzip-request.json", Kind: FunctionURL, Status: 200, RequestID: gzipRequestID,
			Shows: "a stream with request content encoding GZIP: the body is gzip of the Firehose JSON, base64 with isBase64Encoded; records carry a Node.js Invoke Error and a structured ERROR with stack traces (2 events queued for the grouper)",
		},
		{
			File: "url-wrong-key.json", Kind: FunctionURL, Status: 401, RequestID: alloyRequestID, ErrorMessage: true,
			Shows: "an access key no drain has (same answer as an unknown drain)",
		},
		{
			File: "url-revoked-drain.json", Kind: FunctionURL, Status: 403, RequestID: alloyRequestID, ErrorMessage: true,
			Shows: "the right key for a drain that was revoked",
		},
		{
			File: "url-malformed-body.json", Kind: FunctionURL, Status: 400, RequestID: malformedRequestID, ErrorMessage: true,
			Shows: "a body that is not JSON; the answer echoes the header's request id",
		},
		{
			File: "url-get.json", Kind: FunctionURL, Status: 405, RequestID: "", ErrorMessage: true,
			Shows: "a GET (a browser or a probe, not Firehose): no Firehose headers, so the answer's requestId is empty",
		},
		{
			File: "sqs-one-error.json", Kind: SQS, BatchItemFailures: []string{},
			Shows: "one error event (event.Event JSON) with a Node.js stack trace; recorded as one occurrence of a problem",
		},
		{
			File: "sqs-poison-message.json", Kind: SQS, BatchItemFailures: []string{poisonMessageID},
			Shows: "a good error event next to a body that is not JSON: only the poison message is reported failed (it reaches the DLQ after maxReceiveCount)",
		},
	}, sourceExpectations()...)
}

// Firehose headers and the Function URL request of a delivery.
type urlRequest struct {
	method          string
	drainID         string
	accessKey       string
	requestID       string
	sourceARN       string
	body            []byte // raw HTTP body
	contentEncoding string // "" or "gzip"
	time            time.Time
}

func functionURLEvent(r urlRequest) events.LambdaFunctionURLRequest {
	const urlID = "examplefunctionurlid0123456789ab"
	path := "/aws/firehose/" + r.drainID
	headers := map[string]string{
		"host":              urlID + ".lambda-url.us-east-1.on.aws",
		"x-amzn-trace-id":   "Root=1-" + strconv.FormatInt(r.time.Unix(), 16) + "-0123456789abcdef01234567",
		"x-forwarded-for":   "203.0.113.10",
		"x-forwarded-port":  "443",
		"x-forwarded-proto": "https",
	}
	ev := events.LambdaFunctionURLRequest{
		Version:        "2.0",
		RawPath:        path,
		RawQueryString: "",
		Headers:        headers,
		RequestContext: events.LambdaFunctionURLRequestContext{
			AccountID:    "anonymous",
			RequestID:    "c0ffee00-1111-4222-8333-" + fmt.Sprintf("%012x", r.time.UnixMilli()),
			APIID:        urlID,
			DomainName:   urlID + ".lambda-url.us-east-1.on.aws",
			DomainPrefix: urlID,
			Time:         r.time.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    r.time.UnixMilli(),
			HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{
				Method:   r.method,
				Path:     path,
				Protocol: "HTTP/1.1",
				SourceIP: "203.0.113.10",
			},
		},
	}
	if r.method != "POST" {
		headers["user-agent"] = "curl/8.5.0"
		headers["accept"] = "*/*"
		ev.RequestContext.HTTP.UserAgent = "curl/8.5.0"
		return ev
	}
	headers["content-type"] = "application/json"
	headers["content-length"] = strconv.Itoa(len(r.body))
	headers["x-amz-firehose-protocol-version"] = "1.0"
	headers["x-amz-firehose-request-id"] = r.requestID
	headers["x-amz-firehose-source-arn"] = r.sourceARN
	headers["x-amz-firehose-access-key"] = r.accessKey
	if r.contentEncoding != "" {
		headers["content-encoding"] = r.contentEncoding
		// A binary body reaches the function base64-encoded with the flag set.
		ev.Body = base64.StdEncoding.EncodeToString(r.body)
		ev.IsBase64Encoded = true
		return ev
	}
	ev.Body = string(r.body)
	return ev
}

// Inputs are the real captures the Function URL events are built from, read verbatim.
type Inputs struct {
	// CloudWatchData is a whole Firehose request body with control and data records
	// (conformance/firehose/alloy/cw_logs_mixed.json).
	CloudWatchData []byte
	// ControlOnly is a Firehose request body with one CONTROL_MESSAGE record
	// (conformance/firehose/alloy/cw_logs_with_only_control_messages.json).
	ControlOnly []byte
}

// GenerateEvents builds every events/ file, keyed by file name, from the real captures.
// It is deterministic: the same inputs give the same bytes.
func GenerateEvents(in Inputs) (map[string][]byte, error) {
	alloyTime := time.UnixMilli(1684424042901).UTC() // the captures' own timestamp
	const alloySource = "arn:aws:firehose:us-east-2:366620023056:deliverystream/aient-cloudwatch-logs"
	gzipTime := time.Date(2026, 11, 20, 14, 3, 21, 0, time.UTC)

	gzBody, err := gzipRequestBody(gzipTime)
	if err != nil {
		return nil, err
	}
	url := map[string]urlRequest{
		"url-cloudwatch-data.json": {
			method: "POST", drainID: ExampleDrainID, accessKey: ExampleAccessKey,
			requestID: alloyRequestID, sourceARN: alloySource, body: in.CloudWatchData, time: alloyTime,
		},
		"url-control-only.json": {
			method: "POST", drainID: ExampleDrainID, accessKey: ExampleAccessKey,
			requestID: alloyRequestID, sourceARN: alloySource, body: in.ControlOnly, time: alloyTime,
		},
		"url-gzip-request.json": {
			method: "POST", drainID: ExampleDrainID, accessKey: ExampleAccessKey,
			requestID: gzipRequestID, sourceARN: "arn:aws:firehose:us-east-1:123456789012:deliverystream/aient-cloudwatch-logs",
			body: gzBody, contentEncoding: "gzip", time: gzipTime,
		},
		"url-wrong-key.json": {
			method: "POST", drainID: ExampleDrainID, accessKey: WrongAccessKey,
			requestID: alloyRequestID, sourceARN: alloySource, body: in.CloudWatchData, time: alloyTime,
		},
		"url-revoked-drain.json": {
			method: "POST", drainID: RevokedDrainID, accessKey: ExampleAccessKey,
			requestID: alloyRequestID, sourceARN: alloySource, body: in.CloudWatchData, time: alloyTime,
		},
		"url-malformed-body.json": {
			method: "POST", drainID: ExampleDrainID, accessKey: ExampleAccessKey,
			requestID: malformedRequestID, sourceARN: alloySource,
			body: []byte("<html><body>this is not a Firehose request</body></html>\n"), time: alloyTime,
		},
		"url-get.json": {method: "GET", drainID: ExampleDrainID, time: alloyTime},
	}
	out := make(map[string][]byte, len(url)+2)
	for name, r := range url {
		if out[name], err = marshalEvent(functionURLEvent(r)); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}

	errEvent, err := json.Marshal(sampleErrorEvent(gzipTime))
	if err != nil {
		return nil, fmt.Errorf("marshal the sample error event: %w", err)
	}
	sqsTime := gzipTime.Add(2 * time.Second)
	if out["sqs-one-error.json"], err = marshalEvent(sqsEvent(sqsTime, sqsMessage{errorMessageID, errEvent})); err != nil {
		return nil, fmt.Errorf("sqs-one-error.json: %w", err)
	}
	if out["sqs-poison-message.json"], err = marshalEvent(sqsEvent(sqsTime,
		sqsMessage{goodMessageID, errEvent},
		sqsMessage{poisonMessageID, []byte("this message is not JSON")},
	)); err != nil {
		return nil, fmt.Errorf("sqs-poison-message.json: %w", err)
	}
	if err := addSourceEvents(out); err != nil {
		return nil, err
	}
	return out, nil
}

func marshalEvent(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal event: %w", err)
	}
	return append(b, '\n'), nil
}

// sampleErrorEvent is the grouper's input for a Node.js TypeError: what the ingest queues
// for the first error of url-gzip-request.json.
func sampleErrorEvent(t time.Time) event.Event {
	at := t.Add(-40 * time.Second)
	return event.Event{
		Drain:             ExampleDrainID,
		Org:               ExampleOrg,
		Env:               ExampleEnv,
		Account:           "123456789012",
		Region:            "us-east-1",
		LogGroup:          "/aws/lambda/checkout",
		LogStream:         checkoutStream,
		ID:                eventID(at, 3),
		Timestamp:         at.UnixMilli(),
		Message:           nodeInvokeError,
		Level:             event.Error,
		FirehoseRequestID: gzipRequestID,
	}
}

type sqsMessage struct {
	id   string
	body []byte
}

func sqsEvent(t time.Time, msgs ...sqsMessage) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for i, m := range msgs {
		sum := md5.Sum(m.body)
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId:     m.id,
			ReceiptHandle: "AQEB" + base64.StdEncoding.EncodeToString([]byte("example-receipt-handle-"+m.id)),
			Body:          string(m.body),
			Md5OfBody:     hex.EncodeToString(sum[:]),
			Attributes: map[string]string{
				"ApproximateReceiveCount":          "1",
				"SentTimestamp":                    strconv.FormatInt(t.UnixMilli()+int64(i), 10),
				"SenderId":                         "AROAEXAMPLEROLEID0000:firehose-drain-IngestFunction-EXAMPLE",
				"ApproximateFirstReceiveTimestamp": strconv.FormatInt(t.UnixMilli()+int64(i)+150, 10),
			},
			MessageAttributes: map[string]events.SQSMessageAttribute{},
			EventSourceARN:    "arn:aws:sqs:us-east-1:123456789012:firehose-drain-EventQueue-EXAMPLE",
			EventSource:       "aws:sqs",
			AWSRegion:         "us-east-1",
		})
	}
	return ev
}

const checkoutStream = "2026/11/20/[$LATEST]5f0c9e3a1b2d4c6e8f0a1b2c3d4e5f60"

// nodeInvokeError is the line the Node.js runtime logs for an uncaught exception.
const nodeInvokeError = "2026-11-20T14:02:41.000Z\t6b1e2f3a-4c5d-4e6f-8a9b-0c1d2e3f4a5b\tERROR\tInvoke Error \t" +
	`{"errorType":"TypeError","errorMessage":"Cannot read properties of undefined (reading 'id')",` +
	`"stack":["TypeError: Cannot read properties of undefined (reading 'id')",` +
	`"    at chargeCustomer (/var/task/src/payments.js:42:27)",` +
	`"    at Runtime.handler (/var/task/src/index.js:17:11)",` +
	`"    at Runtime.handleOnceNonStreaming (file:///var/runtime/index.mjs:1173:29)"]}` + "\n"

// structuredError is the product's recommended structured error log.
const structuredError = `{"level":"ERROR","message":"card declined","error":"CardDeclinedError",` +
	`"stack":"CardDeclinedError: card declined\n    at authorize (/var/task/src/payments.js:88:13)\n` +
	`    at processTicksAndRejections (node:internal/process/task_queues:95:5)\n` +
	`    at async Runtime.handler (/var/task/src/index.js:21:5)","orderId":"ord_1234"}` + "\n"

// eventID builds a CloudWatch-like event id: the decimal form of the hex
// [timestamp ms][00000][ingestion ms][16 opaque hex][4 hex sequence] the captures show.
func eventID(ts time.Time, seq int) string {
	h := fmt.Sprintf("%x00000%x%016x%04x", ts.UnixMilli(), ts.UnixMilli()+120, uint64(0x5eed0000cafe0000), seq)
	n, _ := new(big.Int).SetString(h, 16)
	return n.String()
}

type logEvent struct {
	ID              string            `json:"id"`
	Timestamp       int64             `json:"timestamp"`
	Message         string            `json:"message"`
	ExtractedFields map[string]string `json:"extractedFields,omitempty"`
}

type cloudWatchDocument struct {
	MessageType         string     `json:"messageType"`
	Owner               string     `json:"owner"`
	LogGroup            string     `json:"logGroup"`
	LogStream           string     `json:"logStream"`
	SubscriptionFilters []string   `json:"subscriptionFilters"`
	LogEvents           []logEvent `json:"logEvents"`
}

// gzipRequestBody is the HTTP body of a stream with request content encoding GZIP: gzip of
// a Firehose JSON body whose records are base64 of gzip of CloudWatch Logs JSON, as
// CloudWatch Logs writes them (with emit_system_fields on).
func gzipRequestBody(t time.Time) ([]byte, error) {
	system := map[string]string{"@aws.account": "123456789012", "@aws.region": "us-east-1"}
	at := func(d time.Duration) time.Time { return t.Add(d) }
	docs := []cloudWatchDocument{
		{
			MessageType: "DATA_MESSAGE", Owner: "123456789012", LogGroup: "/aws/lambda/checkout",
			LogStream: checkoutStream, SubscriptionFilters: []string{"aient"},
			LogEvents: []logEvent{
				{
					eventID(at(-41*time.Second), 1), at(-41 * time.Second).UnixMilli(),
					"START RequestId: 6b1e2f3a-4c5d-4e6f-8a9b-0c1d2e3f4a5b Version: $LATEST\n", system,
				},
				{
					eventID(at(-41*time.Second), 2), at(-41 * time.Second).UnixMilli(),
					"2026-11-20T14:02:40.950Z\t6b1e2f3a-4c5d-4e6f-8a9b-0c1d2e3f4a5b\tINFO\tcharging order ord_1234\n", system,
				},
				{eventID(at(-40*time.Second), 3), at(-40 * time.Second).UnixMilli(), nodeInvokeError, system},
				{
					eventID(at(-40*time.Second), 4), at(-40 * time.Second).UnixMilli(),
					"END RequestId: 6b1e2f3a-4c5d-4e6f-8a9b-0c1d2e3f4a5b\n", system,
				},
				{
					eventID(at(-40*time.Second), 5), at(-40 * time.Second).UnixMilli(),
					"REPORT RequestId: 6b1e2f3a-4c5d-4e6f-8a9b-0c1d2e3f4a5b\tDuration: 812.33 ms\tBilled Duration: 813 ms\tMemory Size: 512 MB\tMax Memory Used: 91 MB\t\n", system,
				},
			},
		},
		{
			MessageType: "DATA_MESSAGE", Owner: "123456789012", LogGroup: "/aws/lambda/checkout",
			LogStream: checkoutStream, SubscriptionFilters: []string{"aient"},
			LogEvents: []logEvent{
				{
					eventID(at(-20*time.Second), 6), at(-20 * time.Second).UnixMilli(),
					"this message only mentions the word error; it is not an error\n", system,
				},
				{eventID(at(-19*time.Second), 7), at(-19 * time.Second).UnixMilli(), structuredError, system},
			},
		},
	}
	type record struct {
		Data string `json:"data"`
	}
	body := struct {
		RequestID string   `json:"requestId"`
		Timestamp int64    `json:"timestamp"`
		Records   []record `json:"records"`
	}{RequestID: gzipRequestID, Timestamp: t.UnixMilli()}
	for i, d := range docs {
		raw, err := json.Marshal(d)
		if err != nil {
			return nil, fmt.Errorf("record %d: marshal CloudWatch document: %w", i, err)
		}
		gz, err := gzipBytes(raw)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		body.Records = append(body.Records, record{Data: base64.StdEncoding.EncodeToString(gz)})
	}
	plain, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("marshal Firehose body: %w", err)
	}
	return gzipBytes(plain)
}

func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return buf.Bytes(), nil
}

// drainCreator is the part of drains.Store that SeedExampleDrains needs.
type drainCreator interface {
	Create(ctx context.Context, d drains.Drain) error
	Revoke(ctx context.Context, id string, at time.Time) error
}

// SeedExampleDrains stores the drains the events/ files deliver to: ExampleDrainID, active,
// and RevokedDrainID, revoked, both with ExampleAccessKey digested under pepper.
func SeedExampleDrains(ctx context.Context, store drainCreator, pepper []byte, now time.Time) error {
	digest := drains.Digest(pepper, ExampleAccessKey)
	for _, id := range []string{ExampleDrainID, RevokedDrainID} {
		d := drains.Drain{
			ID: id, Org: ExampleOrg, Env: ExampleEnv, State: drains.StateActive,
			Keys: []drains.Key{{Digest: digest}}, CreatedAt: now,
		}
		if err := store.Create(ctx, d); err != nil {
			return fmt.Errorf("seed drain %s: %w", id, err)
		}
	}
	if err := store.Revoke(ctx, RevokedDrainID, now); err != nil {
		return fmt.Errorf("revoke drain %s: %w", RevokedDrainID, err)
	}
	return nil
}
