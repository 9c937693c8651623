package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aient/firehose-drain/pkg/otlplogs"
)

// envOTLPHeadersSecret names the Secrets Manager secret whose value is the OTLP export's
// header list ("key=value,key2=value2", as OTEL_EXPORTER_OTLP_HEADERS): on AWS the header
// values, which are credentials, never sit in plain environment variables.
const envOTLPHeadersSecret = "AIENT_OTLP_HEADERS_SECRET_ID"

// secretReader reads one secret's value (secrets.Pepper is the cached reader).
type secretReader func(ctx context.Context, id string) ([]byte, error)

// otlpExporter builds the OTLP logs exporter from the OTEL_EXPORTER_OTLP_* variables, or
// returns nil when no endpoint is set.
func otlpExporter(ctx context.Context, getenv func(string) string, read secretReader, log *slog.Logger) (*otlplogs.Exporter, error) {
	for _, k := range []string{otlplogs.EnvHeaders, otlplogs.EnvLogsHeaders} {
		if strings.TrimSpace(getenv(k)) != "" {
			return nil, fmt.Errorf("%s is set: on AWS the OTLP headers come from the secret named by %s, never from plain environment variables", k, envOTLPHeadersSecret)
		}
	}
	cfg, ok, err := otlplogs.FromEnv(getenv)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, nil
	}
	if id := getenv(envOTLPHeadersSecret); id != "" {
		v, err := read(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("OTLP headers: %w", err)
		}
		if cfg.Headers, err = otlplogs.ParseHeaders(string(v)); err != nil {
			// The error names a header key at most, never a value.
			return nil, fmt.Errorf("OTLP headers secret %q: %w", id, err)
		}
		if len(cfg.Headers) == 0 {
			return nil, errors.New("OTLP headers secret " + id + " holds no header")
		}
	}
	x, err := otlplogs.New(cfg, nil, log)
	if err != nil {
		return nil, err
	}
	log.Info("exporting every log event as OTLP", "protocol", x.Config().Protocol, "compression", x.Config().Compression, "headers", len(cfg.Headers))
	return x, nil
}
