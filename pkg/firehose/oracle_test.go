package firehose

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aient/firehose-drain/internal/jsonscan"
	"github.com/aient/firehose-drain/internal/testkit/jsonref"
)

// The reference decoders: encoding/json into typed values, reading the shapes ParseBody
// and ParseURLEvent document. The differential fuzz targets below hold the hand-written
// decoders to them: the same inputs accepted, the same fields read.

// fields reads the members of the object raw named in into (decoded by encoding/json into
// the pointers given; null leaves them nil), each at most once.
func fields(raw []byte, into map[string]any) error {
	ms, err := jsonref.Members(raw)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, m := range ms {
		dst, ok := into[m.Name]
		if !ok {
			continue
		}
		if seen[m.Name] {
			return fmt.Errorf("repeated %s", m.Name)
		}
		seen[m.Name] = true
		if err := json.Unmarshal(m.Value, dst); err != nil {
			return fmt.Errorf("%s: %w", m.Name, err)
		}
	}
	return nil
}

func refBody(b []byte) (Body, error) {
	var body Body
	var requestID *string
	var ts json.RawMessage
	var records *[]json.RawMessage
	if err := fields(b, map[string]any{"requestId": &requestID, "timestamp": &ts, "records": &records}); err != nil {
		return body, err
	}
	switch jsonref.Kind(ts) {
	case 0, 'n':
	case '0':
		body.Timestamp = Int64(json.Number(ts))
	default:
		return body, errors.New("timestamp is not a number")
	}
	if requestID == nil || *requestID == "" || records == nil || len(*records) == 0 || len(*records) > MaxRecords {
		return body, errors.New("requestId or records missing")
	}
	body.RequestID = *requestID
	for _, r := range *records {
		if jsonref.Kind(r) != '{' {
			return body, errors.New("record not an object")
		}
		var data *string
		if err := fields(r, map[string]any{"data": &data}); err != nil {
			return body, err
		}
		if data == nil {
			return body, errors.New("no data")
		}
		body.Records = append(body.Records, []byte(*data))
	}
	return body, nil
}

func refURLEvent(b []byte) (URLRequest, error) {
	var req URLRequest
	var body, rawPath, httpMethod *string
	var isBase64 *bool
	var headers, reqCtx json.RawMessage
	if err := fields(b, map[string]any{
		"body": &body, "isBase64Encoded": &isBase64, "rawPath": &rawPath, "headers": &headers,
		"requestContext": &reqCtx, "httpMethod": &httpMethod,
	}); err != nil {
		return req, err
	}
	req.Headers = map[string]string{}
	switch jsonref.Kind(headers) {
	case 0, 'n':
	case '{':
		ms, err := jsonref.Members(headers)
		if err != nil {
			return req, err
		}
		seen := map[string]bool{}
		for _, m := range ms {
			name := strings.ToLower(m.Name)
			if seen[name] {
				return req, errors.New("repeated header")
			}
			seen[name] = true
			var v *string
			if err := json.Unmarshal(m.Value, &v); err != nil {
				return req, err
			}
			if v != nil {
				req.Headers[name] = *v
			}
		}
	default:
		return req, errors.New("headers is not an object")
	}
	var method *string
	switch jsonref.Kind(reqCtx) {
	case 0, 'n':
	case '{':
		var http json.RawMessage
		if err := fields(reqCtx, map[string]any{"http": &http}); err != nil {
			return req, err
		}
		switch jsonref.Kind(http) {
		case 0, 'n':
		case '{':
			if err := fields(http, map[string]any{"method": &method}); err != nil {
				return req, err
			}
		default:
			return req, errors.New("http is not an object")
		}
	default:
		return req, errors.New("requestContext is not an object")
	}
	switch {
	case method != nil && *method != "":
		req.Method = strings.ToUpper(*method)
	case httpMethod != nil:
		req.Method = strings.ToUpper(*httpMethod)
	}
	if rawPath != nil {
		req.RawPath = *rawPath
	}
	if body != nil {
		req.Body = []byte(*body)
		if isBase64 != nil && *isBase64 {
			dec, err := base64.StdEncoding.DecodeString(*body)
			if err != nil {
				return req, err
			}
			req.Body = dec
		}
	}
	return req, nil
}

func tooDeep(b []byte) bool { return jsonref.Depth(b) > jsonscan.MaxDepth-4 }

