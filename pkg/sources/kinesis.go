package sources

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/ingest"
)

// newKinesis serves a Kinesis Data Streams trigger whose records carry CloudWatch Logs
// subscription payloads (gzip documents; the event's JSON decoding undoes the base64). The
// answer is a partial batch response (the event source mapping has
// FunctionResponseTypes: [ReportBatchItemFailures]): every record that was not fully
// handled is named by its sequence number. A record that can never decode is named too,
// and counted as rejected on the drain; the mapping's MaximumRetryAttempts,
// BisectBatchOnFunctionError and on-failure destination (template.yaml) end its retries.
// Records after a failed one are retried with it; dedup makes that a no-op for them.
func newKinesis(p Pipeline, cfg Config) Handler {
	log := logger(cfg)
	return func(ctx context.Context, payload []byte) ([]byte, error) {
		var ev events.KinesisEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("kinesis source: the event is not a Kinesis event: %w", err)
		}
		b := ingest.Batch{Binding: ingest.Binding{Source: drains.SourceKinesis, Drain: cfg.Drain}, Region: cfg.Region}
		for i, r := range ev.Records {
			if i == 0 && r.AwsRegion != "" {
				b.Region = r.AwsRegion
			}
			b.Items = append(b.Items, ingest.Item{ID: r.Kinesis.SequenceNumber, Data: r.Kinesis.Data})
		}
		if len(b.Items) > 0 {
			b.RequestID = ev.Records[0].EventID
		}
		res := p.Deliver(ctx, b)
		if res.Err != nil {
			if err := bindingError(ctx, log, drains.SourceKinesis, res.Err); err != nil {
				return nil, err
			}
			return marshal(events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{}})
		}
		out := events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{}}
		for _, it := range res.Items {
			if it.Err != nil {
				log.WarnContext(ctx, "kinesis record not handled", "sequenceNumber", it.ID, "retry", it.Retry, "err", it.Err)
				out.BatchItemFailures = append(out.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: it.ID})
			}
		}
		return marshal(out)
	}
}
