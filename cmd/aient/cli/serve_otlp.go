package cli

import (
	"fmt"
	"log/slog"

	"github.com/aient/firehose-drain/pkg/otlplogs"
)

// serveExport sets the local server's OTLP logs export from the OTEL_EXPORTER_OTLP_*
// variables (headers included: on a laptop they are the operator's own environment).
func serveExport(cfg *LocalConfig, getenv func(string) string, log *slog.Logger) error {
	ocfg, ok, err := otlplogs.FromEnv(getenv)
	if err != nil {
		return fmt.Errorf("OTLP export: %w", err)
	}
	if !ok {
		return nil
	}
	x, err := otlplogs.New(ocfg, nil, log)
	if err != nil {
		return fmt.Errorf("OTLP export: %w", err)
	}
	cfg.Export = x
	log.Info("exporting every log event as OTLP", "protocol", x.Config().Protocol, "compression", x.Config().Compression)
	return nil
}
