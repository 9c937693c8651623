package otlplogs

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The environment variables of the OpenTelemetry SDK exporter specification that configure
// the export. A LOGS_ variable wins over its generic OTEL_EXPORTER_OTLP_ form.
const (
	EnvEndpoint        = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvLogsEndpoint    = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"
	EnvProtocol        = "OTEL_EXPORTER_OTLP_PROTOCOL"
	EnvLogsProtocol    = "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL"
	EnvHeaders         = "OTEL_EXPORTER_OTLP_HEADERS"
	EnvLogsHeaders     = "OTEL_EXPORTER_OTLP_LOGS_HEADERS"
	EnvCompression     = "OTEL_EXPORTER_OTLP_COMPRESSION"
	EnvLogsCompression = "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION"
	EnvTimeout         = "OTEL_EXPORTER_OTLP_TIMEOUT"
	EnvLogsTimeout     = "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT"
)

// Protocols and compressions, as the specification spells them.
const (
	ProtocolProtobuf = "http/protobuf"
	ProtocolJSON     = "http/json"
	CompressionGzip  = "gzip"
	CompressionNone  = "none"
)

// Defaults of Config.
const (
	DefaultTimeout         = 10 * time.Second
	DefaultMaxBatchRecords = 8192
	DefaultMaxBatchBytes   = 2 << 20
	DefaultConcurrency     = 4
	// DefaultGzipLevel is klauspost's BestSpeed: see the README's measurements.
	DefaultGzipLevel = 1
)

// Config is where and how logs are exported. Zero fields take the defaults.
type Config struct {
	// Endpoint is the full URL logs are POSTed to (…/v1/logs).
	Endpoint string
	// Protocol is ProtocolProtobuf (default) or ProtocolJSON.
	Protocol string
	// Headers are sent with every export request. Values are secrets: never logged.
	Headers map[string]string
	// Compression is CompressionGzip (default) or CompressionNone.
	Compression string
	// Timeout bounds one export request (default 10 s); the delivery's deadline bounds it too.
	Timeout time.Duration
	// MaxBatchRecords and MaxBatchBytes (of encoded, uncompressed log records) bound one
	// export request. Defaults 8192 and 2 MiB.
	MaxBatchRecords int
	MaxBatchBytes   int
	// Concurrency bounds the export requests in flight for one delivery. Default 4.
	Concurrency int
	// GzipLevel is the compression level (klauspost/compress/gzip). Default 1.
	GzipLevel int
}

// FromEnv reads the OTEL_EXPORTER_OTLP_* variables. ok is false when no endpoint is set:
// no export. headers, when not nil, replaces the headers variables (on AWS the values come
// from a Secrets Manager secret, never from plain environment variables).
func FromEnv(getenv func(string) string) (c Config, ok bool, err error) {
	get := func(logs, generic string) string {
		if v := strings.TrimSpace(getenv(logs)); v != "" {
			return v
		}
		return strings.TrimSpace(getenv(generic))
	}
	if v := strings.TrimSpace(getenv(EnvLogsEndpoint)); v != "" {
		c.Endpoint = v // used as is, as the specification says for signal endpoints
	} else if v := strings.TrimSpace(getenv(EnvEndpoint)); v != "" {
		c.Endpoint = strings.TrimRight(v, "/") + "/v1/logs"
	} else {
		return Config{}, false, nil
	}
	c.Protocol = get(EnvLogsProtocol, EnvProtocol)
	c.Compression = get(EnvLogsCompression, EnvCompression)
	if h := get(EnvLogsHeaders, EnvHeaders); h != "" {
		if c.Headers, err = ParseHeaders(h); err != nil {
			return Config{}, false, fmt.Errorf("%s: %w", EnvLogsHeaders, err)
		}
	}
	if t := get(EnvLogsTimeout, EnvTimeout); t != "" {
		ms, err := strconv.ParseInt(t, 10, 64)
		if err != nil || ms < 0 {
			return Config{}, false, fmt.Errorf("%s: %q is not a number of milliseconds", EnvLogsTimeout, t)
		}
		c.Timeout = time.Duration(ms) * time.Millisecond
	}
	if err := c.validate(); err != nil {
		return Config{}, false, err
	}
	return c, true, nil
}

// ParseHeaders reads the specification's header list: comma-separated key=value pairs,
// values percent-decoded (W3C baggage format), e.g. "x-api-key=abc,authorization=Bearer%20x".
// Errors never quote a value.
func ParseHeaders(s string) (map[string]string, error) {
	h := map[string]string{}
	for pair := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, errors.New("headers must be key=value pairs separated by commas")
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("header %q: value is not percent-encoded", k)
		}
		h[k] = dv
	}
	return h, nil
}

// withDefaults fills zero fields.
func (c Config) withDefaults() Config {
	if c.Protocol == "" {
		c.Protocol = ProtocolProtobuf
	}
	if c.Compression == "" {
		c.Compression = CompressionGzip
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxBatchRecords <= 0 {
		c.MaxBatchRecords = DefaultMaxBatchRecords
	}
	if c.MaxBatchBytes <= 0 {
		c.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.GzipLevel == 0 {
		c.GzipLevel = DefaultGzipLevel
	}
	return c
}

func (c Config) validate() error {
	u, err := url.Parse(c.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("OTLP logs endpoint is not an http(s) URL with a host")
	}
	switch c.Protocol {
	case "", ProtocolProtobuf, ProtocolJSON:
	case "grpc":
		return fmt.Errorf("OTLP protocol grpc is not supported: use %s or %s", ProtocolProtobuf, ProtocolJSON)
	default:
		return fmt.Errorf("OTLP protocol %q: use %s or %s", c.Protocol, ProtocolProtobuf, ProtocolJSON)
	}
	switch c.Compression {
	case "", CompressionGzip, CompressionNone:
	default:
		return fmt.Errorf("OTLP compression %q: use %s or %s", c.Compression, CompressionGzip, CompressionNone)
	}
	return nil
}