// FuzzParseBody compares ParseBody with the reference on bodies: the conformance captures
// and mutations of them.
func FuzzParseBody(f *testing.F) {
	for _, b := range fixtureBodies(f) {
		f.Add(b)
		f.Add(bytes.ReplaceAll(b, []byte(`":`), []byte(`" : `)))
		f.Add(bytes.Replace(b, []byte(`"records":`), []byte(`"records":[],"records":`), 1))
		f.Add(bytes.Replace(b, []byte(`"data":`), []byte(`"data":null,"x":`), 1))
	}
	for _, s := range []string{
		`{"requestId":"r","records":[{"data":"\u00e9\/"}]}`, `{"records":[[[`, `{"requestId":5}`, ``,
		`{"requestId":"r","timestamp":1e400,"records":[{"data":"a\tb"}]}`, `{"requestId":"r","timestamp":-1.5,"records":[{"data":"\xff"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseBody(b)
		if tooDeep(b) {
			return
		}
		want, werr := refBody(b)
		if (err == nil) != (werr == nil) {
			t.Fatalf("ParseBody(%q): %v; reference: %v", b, err, werr)
		}
		if err != nil {
			return
		}
		if jsonref.Text([]byte(got.RequestID)) != want.RequestID || got.Timestamp != want.Timestamp || len(got.Records) != len(want.Records) {
			t.Fatalf("ParseBody(%q) = %q %d %d records; reference %q %d %d", b, got.RequestID, got.Timestamp, len(got.Records), want.RequestID, want.Timestamp, len(want.Records))
		}
		for i := range got.Records {
			if jsonref.Text(got.Records[i]) != string(want.Records[i]) {
				t.Fatalf("ParseBody(%q): record %d %q; reference %q", b, i, got.Records[i], want.Records[i])
			}
		}
	})
}

// FuzzParseURLEvent compares ParseURLEvent (and the in-place variant) with the reference
// on Function URL events carrying the conformance captures, and mutations.
func FuzzParseURLEvent(f *testing.F) {
	for _, b := range fixtureBodies(f) {
		ev := urlEvent(f, b, false, map[string]string{"x-amz-firehose-request-id": "r", "X-Amz-Firehose-Access-Key": "k"})
		f.Add(ev)
		f.Add(urlEvent(f, gz(f, b), true, map[string]string{"content-encoding": "gzip"}))
		f.Add(bytes.ReplaceAll(ev, []byte(`":`), []byte(`": `)))
		f.Add(bytes.Replace(ev, []byte(`"body":`), []byte(`"body":"","body":`), 1))
	}
	f.Add([]byte(`{"body":"\ud83d\ude00\u00","isBase64Encoded":false}`))
	f.Add([]byte(`{"body":"eA==","isBase64Encoded":true,"headers":{"A":"b","a":"c"}}`))
	f.Add([]byte(`{"httpMethod":"post","requestContext":{"http":{"method":""}},"headers":{"h":null},"rawPath":null}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		orig := append([]byte(nil), p...)
		req, err := ParseURLEvent(p)
		if !bytes.Equal(p, orig) {
			t.Fatal("ParseURLEvent modified its input")
		}
		inPlace, err2 := ParseURLEventInPlace(append([]byte(nil), p...))
		if (err == nil) != (err2 == nil) || !bytes.Equal(req.Body, inPlace.Body) {
			t.Fatalf("copying and in-place parses differ: %v / %v", err, err2)
		}
		if tooDeep(p) {
			return
		}
		want, werr := refURLEvent(p)
		if (err == nil) != (werr == nil) {
			t.Fatalf("ParseURLEvent(%q): %v; reference: %v", p, err, werr)
		}
		if err != nil {
			return
		}
		norm := func(r URLRequest) URLRequest {
			h := map[string]string{}
			for k, v := range r.Headers {
				h[jsonref.Text([]byte(k))] = jsonref.Text([]byte(v))
			}
			return URLRequest{Method: jsonref.Text([]byte(r.Method)), RawPath: jsonref.Text([]byte(r.RawPath)), Headers: h}
		}
		if g, w := norm(req), norm(want); !reflect.DeepEqual(g, w) {
			t.Fatalf("ParseURLEvent(%q) = %+v; reference %+v", p, g, w)
		}
		if !bytes.Equal([]byte(jsonref.Text(req.Body)), []byte(jsonref.Text(want.Body))) {
			t.Fatalf("ParseURLEvent(%q): body %q; reference %q", p, req.Body, want.Body)
		}
	})
}
