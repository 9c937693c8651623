package otlplogs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// EnvHeadersSecret names the Secrets Manager secret whose value is the export's header
// list ("key=value,key2=value2", as OTEL_EXPORTER_OTLP_HEADERS): on AWS the header values,
// which are credentials, never sit in plain environment variables.
const EnvHeadersSecret = "AIENT_OTLP_HEADERS_SECRET_ID"

// SecretReader reads one secret's value (secrets.Pepper is the cached reader).
type SecretReader func(ctx context.Context, id string) ([]byte, error)

// FromAWSEnv builds the exporter of a Lambda function (the ingest, the bound sources) from
// the OTEL_EXPORTER_OTLP_* variables, with the headers read from the secret named by
// EnvHeadersSecret; it refuses header variables. It returns nil when no endpoint is set.
func FromAWSEnv(ctx context.Context, getenv func(string) string, read SecretReader, log *slog.Logger) (*Exporter, error) {
	for _, k := range []string{EnvHeaders, EnvLogsHeaders} {
		if strings.TrimSpace(getenv(k)) != "" {
			return nil, fmt.Errorf("%s is set: on AWS the OTLP headers come from the secret named by %s, never from plain environment variables", k, EnvHeadersSecret)
		}
	}
	cfg, ok, err := FromEnv(getenv)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, nil
	}
	if id := getenv(EnvHeadersSecret); id != "" {
		v, err := read(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("OTLP headers: %w", err)
		}
		if cfg.Headers, err = ParseHeaders(string(v)); err != nil {
			// The error names a header key at most, never a value.
			return nil, fmt.Errorf("OTLP headers secret %q: %w", id, err)
		}
		if len(cfg.Headers) == 0 {
			return nil, errors.New("OTLP headers secret " + id + " holds no header")
		}
	}
	if log == nil {
		log = slog.Default()
	}
	x, err := New(cfg, nil, log)
	if err != nil {
		return nil, err
	}
	log.Info("exporting every log event as OTLP", "protocol", x.Config().Protocol, "compression", x.Config().Compression, "headers", len(cfg.Headers))
	return x, nil
}
