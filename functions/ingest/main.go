// Command ingest is the Lambda behind the Function URL that Amazon Data Firehose delivers
// CloudWatch Logs to. It only wires: configuration, AWS clients, stores, the handler.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aient/firehose-drain/internal/awsenv"
	"github.com/aient/firehose-drain/pkg/deadline"
	"github.com/aient/firehose-drain/pkg/dedup"
	dedupddb "github.com/aient/firehose-drain/pkg/dedup/ddb"
	"github.com/aient/firehose-drain/pkg/drains"
	drainsddb "github.com/aient/firehose-drain/pkg/drains/ddb"
	"github.com/aient/firehose-drain/pkg/ingest"
	"github.com/aient/firehose-drain/pkg/secrets"
	"github.com/aient/firehose-drain/pkg/sqsqueue"
)

// Environment variables the function reads (set by template.yaml).
const (
	envDrainsTable  = "AIENT_DRAINS_TABLE"
	envClaimsTable  = "AIENT_CLAIMS_TABLE"
	envQueueURL     = "AIENT_QUEUE_URL"
	envPepperSecret = "AIENT_PEPPER_SECRET_ID"
	envClaimLease   = "AIENT_CLAIM_LEASE" // optional Go duration, default dedup's
)

func main() {
	log := lambdacontext.NewLogger()
	slog.SetDefault(log)
	h, err := setup(context.Background(), os.Getenv, log)
	if err != nil {
		// Fails the init phase with the reason, instead of answering Firehose wrongly.
		log.Error("ingest cannot start", "err", err)
		os.Exit(1)
	}
	// The ingest's own Runtime API loop (runtime.go), not lambda.Start: the event is read
	// outside the Go heap.
	api := os.Getenv("AWS_LAMBDA_RUNTIME_API")
	if api == "" {
		log.Error("ingest cannot start", "err", "AWS_LAMBDA_RUNTIME_API is not set: not running on Lambda")
		os.Exit(1)
	}
	err = newRuntimeClient(api, log).serve(context.Background(), h)
	log.Error("ingest stops", "err", err)
	os.Exit(1)
}

func setup(ctx context.Context, getenv func(string) string, log *slog.Logger) (*ingest.Handler, error) {
	names := map[string]string{}
	for _, k := range []string{envDrainsTable, envClaimsTable, envQueueURL, envPepperSecret} {
		if names[k] = getenv(k); names[k] == "" {
			return nil, fmt.Errorf("%s is not set", k)
		}
	}
	var lease time.Duration
	if v := getenv(envClaimLease); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, fmt.Errorf("%s=%q: %w", envClaimLease, v, err)
		}
		lease = d
	}
	// The Lambda environment's configuration, not config.LoadDefaultConfig: the SDK's
	// config package links clients the ingest never calls (STS, SSO, ...), ~1.9 MB of the
	// binary that its peak RSS pays for (internal/awsenv).
	cfg, err := awsenv.Load(getenv)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	// Every attempt of every AWS call (DynamoDB, SQS, Secrets Manager) is bounded by what
	// is left of the invocation: a stalled one is retried in time, not waited out.
	cfg.APIOptions = append(cfg.APIOptions, deadline.PerAttempt)
	db := dynamodb.NewFromConfig(cfg)
	sm := secretsmanager.NewFromConfig(cfg)
	pepper := secrets.NewPepper(sm, names[envPepperSecret], time.Hour)
	if _, err := pepper.Get(ctx); err != nil {
		return nil, err
	}
	export, err := otlpExporter(ctx, getenv, func(ctx context.Context, id string) ([]byte, error) {
		return secrets.NewPepper(sm, id, 0).Get(ctx) // a cached secret read, as for the pepper
	}, log)
	if err != nil {
		return nil, err
	}
	icfg := ingest.Config{Logger: log, Workers: runtime.GOMAXPROCS(0)}
	if export != nil {
		icfg.Export = export
	}
	drainStore := drainsddb.New(db, names[envDrainsTable])
	return ingest.New(
		drains.NewService(drainStore, pepper, drains.Config{}),
		drainStore,
		dedup.New(dedupddb.New(db, names[envClaimsTable]), dedup.Config{Lease: lease}),
		sqsqueue.New(sqs.NewFromConfig(cfg), names[envQueueURL]),
		icfg,
	), nil
}
