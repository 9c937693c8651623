// Package sources turns the Lambda events of every way CloudWatch Logs leaves an account
// other than the Firehose HTTP endpoint into deliveries of the shared ingest pipeline, and
// the pipeline's per-item results into each event's answer:
//
//	kind          event                                     answer
//	kinesis       events.KinesisEvent (gzip documents)      events.KinesisEventResponse (failed sequence numbers)
//	s3            events.S3Event or EventBridge Object Created  summary JSON; an error retries the object
//	subscription  events.CloudwatchLogsEvent (awslogs.data) summary JSON; an error retries the event
//
// A source is a row of Kinds: its name (a drains source kind) and a constructor of its
// handler. Every kind is bound to one drain by configuration (Config.Drain); none has an
// access key.
package sources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/ingest"
)

// Pipeline is what a source delivers to (ingest.Pipeline).
type Pipeline interface {
	Deliver(ctx context.Context, b ingest.Batch) ingest.Result
	DeliverStream(ctx context.Context, b ingest.Binding, region, name string, r io.Reader) ingest.StreamResult
}

var _ Pipeline = (*ingest.Pipeline)(nil)

// Config is what every kind's handler is built from.
type Config struct {
	// Drain is the id of the drain the source is bound to.
	Drain string
	// Region is the function's region (AWS_REGION), the fallback for events that carry
	// none of their own.
	Region string
	// Objects reads S3 objects; only the s3 kind needs it.
	Objects ObjectGetter
	// Prefix, when set, limits the s3 kind to keys under it (others are skipped, counted).
	Prefix string
	Logger *slog.Logger
}

// Handler serves one Lambda event payload and returns the answer payload.
type Handler func(ctx context.Context, payload []byte) ([]byte, error)

// Invoke makes a Handler a lambda.Handler.
func (h Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) { return h(ctx, payload) }

// Kind is one row of the sources table.
type Kind struct {
	// Name is the drains source kind the deliveries are booked under.
	Name string
	// NeedsObjects is set when the kind reads S3 objects (Config.Objects).
	NeedsObjects bool
	// New returns the kind's handler.
	New func(p Pipeline, cfg Config) Handler
}

// Kinds is the sources table.
var Kinds = []Kind{
	{Name: drains.SourceKinesis, New: newKinesis},
	{Name: drains.SourceS3, NeedsObjects: true, New: newS3},
	{Name: drains.SourceSubscription, New: newSubscription},
}

// Lookup returns the row of kind name.
func Lookup(name string) (Kind, error) {
	for _, k := range Kinds {
		if k.Name == name {
			return k, nil
		}
	}
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = k.Name
	}
	return Kind{}, fmt.Errorf("unknown source kind %q (one of %v)", name, names)
}

// Summary is the answer of the kinds whose invoker reads none (S3, a subscription): what
// the invocation did, for logs, `sam local invoke` and tests. Its JSON is stable.
type Summary struct {
	Source      string   `json:"source"`
	Drain       string   `json:"drain"`
	Objects     int      `json:"objects,omitempty"`
	Skipped     int      `json:"skipped,omitempty"`
	Documents   int      `json:"documents,omitempty"`
	Events      int      `json:"events"`
	ErrorEvents int      `json:"errorEvents"`
	Sent        int      `json:"sent"`
	Duplicates  int      `json:"duplicates"`
	Rejected    int      `json:"rejected"`
	Errors      []string `json:"errors,omitempty"`
}

func marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshal answer: %w", err)
	}
	return b, nil
}

// bindingError decides what a binding failure does to an invocation: a revoked drain
// drops the delivery (revocation stops traffic, as for the HTTP endpoint); an unbound
// source or an unavailable drain store fails the invocation, so nothing is lost while
// the operator fixes it.
func bindingError(ctx context.Context, log *slog.Logger, kind string, err error) error {
	if errors.Is(err, drains.ErrRevoked) {
		log.WarnContext(ctx, "source bound to a revoked drain: delivery dropped", "source", kind, "err", err)
		return nil
	}
	return fmt.Errorf("%s source: %w", kind, err)
}

func logger(cfg Config) *slog.Logger {
	if cfg.Logger != nil {
		return cfg.Logger
	}
	return slog.Default()
}
