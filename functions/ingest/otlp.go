package main

import (
	"context"
	"log/slog"

	"github.com/aient/firehose-drain/pkg/otlplogs"
)

// envOTLPHeadersSecret names the Secrets Manager secret whose value is the OTLP export's
// header list (otlplogs.EnvHeadersSecret; the bound sources read the same variable).
const envOTLPHeadersSecret = otlplogs.EnvHeadersSecret

// otlpExporter builds the OTLP logs exporter from the OTEL_EXPORTER_OTLP_* variables and
// the headers secret, or returns nil when no endpoint is set.
func otlpExporter(ctx context.Context, getenv func(string) string, read otlplogs.SecretReader, log *slog.Logger) (*otlplogs.Exporter, error) {
	return otlplogs.FromAWSEnv(ctx, getenv, read, log)
}
