package sources_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/aient/firehose-drain/pkg/drains"
)

// stalledObjects serves every object as its first bytes, then a read that stalls until
// the GetObject context ends (as the SDK's body does when its request's context ends).
type stalledObjects struct{ first []byte }

func (o stalledObjects) GetObject(ctx context.Context, _ *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return &s3.GetObjectOutput{Body: io.NopCloser(io.MultiReader(bytes.NewReader(o.first), ctxReader{ctx}))}, nil
}

type ctxReader struct{ ctx context.Context }

func (r ctxReader) Read([]byte) (int, error) {
	select {
	case <-r.ctx.Done():
		return 0, r.ctx.Err()
	case <-time.After(3 * time.Second):
		return 0, io.EOF
	}
}

// An S3 object whose body stalls part way: the invocation fails (S3 retries the object,
// dedup makes what was sent a no-op) before its deadline, instead of running into the
// Lambda timeout.
func TestS3AStalledBodyEndsBeforeTheDeadline(t *testing.T) {
	r := newRig(t)
	r.cfg.Objects = stalledObjects{first: append(doc(t, "a", 3, 2), '\n')}
	h := r.handler(t, drains.SourceS3)
	var ev events.S3Event
	ev.Records = append(ev.Records, events.S3EventRecord{
		EventSource: "aws:s3", EventName: "ObjectCreated:Put", AWSRegion: "us-west-2",
		S3: events.S3Entity{Bucket: events.S3Bucket{Name: "b"}, Object: events.S3Object{Key: "logs/x.json"}},
	})
	payload, _ := json.Marshal(ev)
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	_, err := h(ctx, payload)
	if ctx.Err() != nil {
		t.Fatalf("the handler returned after the deadline (%v): Lambda would time out", ctx.Err())
	}
	if err == nil {
		t.Fatal("a stalled read answered success: the object would not be retried")
	}
}
