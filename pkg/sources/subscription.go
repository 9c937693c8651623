package sources

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/ingest"
)

// newSubscription serves a subscription filter that targets the function directly:
// awslogs.data is base64 of gzip of one CloudWatch Logs document, the Firehose record
// format, so it takes the same decoder path. CloudWatch Logs invokes asynchronously: an
// error makes Lambda retry the event (and then its on-failure destination); a payload that
// can never decode is counted as rejected and not retried.
func newSubscription(p Pipeline, cfg Config) Handler {
	log := logger(cfg)
	return func(ctx context.Context, payload []byte) ([]byte, error) {
		var ev events.CloudwatchLogsEvent
		if err := json.Unmarshal(payload, &ev); err != nil || ev.AWSLogs.Data == "" {
			return nil, fmt.Errorf("subscription source: the event is not a CloudWatch Logs subscription event (awslogs.data): %w", err)
		}
		b := ingest.Batch{
			Binding: ingest.Binding{Source: drains.SourceSubscription, Drain: cfg.Drain},
			Base64:  true, Region: cfg.Region,
			Items: []ingest.Item{{ID: "awslogs", Data: []byte(ev.AWSLogs.Data)}},
		}
		res := p.Deliver(ctx, b)
		sum := Summary{Source: drains.SourceSubscription, Drain: cfg.Drain}
		if res.Err != nil {
			if err := bindingError(ctx, log, drains.SourceSubscription, res.Err); err != nil {
				return nil, err
			}
			return marshal(sum)
		}
		sum.Events, sum.ErrorEvents, sum.Sent, sum.Duplicates, sum.Rejected = res.Events, res.ErrorEvents, res.Sent, res.Duplicates, res.Rejected
		for _, it := range res.Items {
			switch {
			case it.Err != nil && it.Retry:
				return nil, fmt.Errorf("subscription source: %w", it.Err)
			case it.Err != nil:
				sum.Errors = append(sum.Errors, it.Err.Error())
			}
		}
		return marshal(sum)
	}
}
