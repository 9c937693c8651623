// Command sources is the Lambda behind every bound source other than the Firehose HTTP
// endpoint: a Kinesis trigger, S3 object notifications, a direct subscription filter. One
// binary serves the kind its environment names (a row of sources.Kinds); template.yaml
// deploys one function per enabled kind, each with its own role. It only wires.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aient/firehose-drain/internal/awsconf"
	"github.com/aient/firehose-drain/pkg/deadline"
	"github.com/aient/firehose-drain/pkg/dedup"
	dedupddb "github.com/aient/firehose-drain/pkg/dedup/ddb"
	drainsddb "github.com/aient/firehose-drain/pkg/drains/ddb"
	"github.com/aient/firehose-drain/pkg/ingest"
	"github.com/aient/firehose-drain/pkg/otlplogs"
	"github.com/aient/firehose-drain/pkg/secrets"
	"github.com/aient/firehose-drain/pkg/sources"
	"github.com/aient/firehose-drain/pkg/sqsqueue"
)

// Environment variables the function reads (set by template.yaml).
const (
	envKind        = "AIENT_SOURCE_KIND" // kinesis | s3 | subscription
	envDrain       = "AIENT_DRAIN_ID"    // the drain the source is bound to
	envPrefix      = "AIENT_S3_PREFIX"   // optional: s3 keys outside it are skipped
	envDrainsTable = "AIENT_DRAINS_TABLE"
	envClaimsTable = "AIENT_CLAIMS_TABLE"
	envQueueURL    = "AIENT_QUEUE_URL"
	envClaimLease  = "AIENT_CLAIM_LEASE" // optional Go duration, default dedup's
	envRegion      = "AWS_REGION"
)

func main() {
	log := lambdacontext.NewLogger()
	slog.SetDefault(log)
	h, err := setup(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("source cannot start", "err", err)
		os.Exit(1)
	}
	lambda.Start(h)
}

func setup(ctx context.Context, getenv func(string) string, log *slog.Logger) (sources.Handler, error) {
	kind, err := sources.Lookup(getenv(envKind))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", envKind, err)
	}
	names := map[string]string{}
	for _, k := range []string{envDrain, envDrainsTable, envClaimsTable, envQueueURL} {
		if names[k] = getenv(k); names[k] == "" {
			return nil, fmt.Errorf("%s is not set", k)
		}
	}
	var lease time.Duration
	if v := getenv(envClaimLease); v != "" {
		if lease, err = time.ParseDuration(v); err != nil {
			return nil, fmt.Errorf("%s=%q: %w", envClaimLease, v, err)
		}
	}
	cfg, err := awsconf.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	// Every attempt of a DynamoDB or SQS call is bounded by what is left of the invocation
	// (not S3's: its GetObject body is read after the call returns).
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, deadline.PerAttempt) })
	drainStore := drainsddb.New(db, names[envDrainsTable])
	pcfg := ingest.PipelineConfig{Logger: log, Workers: runtime.GOMAXPROCS(0)}
	// The OTLP export, configured as the ingest's (OTEL_EXPORTER_OTLP_*, the headers from
	// the secret named by AIENT_OTLP_HEADERS_SECRET_ID): every data event leaves as a log.
	export, err := otlplogs.FromAWSEnv(ctx, getenv, func(ctx context.Context, id string) ([]byte, error) {
		return secrets.NewPepper(secretsmanager.NewFromConfig(cfg), id, 0).Get(ctx)
	}, log)
	if err != nil {
		return nil, err
	}
	if export != nil {
		pcfg.Export = export
	}
	p := ingest.NewPipeline(drainStore, drainStore,
		dedup.New(dedupddb.New(db, names[envClaimsTable]), dedup.Config{Lease: lease}),
		sqsqueue.New(sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, deadline.PerAttempt) }), names[envQueueURL]),
		pcfg)
	sc := sources.Config{Drain: names[envDrain], Region: getenv(envRegion), Prefix: getenv(envPrefix), Logger: log}
	if kind.NeedsObjects {
		// Moto and S3-compatible stores serve buckets by path.
		sc.Objects = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = getenv("AWS_ENDPOINT_URL") != "" })
	}
	return kind.New(p, sc), nil
}
