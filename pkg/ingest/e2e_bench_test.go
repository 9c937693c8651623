package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aient/firehose-drain/internal/testkit/awsfake"
	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
	"github.com/aient/firehose-drain/pkg/dedup"
	dedupddb "github.com/aient/firehose-drain/pkg/dedup/ddb"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/ingest"
	"github.com/aient/firehose-drain/pkg/sqsqueue"
)

// benchDelivery is a Function URL event of records*perRecord events, pct of them
// error-class (two bugs), as one Firehose request: ~100 k events, the size of the issue's
// 5.5 MB delivery.
func benchDelivery(records, perRecord, pct int) (payload []byte, errorEvents int) {
	var data []string
	every := 100 / pct
	for r := range records {
		evs := make([]fht.LogEvent, 0, perRecord)
		for k := range perRecord {
			i := r*perRecord + k
			switch {
			case pct == 50 && i%2 == 0, pct != 50 && i%every == 0:
				if i%3 == 0 {
					evs = append(evs, fht.OtherErrorEvent(i))
				} else {
					evs = append(evs, fht.ErrorEvent(i))
				}
				errorEvents++
			default:
				evs = append(evs, fht.InfoEvent(i))
			}
		}
		data = append(data, fht.Record("/aws/lambda/pay", fmt.Sprintf("2026/11/21/[$LATEST]%04d", r), evs...))
	}
	const reqID = "bench-request"
	return urlEvent(reqID, fht.Body(reqID, data...)), errorEvents
}

// urlEvent is the Function URL event of a Firehose request body to the drain.
func urlEvent(reqID string, body []byte) []byte {
	payload, err := json.Marshal(map[string]any{
		"version": "2.0", "rawPath": "/aws/firehose/" + drainID, "body": string(body),
		"headers": map[string]string{
			"x-amz-firehose-request-id": reqID, "x-amz-firehose-access-key": key, "content-type": "application/json",
			"x-amz-firehose-source-arn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/s",
		},
		"requestContext": map[string]any{"http": map[string]string{"method": "POST", "path": "/aws/firehose/" + drainID}},
	})
	if err != nil {
		panic(err)
	}
	return payload
}

// BenchmarkDelivery is the whole ingest handler over a ~100 k-event delivery with the real
// DynamoDB claimer and SQS sender talking to a fake AWS that answers every DynamoDB
// request after 5 ms and every SQS request after 10 ms (awsfake). Every iteration is a
// first delivery (the fake finds no claim). It reports wall time per delivery and AWS
// requests per error-class event.
func BenchmarkDelivery(b *testing.B) {
	for _, pct := range []int{1, 5, 50} {
		b.Run(fmt.Sprintf("errors=%d%%", pct), func(b *testing.B) {
			payload, errorEvents := benchDelivery(200, 500, pct)
			fake := awsfake.Start(b, 5*time.Millisecond, 10*time.Millisecond)
			h := deliveryHandler(fake.Config(), nil)
			fake.Counts()
			b.ReportAllocs()
			cpu0 := awsfake.CPUTime()
			buf := make([]byte, len(payload))
			for b.Loop() {
				invokeOK(b, h, payload, buf)
			}
			cpu := awsfake.CPUTime() - cpu0
			counts := fake.Counts()
			n := float64(b.N) * float64(errorEvents)
			writes := counts["DynamoDB.PutItem"] + counts["DynamoDB.TransactWriteItems"] + counts["DynamoDB.UpdateItem"] + counts["DynamoDB.DeleteItem"]
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/delivery")
			// CPU of the whole process (the fake AWS included), for telling CPU from waiting.
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/delivery")
			b.ReportMetric(float64(writes)/n, "ddb-writes/error-event")
			b.ReportMetric(float64(counts["SQS.SendMessageBatch"])/n, "sqs-sends/error-event")
			b.ReportMetric(float64(errorEvents), "error-events")
			b.ReportMetric(float64(len(payload)), "request-B")
		})
	}
}

// deliveryHandler is the ingest handler of BenchmarkDelivery: the real DynamoDB claimer and
// SQS sender against fake, and export (nil: none).
func deliveryHandler(cfg aws.Config, export ingest.Exporter) *ingest.Handler {
	fake := struct{ URL string }{*cfg.BaseEndpoint}
	claims := dedup.New(dedupddb.New(dynamodb.NewFromConfig(cfg), "claims"), dedup.Config{})
	send := sqsqueue.New(sqs.NewFromConfig(cfg), fake.URL+"/123456789012/events")
	auth := &fakeAuth{
		drains: map[string]drains.Drain{drainID: {ID: drainID, Org: "acme", Env: "prod", State: drains.StateActive}},
		keys:   map[string]string{drainID: key},
	}
	return ingest.New(auth, &fakeBooks{}, claims, send, ingest.Config{Export: export, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// invokeOK delivers payload (copied into buf: Invoke parses the event in place, as the
// Lambda runtime allows) within the ingest's budget, and fails unless it is answered 200.
func invokeOK(tb testing.TB, h *ingest.Handler, payload, buf []byte) {
	tb.Helper()
	copy(buf, payload)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := h.Invoke(ctx, buf)
	if err != nil {
		tb.Fatal(err)
	}
	var resp struct {
		StatusCode int `json:"statusCode"`
	}
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != 200 {
		tb.Fatalf("answer %s (%v)", out, err)
	}
}
