package firehose

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aient/firehose-drain/internal/testkit/conformance"
)

// fixtures are the vendored Firehose captures (testdata/conformance/firehose).
var fixtures = filepath.Join(conformance.Dir(), "firehose")

func fixtureBodies(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, dir := range []string{"alloy", "vector"} {
		files, _ := filepath.Glob(filepath.Join(fixtures, dir, "*.json"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out[dir+"/"+filepath.Base(f)] = b
		}
	}
	if len(out) == 0 {
		t.Fatalf("no conformance fixtures under %s", fixtures)
	}
	return out
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// stdBody is what encoding/json reads from a body, to compare with.
type stdBody struct {
	RequestID string `json:"requestId"`
	Timestamp int64  `json:"timestamp"`
	Records   []struct {
		Data string `json:"data"`
	} `json:"records"`
}

func TestParseBodyFixtures(t *testing.T) {
	wantRecords := map[string]int{
		"alloy/cw_logs_control_and_bad_records.json":    2,
		"alloy/cw_logs_mixed.json":                      2,
		"alloy/cw_logs_with_only_control_messages.json": 1,
		"alloy/cw_logs_with_only_data_messages.json":    1,
		"alloy/direct_put.json":                         3,
		"alloy/direct_put_with_non_json_message.json":   1,
		"vector/guide_request_body.json":                1,
	}
	bodies := fixtureBodies(t)
	for name, b := range bodies {
		t.Run(name, func(t *testing.T) {
			got, err := ParseBody(b)
			if err != nil {
				t.Fatal(err)
			}
			var want stdBody
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			if got.RequestID != want.RequestID || got.Timestamp != want.Timestamp || len(got.Records) != wantRecords[name] {
				t.Fatalf("got %q %d %d records, want %q %d %d", got.RequestID, got.Timestamp, len(got.Records), want.RequestID, want.Timestamp, wantRecords[name])
			}
			for i, r := range want.Records {
				if string(got.Records[i]) != r.Data {
					t.Errorf("record %d data differs", i)
				}
			}
		})
	}
}

func TestParseBodyErrors(t *testing.T) {
	big := `{"requestId":"r","records":[` + strings.TrimSuffix(strings.Repeat(`{"data":"e30="},`, MaxRecords+1), ",") + `]}`
	cases := []struct {
		name, body, wantErr, wantRequestID string
	}{
		{"not JSON", `hello`, "body is not JSON", ""},
		{"empty body", ``, "body is not JSON", ""},
		{"truncated JSON", `{"requestId":"r","records":[{"data":"x"}`, "body is not JSON", "r"},
		{"JSON array", `[1]`, "body is not JSON", ""},
		{"trailing garbage", `{"requestId":"r","records":[{"data":"x"}]} x`, "body is not JSON", "r"},
		{"requestId missing", `{"timestamp":1,"records":[{"data":"x"}]}`, "requestId missing", ""},
		{"requestId not a string", `{"requestId":5,"records":[{"data":"x"}]}`, "requestId is not a string", ""},
		{"records missing", `{"requestId":"r","timestamp":1}`, "records missing", "r"},
		{"records not an array", `{"requestId":"r","records":{"data":"x"}}`, "records is not an array", "r"},
		{"no records", `{"requestId":"r","records":[]}`, "records is empty", "r"},
		{"a record without data", `{"requestId":"r","records":[{"data":"eA=="},{"blob":"x"}]}`, "record 1 has no data", "r"},
		{"a record whose data is not a string", `{"requestId":"r","records":[{"data":5}]}`, "record 0: data is not a string", "r"},
		{"a record that is not an object", `{"records":["x"],"requestId":"r"}`, "record 0 is not an object", "r"},
		{"more than 10000 records", big, "more than 10000 records", "r"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseBody([]byte(tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if got.RequestID != tc.wantRequestID {
				t.Errorf("requestId = %q, want %q (the answer must carry it)", got.RequestID, tc.wantRequestID)
			}
		})
	}
}

func TestParseBodyEscapedData(t *testing.T) {
	got, err := ParseBody([]byte(`{"requestId":"r\u0031","records":[{"data":"ab\/cd=="},{"data":"plain"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got.RequestID != "r1" || string(got.Records[0]) != "ab/cd==" || string(got.Records[1]) != "plain" {
		t.Errorf("got %q %q %q", got.RequestID, got.Records[0], got.Records[1])
	}
}

// urlEvent wraps a body in a Function URL event as Lambda sends it.
func urlEvent(t testing.TB, body []byte, base64Body bool, headers map[string]string) []byte {
	t.Helper()
	b := string(body)
	if base64Body {
		b = base64.StdEncoding.EncodeToString(body)
	}
	ev, err := json.Marshal(map[string]any{
		"version": "2.0", "routeKey": "$default", "rawPath": "/aws/firehose/drn_1", "rawQueryString": "",
		"headers":        headers,
		"requestContext": map[string]any{"accountId": "anonymous", "http": map[string]string{"method": "POST", "path": "/aws/firehose/drn_1"}, "timeEpoch": 1},
		"body":           b, "isBase64Encoded": base64Body,
	})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestParseURLEvent(t *testing.T) {
	headers := map[string]string{"content-type": "application/json", "X-Amz-Firehose-Request-Id": "86208cf6", "x-amz-firehose-access-key": "k"}
	for name, body := range fixtureBodies(t) {
		for _, tc := range []struct {
			name    string
			payload []byte
			want    []byte
		}{
			{"plain body", urlEvent(t, body, false, headers), body},
			{"gzip body, base64-encoded by the Function URL", urlEvent(t, gz(t, body), true, headers), gz(t, body)},
		} {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				orig := append([]byte(nil), tc.payload...)
				req, err := ParseURLEvent(tc.payload)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(tc.payload, orig) {
					t.Error("ParseURLEvent modified its payload")
				}
				if req.Method != "POST" || req.RawPath != "/aws/firehose/drn_1" || req.Headers["x-amz-firehose-request-id"] != "86208cf6" || req.Headers["x-amz-firehose-access-key"] != "k" {
					t.Errorf("got %q %q %v", req.Method, req.RawPath, req.Headers)
				}
				if !bytes.Equal(req.Body, tc.want) {
					t.Errorf("body differs: %d bytes, want %d", len(req.Body), len(tc.want))
				}
				inPlace, err := ParseURLEventInPlace(tc.payload)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(inPlace.Body, tc.want) || !reflect.DeepEqual(inPlace.Headers, req.Headers) {
					t.Error("in-place parse differs")
				}
				content, err := DecodeContent(req.Body, req.Headers["content-encoding"], 64<<20)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(content, body) {
					t.Error("decoded content differs from the body")
				}
			})
		}
	}
}

func TestParseURLEventUnicodeAndErrors(t *testing.T) {
	body := "{\"requestId\":\"é😀<>&\\\"\",\"records\":[]}\n\t"
	req, err := ParseURLEvent(urlEvent(t, []byte(body), false, map[string]string{}))
	if err != nil || string(req.Body) != body {
		t.Fatalf("body = %q, %v; want %q", req.Body, err, body)
	}
	req, err = ParseURLEvent([]byte(`{"requestContext":{"http":{"method":"get"}},"body":null}`))
	if err != nil || req.Method != "GET" || req.Body != nil {
		t.Errorf("GET without a body: %+v %v", req, err)
	}
	for name, p := range map[string]string{
		"not JSON":          `body`,
		"truncated":         `{"body":"abc`,
		"bad escape":        `{"body":"a\qb"}`,
		"bad base64 body":   `{"body":"!!!!","isBase64Encoded":true}`,
		"garbage after":     `{"body":""}}`,
		"bad header object": `{"headers":{"a":}}`,
	} {
		if _, err := ParseURLEvent([]byte(p)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestDecodeContent(t *testing.T) {
	body := []byte(`{"requestId":"r","records":[{"data":"eA=="}]}`)
	zeros := gz(t, make([]byte, 8<<20))
	cases := []struct {
		name, encoding string
		in             []byte
		want           []byte
		wantErr        string
	}{
		{"plain body, no encoding", "", body, body, ""},
		{"gzip body with content-encoding gzip", "gzip", gz(t, body), body, ""},
		{"gzip body without the header (detected by magic bytes)", "", gz(t, body), body, ""},
		{"header says gzip but the body is plain", "gzip", body, body, ""},
		{"truncated gzip", "gzip", gz(t, body)[:20], nil, "truncated gzip"},
		{"corrupt gzip", "gzip", []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}, nil, "not valid gzip"},
		{"gzip bomb past the cap", "gzip", zeros, nil, "inflates past the 1048576-byte cap"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeContent(tc.in, tc.encoding, 1<<20)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Errorf("got %q, %v", got, err)
			}
		})
	}
}

func TestResponseBody(t *testing.T) {
	now := time.UnixMilli(1684424042901)
	for _, tc := range []struct{ name, id, msg, want string }{
		{"success", "86208cf6", "", `{"requestId":"86208cf6","timestamp":1684424042901}`},
		{"error names the record", "86208cf6", "record 1: not base64", `{"requestId":"86208cf6","timestamp":1684424042901,"errorMessage":"record 1: not base64"}`},
		{"quotes are escaped", `a"b`, "x\ny", `{"requestId":"a\"b","timestamp":1684424042901,"errorMessage":"x\ny"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(ResponseBody(tc.id, now, tc.msg)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestParseSourceARN(t *testing.T) {
	for _, tc := range []struct{ arn, region, account string }{
		{"arn:aws:firehose:us-east-2:366620023056:deliverystream/aient", "us-east-2", "366620023056"},
		{"arn:aws-cn:firehose:cn-north-1:123456789012:deliverystream/x", "cn-north-1", "123456789012"},
		{"arn:aws:kinesis:us-east-2:366620023056:stream/x", "", ""},
		{"", "", ""},
		{"arn:aws:firehose:us-east-2", "", ""},
		// Defect 9 of issue 14: the region ends up in console links; it must be region syntax.
		{"arn:aws:firehose:evil.example/phish#:366620023056:deliverystream/x", "", ""},
		{"arn:aws:firehose:us-east-2:not-an-account:deliverystream/x", "us-east-2", ""},
	} {
		r, a := ParseSourceARN(tc.arn)
		if r != tc.region || a != tc.account {
			t.Errorf("ParseSourceARN(%q) = %q, %q; want %q, %q", tc.arn, r, a, tc.region, tc.account)
		}
	}
}

func TestParseCommonAttributes(t *testing.T) {
	many := map[string]string{}
	for i := range 51 {
		many[strings.Repeat("k", i+1)] = "v"
	}
	manyJSON, _ := json.Marshal(map[string]any{"commonAttributes": many})
	cases := []struct {
		name, header string
		want         map[string]string
		wantErr      bool
	}{
		{"no header", "", nil, false},
		{"two attributes", `{"commonAttributes":{"team":"payments","tier":"1"}}`, map[string]string{"team": "payments", "tier": "1"}, false},
		{"empty attributes", `{"commonAttributes":{}}`, map[string]string{}, false},
		{"not JSON", `team=payments`, nil, true},
		{"no commonAttributes object", `{"team":"payments"}`, nil, true},
		{"a value that is not a string", `{"commonAttributes":{"n":1}}`, nil, true},
		{"more than 50 attributes", string(manyJSON), nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCommonAttributes(tc.header)
			if (err != nil) != tc.wantErr || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, %v", got, err)
			}
		})
	}
}
