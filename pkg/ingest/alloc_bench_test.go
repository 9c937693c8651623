package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"

	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/ingest"
	"github.com/aient/firehose-drain/pkg/sqsqueue"
)

// discardSQS stands in for SQS below the real sqsqueue.Sender: it answers every entry as
// sent and counts the body bytes, so the benchmark sees the sender's own work (bodies,
// packing, batches) without the SDK's serialization or HTTP.
type discardSQS struct{ bytes atomic.Int64 }

func (d *discardSQS) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	out := &sqs.SendMessageBatchOutput{Successful: make([]types.SendMessageBatchResultEntry, len(in.Entries))}
	n := 0
	for i, e := range in.Entries {
		n += len(aws.ToString(e.MessageBody))
		out.Successful[i].Id = e.Id
	}
	d.bytes.Add(int64(n))
	return out, nil
}

// BenchmarkHandlerAlloc is the whole handler (Invoke: the Function URL event parsed in
// place, decoded on 2 workers, claimed, the SQS bodies built) over the ~5.5 MB delivery
// at 1 %, 5 % and 50 % error-class events, with in-memory claims and the real
// sqsqueue.Sender over discardSQS. It reports the allocated bytes per request after a
// first one (the steady state: the buffers the handler, the decoder and the sender keep
// are grown by then) as a multiple of the request size, and the bodies sent (body-B, and
// body/request-size: the output, written into the sender's reused buffer).
func BenchmarkHandlerAlloc(b *testing.B) {
	for _, pct := range []int{1, 5, 50} {
		b.Run(fmt.Sprintf("errors=%d%%", pct), func(b *testing.B) {
			payload := sizedDelivery(5_500_000, pct)
			auth := &fakeAuth{
				drains: map[string]drains.Drain{drainID: {ID: drainID, Org: "acme", Env: "prod", State: drains.StateActive}},
				keys:   map[string]string{drainID: key},
			}
			sqsAPI := &discardSQS{}
			send := sqsqueue.NewWithAPI(sqsAPI, "https://sqs.us-east-1.amazonaws.com/123456789012/events")
			claims := newFakeClaims()
			h := ingest.New(auth, &fakeBooks{}, claims, send, ingest.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			buf := make([]byte, len(payload))
			deliver := func() {
				clear(claims.state) // every iteration is a first delivery
				invokeOK(b, h, payload, buf)
			}
			// The steady state is what is measured: a first request grows the buffers the
			// handler, the decoder and the sender keep for the next ones.
			deliver()
			sqsAPI.bytes.Store(0)
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				deliver()
			}
			runtime.ReadMemStats(&after)
			perReq := float64(after.TotalAlloc-before.TotalAlloc) / float64(b.N)
			bodies := float64(sqsAPI.bytes.Load()) / float64(b.N)
			b.ReportMetric(perReq/float64(len(payload)), "alloc/request-size")
			b.ReportMetric(bodies, "body-B")
			b.ReportMetric(bodies/float64(len(payload)), "body/request-size")
			b.ReportMetric(float64(len(payload)), "request-B")
		})
	}
}

// sizedDelivery is a Function URL event whose Firehose body is about size bytes: records
// of 400 events of one stream each, invocations of 2..8 Lambda text lines with random ids
// and values (so that gzip compresses them about as it does real logs), pct % of the
// events error-class.
func sizedDelivery(size, pct int) []byte {
	r := rand.New(rand.NewPCG(uint64(pct), 7))
	var data []string
	for rec := 0; ; rec++ {
		evs := make([]fht.LogEvent, 0, 400)
		for len(evs) < 400 {
			req := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), r.IntN(1<<12), r.Uint64()&(1<<48-1))
			ev := fht.InfoEvent(rec*400 + len(evs))
			ev.Message = "START RequestId: " + req + " Version: $LATEST\n"
			evs = append(evs, ev)
			for k := 2 + r.IntN(6); k > 0 && len(evs) < 400; k-- {
				i := rec*400 + len(evs)
				ev := fht.InfoEvent(i)
				ev.Message = fmt.Sprintf("2026-11-21T10:00:%02d.%03dZ\t%s\tINFO\tcharged order %d for %d.%02d EUR in %d ms\n",
					i%60, i%1000, req, r.IntN(1e7), r.IntN(500), r.IntN(100), r.IntN(900))
				if r.IntN(100) < pct {
					ev = fht.ErrorEvent(i)
					if i%3 == 0 {
						ev = fht.OtherErrorEvent(i)
					}
				}
				evs = append(evs, ev)
			}
		}
		data = append(data, fht.Record("/aws/lambda/pay", fmt.Sprintf("2026/11/21/[$LATEST]%04d", rec%50), evs...))
		if body := fht.Body("alloc", data...); len(body) >= size {
			payload, err := json.Marshal(map[string]any{
				"version": "2.0", "rawPath": "/aws/firehose/" + drainID, "body": string(body),
				"headers": map[string]string{
					"x-amz-firehose-request-id": "alloc", "x-amz-firehose-access-key": key, "content-type": "application/json",
					"x-amz-firehose-source-arn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/s",
				},
				"requestContext": map[string]any{"http": map[string]string{"method": "POST", "path": "/aws/firehose/" + drainID}},
			})
			if err != nil {
				panic(err)
			}
			return payload
		}
	}
}
