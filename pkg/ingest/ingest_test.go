package ingest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aient/firehose-drain/internal/testkit/conformance"
	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
	"github.com/aient/firehose-drain/pkg/cwpayload"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/ingest"
)

const (
	drainID   = "drn_test"
	revokedID = "drn_revoked"
	key       = "fhd_the-right-key"
	reqID     = "86208cf6-2bcc-47e6-9010-02ca9f44a025" // the alloy captures' request id
)

type rig struct {
	h      *ingest.Handler
	auth   *fakeAuth
	books  *fakeBooks
	claims *fakeClaims
	sender *fakeSender
	now    time.Time
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{
		auth: &fakeAuth{
			drains: map[string]drains.Drain{
				drainID:   {ID: drainID, Org: "acme", Env: "prod", State: drains.StateActive},
				revokedID: {ID: revokedID, Org: "acme", Env: "prod", State: drains.StateRevoked},
			},
			keys: map[string]string{drainID: key, revokedID: key},
		},
		books:  &fakeBooks{},
		claims: newFakeClaims(),
		sender: &fakeSender{},
		now:    time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC),
	}
	// Small inflate caps keep the gzip-bomb case cheap; the defaults are tested in cwpayload.
	limits := cwpayload.DefaultLimits()
	limits.MaxRecordInflated = 4 << 20
	limits.MaxRequestInflated = 16 << 20
	r.h = ingest.New(r.auth, r.books, r.claims, r.sender, ingest.Config{Limits: limits, Now: func() time.Time { return r.now }})
	return r
}

type answer struct {
	Status       int
	RequestID    string   `json:"requestId"`
	Timestamp    *float64 `json:"timestamp"`
	ErrorMessage string   `json:"errorMessage"`
}

// post sends body to the drain's endpoint the way Firehose does.
func (r *rig) post(t *testing.T, path string, body []byte, hdr map[string]string) answer {
	t.Helper()
	h := map[string]string{
		"x-amz-firehose-request-id":       reqID,
		"x-amz-firehose-access-key":       key,
		"x-amz-firehose-protocol-version": "1.0",
		"x-amz-firehose-source-arn":       "arn:aws:firehose:eu-west-1:123456789012:deliverystream/logs",
		"content-type":                    "application/json",
	}
	for k, v := range hdr {
		if v == "" {
			delete(h, k)
		} else {
			h[k] = v
		}
	}
	resp := r.h.Handle(context.Background(), ingest.Request{
		Method: http.MethodPost, Path: path, Body: body,
		Header: func(n string) string { return h[n] },
	})
	return decodeAnswer(t, resp.Status, resp.Body)
}

func decodeAnswer(t *testing.T, status int, body []byte) answer {
	t.Helper()
	a := answer{Status: status}
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("answer is not the Firehose JSON body: %v: %s", err, body)
	}
	if a.Timestamp == nil || *a.Timestamp <= 0 {
		t.Fatalf("answer has no numeric timestamp: %s", body)
	}
	if status != http.StatusOK && a.ErrorMessage == "" {
		t.Fatalf("status %d without errorMessage: %s", status, body)
	}
	return a
}

