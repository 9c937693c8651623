// Command grouper is the Lambda on the SQS queue: it fingerprints error-class events
// into problems and reports the messages it could not record as batch item failures.
// It only wires: configuration, the store, the handler.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/aient/firehose-drain/internal/awsconf"
	"github.com/aient/firehose-drain/pkg/deadline"
	drainsddb "github.com/aient/firehose-drain/pkg/drains/ddb"
	"github.com/aient/firehose-drain/pkg/grouper"
	problemsddb "github.com/aient/firehose-drain/pkg/problems/ddb"
)

// Environment variables the function reads (set by template.yaml).
const (
	envProblemsTable = "AIENT_PROBLEMS_TABLE"
	// envDrainsTable holds the orgs' custom grouping rules and the drains' counters.ignored;
	// without it only the default rules apply.
	envDrainsTable = "AIENT_DRAINS_TABLE"
	// envTransition "off" ends the grouping version transition: version-1 fingerprints
	// are no longer computed to keep their problems.
	envTransition = "AIENT_GROUPING_TRANSITION"
)

func main() {
	log := lambdacontext.NewLogger()
	slog.SetDefault(log)
	// The collector as the benchmarks measure the grouper (grouper.GCPercent).
	grouper.TuneGC(grouper.FunctionMemoryMB(os.Getenv), os.Getenv)
	g, err := setup(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("grouper cannot start", "err", err)
		os.Exit(1)
	}
	lambda.Start(g.HandleSQS)
}

func setup(ctx context.Context, getenv func(string) string, log *slog.Logger) (*grouper.Grouper, error) {
	table := getenv(envProblemsTable)
	if table == "" {
		return nil, fmt.Errorf("%s is not set", envProblemsTable)
	}
	cfg, err := awsconf.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	// Every attempt of a DynamoDB call is bounded by what is left of the invocation.
	client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, deadline.PerAttempt) })
	// A warm instance remembers the problems it wrote and writes them again without
	// reading them first (one DynamoDB round a batch instead of two).
	ps := problemsddb.New(client, table).WithSeenCache(0)
	g := grouper.New(ps, log)
	if getenv(envTransition) != "off" {
		g = g.WithTransition(ps)
	}
	if dt := getenv(envDrainsTable); dt != "" {
		// Dropped events are marked in the problems table (as their occurrences would be)
		// in the transaction that counts them on the drain.
		g = g.WithRules(drainsddb.New(client, dt), ps.Ignored(dt))
	}
	return g, nil
}
