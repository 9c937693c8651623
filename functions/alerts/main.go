// Command alerts is the Lambda on the problems table's stream (the inserts of notice
// items, the outbox): it delivers each alert to the destinations that match it and
// reports what is left to the stream as a batch item failure. It only wires:
// configuration, the stores, the senders, the handler.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/aient/firehose-drain/internal/awsconf"
	"github.com/aient/firehose-drain/pkg/alerts"
	alertsddb "github.com/aient/firehose-drain/pkg/alerts/ddb"
	problemsddb "github.com/aient/firehose-drain/pkg/problems/ddb"
)

// Environment variables the function reads (set by template.yaml).
const (
	envProblemsTable = "AIENT_PROBLEMS_TABLE"
	envSecretPrefix  = "AIENT_ALERT_SECRET_PREFIX"
	envConsoleURL    = "AIENT_CONSOLE_URL"
)

func main() {
	log := lambdacontext.NewLogger()
	slog.SetDefault(log)
	d, err := setup(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("alerts cannot start", "err", err)
		os.Exit(1)
	}
	lambda.Start(func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		return d.HandleStream(ctx, ev, alerts.StreamConfig{})
	})
}

func setup(ctx context.Context, getenv func(string) string, log *slog.Logger) (*alerts.Deliverer, error) {
	table := getenv(envProblemsTable)
	if table == "" {
		return nil, fmt.Errorf("%s is not set", envProblemsTable)
	}
	cfg, err := awsconf.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	db := dynamodb.NewFromConfig(cfg)
	ps := problemsddb.New(db, table)
	return alerts.NewDeliverer(
		alertsddb.NewDestinations(db, table),
		alertsddb.NewSecrets(secretsmanager.NewFromConfig(cfg), getenv(envSecretPrefix)),
		ps.Outbox(),
		alerts.NewSenders(nil, sns.NewFromConfig(cfg)),
		// Affected: the problems' items (BatchGetItem, granted with the outbox's reads).
		// RetryDelay: the attempts fit in HandleStream's hold of the shard (a minute).
		alerts.Config{ConsoleURL: getenv(envConsoleURL), Logger: log, Affected: ps, RetryDelay: alerts.StreamRetryDelay},
	), nil
}