func fixture(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(conformance.Dir(), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Every real capture through the real handler, with what a correct ingest does (INDEX.md).
func TestConformanceDeliveries(t *testing.T) {
	cases := []struct {
		file          string
		status        int
		msg           string // part of errorMessage
		events        int64
		control, data bool
		rejected      int64
		requestID     string
	}{
		{"firehose/alloy/cw_logs_mixed.json", 200, "", 13, true, true, 0, reqID},
		{"firehose/alloy/cw_logs_with_only_data_messages.json", 200, "", 13, false, true, 0, reqID},
		{"firehose/alloy/cw_logs_with_only_control_messages.json", 200, "", 0, true, false, 0, reqID},
		{"firehose/alloy/cw_logs_control_and_bad_records.json", 400, "record 1: not base64", 0, true, false, 1, reqID},
		{"firehose/alloy/direct_put.json", 400, "record 0: not a CloudWatch Logs document", 0, false, false, 3, "a1af4300-6c09-4916-ba8f-12f336176246"},
		{"firehose/alloy/direct_put_with_non_json_message.json", 400, "record 0: not gzip and not JSON", 0, false, false, 1, "aa9febd3-d9d0-45a2-9032-294078d926d5"},
		{"firehose/vector/guide_request_body.json", 200, "", 2, false, true, 0, "ed1d787c-b9e2-4631-92dc-8e7c9d26d804"},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			r := newRig(t)
			a := r.post(t, "/aws/firehose/"+drainID, fixture(t, c.file), map[string]string{"x-amz-firehose-request-id": c.requestID})
			if a.Status != c.status || !strings.Contains(a.ErrorMessage, c.msg) {
				t.Fatalf("answer %d %q, want %d containing %q", a.Status, a.ErrorMessage, c.status, c.msg)
			}
			if a.RequestID != c.requestID {
				t.Errorf("requestId %q, want %q", a.RequestID, c.requestID)
			}
			d := r.books.last()
			if d.Counters.Events != c.events || d.Control != c.control || d.Data != c.data || d.Counters.RecordsRejected != c.rejected {
				t.Errorf("delivery recorded %+v, want events %d control %v data %v rejected %d", d, c.events, c.control, c.data, c.rejected)
			}
			if (c.status == 400) != (d.PayloadError != nil) {
				t.Errorf("payload error recorded = %+v for status %d", d.PayloadError, c.status)
			}
			if len(r.sender.events()) != 0 {
				t.Errorf("the captures hold no error-level events, but %d were sent", len(r.sender.events()))
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	goodRecord := fht.Record("/aws/lambda/pay", "s1", fht.InfoEvent(1))
	bomb := base64.StdEncoding.EncodeToString(fht.Gzip(make([]byte, 8<<20))) // twice newRig's record cap
	truncated := fht.Gzip([]byte(`{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[]}`))
	truncated = truncated[:len(truncated)/2]
	cases := []struct {
		name   string
		path   string
		body   []byte
		hdr    map[string]string
		status int
		msg    string
	}{
		{"body that is not JSON", "", []byte("hello"), nil, 400, "request body"},
		{"requestId missing from the body", "", []byte(`{"timestamp":1,"records":[{"data":"` + goodRecord + `"}]}`), nil, 400, "requestId"},
		{"requestId not matching the header", "", fht.Body("another-id", goodRecord), nil, 400, "does not match"},
		{"no records", "", []byte(`{"requestId":"` + reqID + `","timestamp":1}`), nil, 400, "records"},
		{"record that is not base64", "", fht.Body(reqID, goodRecord, "!!!not base64!!!"), nil, 400, "record 1: not base64"},
		{"record that is not gzip nor JSON", "", fht.Body(reqID, base64.StdEncoding.EncodeToString([]byte("plain text"))), nil, 400, "record 0: not gzip and not JSON"},
		{"gzip that is truncated", "", fht.Body(reqID, base64.StdEncoding.EncodeToString(truncated)), nil, 400, "record 0: truncated gzip"},
		{"gzip bomb past the cap", "", fht.Body(reqID, bomb), nil, 400, "record 0: inflated size over"},
		{"JSON of the wrong shape", "", fht.Body(reqID, base64.StdEncoding.EncodeToString(fht.Gzip([]byte(`{"CHANGE":1.5,"PRICE":4}`)))), nil, 400, "record 0: not a CloudWatch Logs document"},
		{"access key over 4096 bytes", "", fht.Body(reqID, goodRecord), map[string]string{"x-amz-firehose-access-key": strings.Repeat("k", 4097)}, 401, "unauthorized"},
		{"wrong access key", "", fht.Body(reqID, goodRecord), map[string]string{"x-amz-firehose-access-key": "fhd_wrong"}, 401, "unauthorized: access key does not match"},
		{"missing access key", "", fht.Body(reqID, goodRecord), map[string]string{"x-amz-firehose-access-key": ""}, 401, "unauthorized"},
		{"unknown drain answers like a wrong key", "/aws/firehose/drn_nosuch", fht.Body(reqID, goodRecord), nil, 401, "unauthorized: access key does not match"},
		{"revoked drain with its valid key", "/aws/firehose/" + revokedID, fht.Body(reqID, goodRecord), nil, 403, "revoked"},
		{"path that is not a drain endpoint", "/elsewhere", fht.Body(reqID, goodRecord), nil, 404, "no such endpoint"},
		{"drain id with characters no id has: as an unknown drain", "/aws/firehose/a%2Fb", fht.Body(reqID, goodRecord), nil, 401, "unauthorized: access key does not match"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t)
			path := c.path
			if path == "" {
				path = "/aws/firehose/" + drainID
			}
			a := r.post(t, path, c.body, c.hdr)
			if a.Status != c.status || !strings.Contains(a.ErrorMessage, c.msg) {
				t.Fatalf("answer %d %q, want %d containing %q", a.Status, a.ErrorMessage, c.status, c.msg)
			}
			if a.RequestID != reqID {
				t.Errorf("requestId %q, want the header's %q", a.RequestID, reqID)
			}
			if strings.Contains(a.ErrorMessage, key) {
				t.Errorf("errorMessage echoes the access key: %q", a.ErrorMessage)
			}
		})
	}
}

func TestGETIsNotAllowed(t *testing.T) {
	r := newRig(t)
	resp := r.h.Handle(context.Background(), ingest.Request{Method: http.MethodGet, Path: "/aws/firehose/" + drainID, Header: func(string) string { return "" }})
	if a := decodeAnswer(t, resp.Status, resp.Body); a.Status != 405 {
		t.Fatalf("GET answered %d, want 405", a.Status)
	}
}

func TestStoreUnavailableAnswers503(t *testing.T) {
	r := newRig(t)
	r.auth.err = errors.New("dynamodb throttled")
	if a := r.post(t, "/aws/firehose/"+drainID, fht.Body(reqID, fht.Record("g", "s", fht.ErrorEvent(1))), nil); a.Status != 503 {
		t.Fatalf("answer %d %q, want 503", a.Status, a.ErrorMessage)
	}
}

func TestErrorEventsAreStampedAndSentOnce(t *testing.T) {
	r := newRig(t)
	body := fht.Body(reqID,
		fht.Record("/aws/lambda/pay", "2026/11/21/[$LATEST]abc", fht.ErrorEvent(1), fht.InfoEvent(2), fht.ErrorEvent(3)),
		fht.Record("/aws/lambda/pay", "2026/11/21/[$LATEST]def", fht.InfoEvent(4)))
	if a := r.post(t, "/aws/firehose/"+drainID, body, map[string]string{"x-amz-firehose-common-attributes": `{"commonAttributes":{"team":"payments"}}`}); a.Status != 200 {
		t.Fatalf("first delivery %d %q", a.Status, a.ErrorMessage)
	}
	sent := r.sender.events()
	if len(sent) != 2 {
		t.Fatalf("sent %d events, want the 2 error-level ones", len(sent))
	}
	e := sent[0]
	if e.Drain != drainID || e.Org != "acme" || e.Env != "prod" || e.Account != fht.Owner || e.Region != "eu-west-1" ||
		e.LogGroup != "/aws/lambda/pay" || e.LogStream != "2026/11/21/[$LATEST]abc" || e.Timestamp != 1700000000001 ||
		e.FirehoseRequestID != reqID || e.Attributes["team"] != "payments" || !e.Level.IsErrorClass() {
		t.Errorf("event not stamped as expected: %+v", e)
	}
	d := r.books.last()
	if d.Counters.Events != 4 || d.Counters.ErrorEvents != 2 || !d.Data {
		t.Errorf("delivery bookkeeping %+v, want 4 events, 2 error-class", d)
	}

	// Firehose retries the same batch: nothing is sent again, the duplicates are counted.
	if a := r.post(t, "/aws/firehose/"+drainID, body, nil); a.Status != 200 {
		t.Fatalf("retry %d %q", a.Status, a.ErrorMessage)
	}
	if n := len(r.sender.events()); n != 2 {
		t.Fatalf("after the retry %d events were sent in all, want 2", n)
	}
	if d := r.books.last(); d.Counters.Duplicates != 2 {
		t.Errorf("retry counted %d duplicates, want 2", d.Counters.Duplicates)
	}
}

func TestFailingSendReleasesClaimsAndTheRetrySendsEverything(t *testing.T) {
	r := newRig(t)
	body := fht.Body(reqID, fht.Record("g", "s", fht.ErrorEvent(1), fht.ErrorEvent(2)))
	r.sender.fail = true
	if a := r.post(t, "/aws/firehose/"+drainID, body, nil); a.Status != 503 {
		t.Fatalf("answer %d %q with the queue down, want 503", a.Status, a.ErrorMessage)
	}
	if r.claims.released != 2 {
		t.Fatalf("released %d claims, want 2", r.claims.released)
	}
	r.sender.fail = false
	if a := r.post(t, "/aws/firehose/"+drainID, body, nil); a.Status != 200 {
		t.Fatalf("retry %d %q", a.Status, a.ErrorMessage)
	}
	if n := len(r.sender.events()); n != 2 {
		t.Fatalf("retry sent %d events, want 2", n)
	}
}

func TestClaimHeldByAConcurrentDeliveryAnswers503(t *testing.T) {
	r := newRig(t)
	one := fht.ErrorEvent(1)
	r.claims.state = map[string]string{}
	body := fht.Body(reqID, fht.Record("g", "s", one, fht.ErrorEvent(2)))
	// Another delivery holds the first event's claim.
	first := fht.Body(reqID, fht.Record("g", "s", one))
	if a := r.post(t, "/aws/firehose/"+drainID, first, nil); a.Status != 200 {
		t.Fatal(a)
	}
	for k := range r.claims.state {
		r.claims.state[k] = "inflight"
	}
	a := r.post(t, "/aws/firehose/"+drainID, body, nil)
	if a.Status != 503 || !strings.Contains(a.ErrorMessage, "concurrent") {
		t.Fatalf("answer %d %q, want 503 naming the concurrent delivery", a.Status, a.ErrorMessage)
	}
	if n := len(r.sender.events()); n != 2 {
		t.Errorf("%d events sent, want 2: the free one is sent, the busy one waits for the retry", n)
	}
}

func TestDecodableRecordsOfARejectedRequestAreStillProcessed(t *testing.T) {
	r := newRig(t)
	body := fht.Body(reqID, fht.Record("g", "s", fht.ErrorEvent(1)), "%%%")
	if a := r.post(t, "/aws/firehose/"+drainID, body, nil); a.Status != 400 {
		t.Fatalf("answer %d, want 400", a.Status)
	}
	if n := len(r.sender.events()); n != 1 {
		t.Fatalf("%d events sent, want the good record's 1", n)
	}
	// The retry of the same batch sends nothing twice.
	r.post(t, "/aws/firehose/"+drainID, body, nil)
	if n := len(r.sender.events()); n != 1 {
		t.Fatalf("after the retry %d events sent, want 1", n)
	}
}

func TestAuthFailureFloodWritesOncePerMinute(t *testing.T) {
	r := newRig(t)
	body := fht.Body(reqID, fht.Record("g", "s", fht.InfoEvent(1)))
	for i := 0; i < 1000; i++ {
		r.now = r.now.Add(10 * time.Millisecond) // 1,000 requests over 10 seconds
		if a := r.post(t, "/aws/firehose/"+drainID, body, map[string]string{"x-amz-firehose-access-key": "fhd_bad"}); a.Status != 401 {
			t.Fatalf("request %d answered %d", i, a.Status)
		}
	}
	if n := len(r.books.authFailures); n != 1 {
		t.Fatalf("%d auth-failure writes for a 10 s flood, want 1", n)
	}
	r.now = r.now.Add(time.Minute)
	r.post(t, "/aws/firehose/"+drainID, body, map[string]string{"x-amz-firehose-access-key": "fhd_bad"})
	if n := len(r.books.authFailures); n != 2 {
		t.Fatalf("%d auth-failure writes a minute later, want 2", n)
	}
}

func TestGzipRequest(t *testing.T) {
	r := newRig(t)
	body := fht.Gzip(fht.Body(reqID, fht.Record("g", "s", fht.ErrorEvent(1))))
	if a := r.post(t, "/aws/firehose/"+drainID, body, map[string]string{"content-encoding": "gzip"}); a.Status != 200 {
		t.Fatalf("gzip request answered %d %q", a.Status, a.ErrorMessage)
	}
	// A gzip body without the header is recognised by its magic bytes.
	r2 := newRig(t)
	if a := r2.post(t, "/aws/firehose/"+drainID, body, nil); a.Status != 200 {
		t.Fatalf("gzip request without Content-Encoding answered %d %q", a.Status, a.ErrorMessage)
	}
}

func TestFunctionURLEvent(t *testing.T) {
	r := newRig(t)
	body := fht.Gzip(fht.Body(reqID, fht.Record("g", "s", fht.ErrorEvent(1))))
	ev, _ := json.Marshal(map[string]any{
		"version": "2.0", "rawPath": "/aws/firehose/" + drainID, "isBase64Encoded": true,
		"body": base64.StdEncoding.EncodeToString(body),
		"headers": map[string]string{
			"x-amz-firehose-request-id": reqID, "x-amz-firehose-access-key": key,
			"content-encoding": "gzip", "content-type": "application/json",
		},
		"requestContext": map[string]any{"http": map[string]string{"method": "POST", "path": "/aws/firehose/" + drainID}},
	})
	out, err := r.h.Invoke(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		StatusCode int               `json:"statusCode"`
		Headers    map[string]string `json:"headers"`
		Body       string            `json:"body"`
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	a := decodeAnswer(t, resp.StatusCode, []byte(resp.Body))
	if a.Status != 200 || a.RequestID != reqID || resp.Headers["Content-Type"] != "application/json" {
		t.Fatalf("Function URL answer %+v headers %v", a, resp.Headers)
	}
	if len(r.sender.events()) != 1 {
		t.Fatalf("sent %d events, want 1", len(r.sender.events()))
	}
}

func TestServeHTTP(t *testing.T) {
	r := newRig(t)
	srv := httptest.NewServer(r.h)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/aws/firehose/"+drainID, strings.NewReader(string(fixture(t, "firehose/alloy/cw_logs_mixed.json"))))
	req.Header.Set("X-Amz-Firehose-Request-Id", reqID)
	req.Header.Set("X-Amz-Firehose-Access-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q, err %v", resp.StatusCode, resp.Header.Get("Content-Type"), err)
	}
}
