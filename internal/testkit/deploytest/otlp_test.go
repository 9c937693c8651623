package deploytest

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

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
