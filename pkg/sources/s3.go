package sources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/aient/firehose-drain/pkg/deadline"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/ingest"
)

// ObjectGetter reads S3 objects (*s3.Client).
type ObjectGetter interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ ObjectGetter = (*s3.Client)(nil)

// Object names one S3 object of an event.
type Object struct {
	Bucket, Key, Region string
}

// objectsOf reads the objects of an S3 notification (events.S3Event) or of an EventBridge
// "Object Created" event.
func objectsOf(payload []byte) ([]Object, error) {
	var probe struct {
		DetailType string          `json:"detail-type"`
		Records    json.RawMessage `json:"Records"`
	}
	if err := json.Unmarshal(payload, &probe); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	switch {
	case probe.DetailType != "":
		var ev events.CloudWatchEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("EventBridge event: %w", err)
		}
		if ev.Source != "aws.s3" || ev.DetailType != "Object Created" {
			return nil, fmt.Errorf("EventBridge event %q from %q: want \"Object Created\" from aws.s3", ev.DetailType, ev.Source)
		}
		var d struct {
			Bucket struct {
				Name string `json:"name"`
			} `json:"bucket"`
			Object struct {
				Key string `json:"key"`
			} `json:"object"`
		}
		if err := json.Unmarshal(ev.Detail, &d); err != nil || d.Bucket.Name == "" || d.Object.Key == "" {
			return nil, fmt.Errorf("EventBridge Object Created event without bucket.name and object.key (%w)", err)
		}
		// EventBridge keys are not URL-encoded.
		return []Object{{Bucket: d.Bucket.Name, Key: d.Object.Key, Region: ev.Region}}, nil
	case probe.Records != nil:
		var ev events.S3Event
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("S3 event: %w", err)
		}
		var out []Object
		for i, r := range ev.Records {
			if !strings.HasPrefix(r.EventName, "ObjectCreated:") {
				continue
			}
			key := r.S3.Object.URLDecodedKey // notification keys are URL-encoded
			if r.S3.Bucket.Name == "" || key == "" {
				return nil, fmt.Errorf("S3 event record %d without bucket name and object key", i)
			}
			out = append(out, Object{Bucket: r.S3.Bucket.Name, Key: key, Region: r.AWSRegion})
		}
		return out, nil
	}
	return nil, errors.New("neither an S3 notification (Records) nor an EventBridge event (detail-type)")
}

// newS3 serves S3 object notifications (direct, or through EventBridge) for objects that
// hold CloudWatch Logs documents: what Firehose writes to S3 (concatenated, with or
// without newlines, gzip or plain), or an export. Each object is streamed from GetObject
// through the pipeline's bounded buffer. Bad documents are counted as rejected on the
// drain and named (object, byte offset) in the answer; a store or queue failure, or a
// read that breaks off, fails the invocation so that S3's asynchronous invocation retries
// the object (dedup makes the retry a no-op for what was sent).
func newS3(p Pipeline, cfg Config) Handler {
	log := logger(cfg)
	return func(parent context.Context, payload []byte) ([]byte, error) {
		// The objects are read under the invocation's work context (deadline.Split), the
		// one the pipeline delivers under: a body read that stalls ends with the work, in
		// time to answer, instead of at the Lambda timeout.
		ctx, _, cancel := deadline.Split(parent, time.Now())
		defer cancel()
		objs, err := objectsOf(payload)
		if err != nil {
			return nil, fmt.Errorf("s3 source: %w", err)
		}
		sum := Summary{Source: drains.SourceS3, Drain: cfg.Drain}
		var retry []error
		for _, o := range objs {
			if !strings.HasPrefix(o.Key, cfg.Prefix) {
				sum.Skipped++
				continue
			}
			region := o.Region
			if region == "" {
				region = cfg.Region
			}
			name := o.Bucket + "/" + o.Key
			out, err := cfg.Objects.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(o.Key)})
			if err != nil {
				retry = append(retry, fmt.Errorf("get s3://%s: %w", name, err))
				continue
			}
			res := p.DeliverStream(ctx, ingest.Binding{Source: drains.SourceS3, Drain: cfg.Drain}, region, name, out.Body)
			_ = out.Body.Close() // read as far as the delivery needed: nothing more to learn
			if res.Err != nil && (errors.Is(res.Err, drains.ErrRevoked) || errors.Is(res.Err, ingest.ErrUnbound)) {
				if err := bindingError(ctx, log, drains.SourceS3, res.Err); err != nil {
					return nil, err
				}
				return marshal(sum)
			}
			sum.Objects++
			sum.Documents += res.Documents
			sum.Events += res.Events
			sum.ErrorEvents += res.ErrorEvents
			sum.Sent += res.Sent
			sum.Duplicates += res.Duplicates
			sum.Rejected += res.Rejected
			for _, e := range res.Errors {
				sum.Errors = append(sum.Errors, e.Error())
			}
			if res.Err != nil {
				retry = append(retry, res.Err)
			}
		}
		if len(retry) > 0 {
			log.WarnContext(ctx, "s3 objects to retry", "summary", sum, "err", errors.Join(retry...))
			return nil, fmt.Errorf("s3 source: %w", errors.Join(retry...))
		}
		return marshal(sum)
	}
}
