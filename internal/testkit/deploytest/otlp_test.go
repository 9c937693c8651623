package deploytest

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/proto"
)

// otlpReceiver is an OTLP/HTTP logs backend (http/protobuf, gzip or not) that counts the
// log records it is sent and notes the header a function authenticates with.
type otlpReceiver struct {
	URL string

	mu       sync.Mutex
	requests int
	records  int
	tokens   map[string]int // header value -> requests that carried it
	bad      []string
}

// otlpTokenHeader is the header the test's secret gives the export.
const otlpTokenHeader = "X-Otlp-Token"

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	r := &otlpReceiver{tokens: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body := io.Reader(req.Body)
		if req.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(req.Body)
			if err != nil {
				r.fail(w, "gzip: "+err.Error())
				return
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		var ld logspb.LogsData // wire-identical to ExportLogsServiceRequest
		if err == nil {
			err = proto.Unmarshal(b, &ld)
		}
		if err != nil || req.URL.Path != "/v1/logs" {
			r.fail(w, req.URL.Path+": "+errString(err))
			return
		}
		n := 0
		for _, rl := range ld.ResourceLogs {
			for _, sl := range rl.ScopeLogs {
				n += len(sl.LogRecords)
			}
		}
		r.mu.Lock()
		r.requests++
		r.records += n
		r.tokens[req.Header.Get(otlpTokenHeader)]++
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

func (r *otlpReceiver) fail(w http.ResponseWriter, why string) {
	r.mu.Lock()
	r.bad = append(r.bad, why)
	r.mu.Unlock()
	http.Error(w, why, http.StatusBadRequest)
}

// seen returns the records received, the requests and which tokens they carried.
func (r *otlpReceiver) seen() (records, requests int, tokens map[string]int, bad []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := map[string]int{}
	for k, v := range r.tokens {
		t[k] = v
	}
	return r.records, r.requests, t, append([]string(nil), r.bad...)
}

func errString(err error) string {
	if err == nil {
		return "not /v1/logs"
	}
	return err.Error()
}

// otlpToken is the header value the test's secret holds.
const otlpToken = "s3cr3t-0tlp-t0ken"

// createOTLPHeadersSecret creates the Secrets Manager secret of the OTLP export's headers
// (OtlpHeadersSecretArn in template.yaml: each function reads it when it starts) and maps
// its ARN to the parameter, for the IAM check of the calls. It returns the ARN.
func createOTLPHeadersSecret(t *testing.T, s stack, name string) string {
	t.Helper()
	sec, err := secretsmanager.NewFromConfig(s.cfg).CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{
		Name: aws.String(name), SecretString: aws.String(otlpTokenHeader + "=" + otlpToken),
	})
	if err != nil {
		t.Fatal(err)
	}
	s.resources[aws.ToString(sec.ARN)] = ref("OtlpHeadersSecretArn")
	return aws.ToString(sec.ARN)
}

// checkExported checks that r received at least min records, every request with the
// secret's header, and that the function's log never shows the header's value.
func checkExported(t *testing.T, name string, r *otlpReceiver, min int, logs string) {
	t.Helper()
	records, requests, tokens, bad := r.seen()
	if len(bad) > 0 {
		t.Errorf("%s: the receiver refused %q", name, bad)
	}
	if records < min || requests == 0 || tokens[otlpToken] != requests {
		t.Errorf("%s exported %d records in %d requests, %d of them with the secret's header (%v)", name, records, requests, tokens[otlpToken], tokens)
	}
	if strings.Contains(logs, otlpToken) {
		t.Errorf("%s logged the OTLP header's value", name)
	}
}

// readSecret reports whether calls read the secret arn.
func readSecret(calls []apiCall, arn string) bool {
	return slices.ContainsFunc(calls, func(c apiCall) bool {
		return c.Service == "secretsmanager" && c.Op == "GetSecretValue" && c.Body["SecretId"] == arn
	})
}
