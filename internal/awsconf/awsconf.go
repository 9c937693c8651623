// Package awsconf loads the AWS SDK configuration the functions and the CLI share: the
// SDK's defaults (credentials, region, retries) with an HTTP client that keeps as many idle
// connections to one host as the code has requests in flight to it.
//
// The SDK's own client keeps 10 idle connections per host. The ingest claims with up to
// 256 DynamoDB requests at once and the grouper writes 32 problems at once, so with the
// default every burst past 10 opens new TLS connections (a handshake each, ~3 round trips
// on AWS) and closes them after: the latency the batching saved is paid again in
// handshakes.
package awsconf

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/aient/firehose-drain/internal/awsenv"
)

// IdleConnsPerHost is how many idle connections to one AWS endpoint the client keeps: the
// most requests the code has in flight to one service (the ingest's claim concurrency).
const IdleConnsPerHost = awsenv.IdleConnsPerHost

// Load is config.LoadDefaultConfig with HTTPClient.
func Load(ctx context.Context, opts ...func(*config.LoadOptions) error) (aws.Config, error) {
	opts = append([]func(*config.LoadOptions) error{config.WithHTTPClient(HTTPClient())}, opts...)
	return config.LoadDefaultConfig(ctx, opts...) //nolint:wrapcheck // the callers say what failed
}

// HTTPClient is the SDK's buildable client (its timeouts, proxy and TLS settings) keeping
// IdleConnsPerHost idle connections per host: awsenv's, which the ingest loads without
// this package.
func HTTPClient() *awshttp.BuildableClient { return awsenv.HTTPClient() }
