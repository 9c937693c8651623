package otlplogs

import (
	"maps"
	"strings"
	"testing"
	"time"
)

func TestFromEnv(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want Config
		ok   bool
		err  string
	}{
		{name: "no endpoint: no export", env: map[string]string{EnvLogsHeaders: "a=b"}},
		{
			name: "generic endpoint gets /v1/logs", env: map[string]string{EnvEndpoint: "http://collector:4318/"},
			want: Config{Endpoint: "http://collector:4318/v1/logs"}, ok: true,
		},
		{
			name: "logs endpoint is used as is and wins", env: map[string]string{EnvEndpoint: "http://a:4318", EnvLogsEndpoint: "https://b.example/otlp/logs"},
			want: Config{Endpoint: "https://b.example/otlp/logs"}, ok: true,
		},
		{name: "every logs variable", env: map[string]string{
			EnvLogsEndpoint: "http://c/v1/logs", EnvLogsProtocol: "http/json", EnvLogsCompression: "none",
			EnvLogsTimeout: "2500", EnvLogsHeaders: "x-api-key=s3cr%3Dt, authorization=Bearer%20tok",
		}, want: Config{
			Endpoint: "http://c/v1/logs", Protocol: ProtocolJSON, Compression: CompressionNone, Timeout: 2500 * time.Millisecond,
			Headers: map[string]string{"x-api-key": "s3cr=t", "authorization": "Bearer tok"},
		}, ok: true},
		{name: "generic variables are the fallback", env: map[string]string{
			EnvEndpoint: "http://c", EnvProtocol: "http/json", EnvCompression: "gzip", EnvTimeout: "100", EnvHeaders: "k=v",
		}, want: Config{
			Endpoint: "http://c/v1/logs", Protocol: ProtocolJSON, Compression: CompressionGzip, Timeout: 100 * time.Millisecond,
			Headers: map[string]string{"k": "v"},
		}, ok: true},
		{name: "grpc is refused", env: map[string]string{EnvEndpoint: "http://c", EnvProtocol: "grpc"}, err: "grpc is not supported"},
		{name: "unknown compression", env: map[string]string{EnvEndpoint: "http://c", EnvLogsCompression: "zstd"}, err: "compression"},
		{name: "bad timeout", env: map[string]string{EnvEndpoint: "http://c", EnvLogsTimeout: "10s"}, err: "milliseconds"},
		{name: "not a URL", env: map[string]string{EnvLogsEndpoint: "collector:4318"}, err: "http(s) URL"},
		{name: "bad header never quotes the value", env: map[string]string{EnvEndpoint: "http://c", EnvLogsHeaders: "authorization=Bearer%zzsecret"}, err: "authorization"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok, err := FromEnv(func(k string) string { return c.env[k] })
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want one naming %q", err, c.err)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error %q quotes a header value", err)
				}
				return
			}
			if err != nil || ok != c.ok {
				t.Fatalf("ok %v err %v, want ok %v", ok, err, c.ok)
			}
			if got.Endpoint != c.want.Endpoint || got.Protocol != c.want.Protocol || got.Compression != c.want.Compression ||
				got.Timeout != c.want.Timeout || !maps.Equal(got.Headers, c.want.Headers) {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c := Config{Endpoint: "http://c/v1/logs"}.withDefaults()
	if c.Protocol != ProtocolProtobuf || c.Compression != CompressionGzip || c.Timeout != 10*time.Second {
		t.Errorf("defaults %+v: want http/protobuf, gzip, 10s", c)
	}
}

func TestLambdaMapping(t *testing.T) {
	for _, c := range []struct{ group, stream, service, fn, version string }{
		{"/aws/lambda/checkout", "2026/11/20/[$LATEST]0123abcd", "checkout", "checkout", "$LATEST"},
		{"/aws/lambda/checkout", "2026/11/20/[17]0123abcd", "checkout", "checkout", "17"},
		{"/ecs/orders", "orders/app/1234", "/ecs/orders", "", ""},
	} {
		fn, _ := LambdaFunction(c.group)
		if ServiceName(c.group) != c.service || fn != c.fn || (fn != "" && LambdaVersion(c.stream) != c.version) {
			t.Errorf("%s %s: service %q fn %q version %q", c.group, c.stream, ServiceName(c.group), fn, LambdaVersion(c.stream))
		}
	}
}

func TestPartialSuccessAnswers(t *testing.T) {
	for _, c := range []struct {
		name, ct string
		body     []byte
		n        int64
		msg      string
		bad      bool
	}{
		{"empty", "application/x-protobuf", nil, 0, "", false},
		{"json number", "application/json", []byte(`{"partialSuccess":{"rejectedLogRecords":3,"errorMessage":"too big"}}`), 3, "too big", false},
		{"json string int64", "application/json", []byte(`{"partialSuccess":{"rejectedLogRecords":"4"}}`), 4, "", false},
		{"json full success", "application/json", []byte(`{}`), 0, "", false},
		{"protobuf", "application/x-protobuf", []byte{0x0a, 0x07, 0x08, 0x05, 0x12, 0x03, 'b', 'a', 'd'}, 5, "bad", false},
		{"protobuf truncated", "application/x-protobuf", []byte{0x0a, 0x07, 0x08}, 0, "", true},
		{"json garbage", "application/json", []byte(`{"partialSuccess":`), 0, "", true},
	} {
		n, msg, err := partialSuccess(c.body, c.ct)
		if (err != nil) != c.bad || n != c.n || msg != c.msg {
			t.Errorf("%s: %d %q %v", c.name, n, msg, err)
		}
	}
}
