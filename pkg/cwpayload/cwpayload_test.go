package cwpayload

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aient/firehose-drain/internal/testkit/conformance"
	"github.com/aient/firehose-drain/pkg/event"
)

// fixtures are the vendored Firehose captures (testdata/conformance/firehose).
var fixtures = filepath.Join(conformance.Dir(), "firehose")

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatalf("conformance fixture %s: %v", name, err)
	}
	return b
}

// bodyRecords returns the data strings of a Firehose request body.
func bodyRecords(t testing.TB, body []byte) [][]byte {
	t.Helper()
	var req struct {
		Records []struct {
			Data string `json:"data"`
		} `json:"records"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatalf("fixture body: %v", err)
	}
	out := make([][]byte, len(req.Records))
	for i, r := range req.Records {
		out[i] = []byte(r.Data)
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

func b64(b []byte) []byte { return []byte(base64.StdEncoding.EncodeToString(b)) }

// record is what a test expects of one record.
type record struct {
	control, data bool
	events        int
	errors        int
	reason        string // "" when the record decodes cleanly
}

func check(t *testing.T, got []RecordResult, want []record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d results, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		reason := ""
		if g.Err != nil {
			reason = g.Err.Reason
			if g.Err.Index != i {
				t.Errorf("record %d: error names index %d", i, g.Err.Index)
			}
		}
		if reason != w.reason {
			t.Errorf("record %d: reason %q (%v), want %q", i, reason, g.Err, w.reason)
		}
		if g.Control != w.control || g.Data != w.data || g.Events != w.events || len(g.Errors) != w.errors {
			t.Errorf("record %d: control=%v data=%v events=%d errors=%d, want control=%v data=%v events=%d errors=%d",
				i, g.Control, g.Data, g.Events, len(g.Errors), w.control, w.data, w.events, w.errors)
		}
	}
}

func TestConformanceBodies(t *testing.T) {
	notCWDoc := "not a CloudWatch Logs document: no messageType"
	cases := []struct {
		file string
		want []record
	}{
		{"alloy/cw_logs_mixed.json", []record{{control: true}, {data: true, events: 13}}},
		{"alloy/cw_logs_with_only_data_messages.json", []record{{data: true, events: 13}}},
		{"alloy/cw_logs_with_only_control_messages.json", []record{{control: true}}},
		{"alloy/cw_logs_control_and_bad_records.json", []record{{control: true}, {reason: "not base64"}}},
		{"alloy/direct_put.json", []record{{reason: notCWDoc}, {reason: notCWDoc}, {reason: notCWDoc}}},
		{"alloy/direct_put_with_non_json_message.json", []record{{reason: "not gzip and not JSON"}}},
		{"vector/guide_request_body.json", []record{{data: true, events: 2}}},
	}
	d := NewDecoder(DefaultLimits())
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			recs := bodyRecords(t, readFixture(t, tc.file))
			for _, workers := range []int{1, 4} {
				check(t, d.DecodeRecords(context.Background(), recs, &Stamp{}, workers), tc.want)
			}
		})
	}
}

func TestConformancePayloads(t *testing.T) {
	cases := []struct {
		file string
		want record
	}{
		{"otel/extracted_fields_both.json", record{data: true, events: 1}},
		{"otel/multiple_json_objects.json", record{data: true, events: 2}},
		{"otel/only_control.ndjson", record{control: true}},
		{"otel/two_records_different_extracted_fields.json", record{data: true, events: 2}},
		{"otel/valid_cloudwatch_log_control.json", record{control: true}},
		{"decoded/alloy_cw_logs_mixed_record0.json", record{control: true}},
		{"decoded/alloy_cw_logs_mixed_record1.json", record{data: true, events: 13}},
		{"decoded/vector_guide_record0.json", record{data: true, events: 2}},
	}
	d := NewDecoder(DefaultLimits())
	for _, tc := range cases {
		payload := readFixture(t, tc.file)
		t.Run(tc.file+"/gzip", func(t *testing.T) {
			check(t, d.DecodeRecords(context.Background(), [][]byte{b64(gz(t, payload))}, nil, 1), []record{tc.want})
		})
		t.Run(tc.file+"/plain (Firehose decompression on)", func(t *testing.T) {
			check(t, d.DecodeRecords(context.Background(), [][]byte{b64(payload)}, nil, 1), []record{tc.want})
		})
	}
}

// asErrors turns every message of a fixture into an error line, so its events are kept.
func asErrors(b []byte) []byte {
	s := string(b)
	for _, m := range []string{"Hello world, here is our first log message!", "First log from account 111", "Second log from account 222", "some text", "some other text"} {
		s = strings.ReplaceAll(s, `"`+m+`"`, `"ERROR `+m+`"`)
	}
	return []byte(s)
}

func TestStampedErrorEvents(t *testing.T) {
	attrs := map[string]string{"team": "payments"}
	st := &Stamp{Drain: "d1", Org: "acme", Env: "prod", Region: "us-east-2", RequestID: "req-1", Attributes: attrs}
	d := NewDecoder(DefaultLimits())

	t.Run("extracted @aws.account and @aws.region win over owner and the stream's region", func(t *testing.T) {
		p := asErrors(readFixture(t, "otel/extracted_fields_both.json"))
		res := d.DecodeRecords(context.Background(), [][]byte{b64(gz(t, p))}, st, 1)
		if len(res[0].Errors) != 1 {
			t.Fatalf("errors = %d, want 1 (%v)", len(res[0].Errors), res[0].Err)
		}
		want := event.Event{
			Drain: "d1", Org: "acme", Env: "prod", Account: "999888777666", Region: "us-west-2",
			LogGroup: "test-log-group", LogStream: "test-log-stream",
			ID: "38480917865042697267627490045603633139480491071049695232", Timestamp: 1725544035523,
			Message: "ERROR Hello world, here is our first log message!", Level: event.Error,
			FirehoseRequestID: "req-1", Attributes: attrs,
		}
		want.IdentityKey = want.ComputeIdentity()
		if got := res[0].Errors[0]; !reflect.DeepEqual(got, want) {
			t.Errorf("event =\n%+v\nwant\n%+v", got, want)
		}
		if reflect.ValueOf(res[0].Errors[0].Attributes).UnsafePointer() != reflect.ValueOf(attrs).UnsafePointer() {
			t.Error("attributes were copied; every event should share the stamp's map")
		}
	})
	t.Run("each event keeps its own account, region and timestamp", func(t *testing.T) {
		p := asErrors(readFixture(t, "otel/two_records_different_extracted_fields.json"))
		res := d.DecodeRecords(context.Background(), [][]byte{b64(p)}, st, 1)
		got := res[0].Errors
		if len(got) != 2 {
			t.Fatalf("errors = %d, want 2 (%v)", len(got), res[0].Err)
		}
		if got[0].Account != "111111111111" || got[0].Region != "us-east-1" || got[0].Timestamp != 1725544035523 {
			t.Errorf("first event: %s %s %d", got[0].Account, got[0].Region, got[0].Timestamp)
		}
		if got[1].Account != "222222222222" || got[1].Region != "us-west-2" || got[1].Timestamp != 1725544035524 {
			t.Errorf("second event: %s %s %d", got[1].Account, got[1].Region, got[1].Timestamp)
		}
	})
	t.Run("without system fields the owner and the stream's region stamp the event", func(t *testing.T) {
		p := asErrors(readFixture(t, "otel/multiple_json_objects.json"))
		res := d.DecodeRecords(context.Background(), [][]byte{b64(gz(t, p))}, st, 1)
		got := res[0].Errors
		if len(got) != 2 {
			t.Fatalf("errors = %d, want 2 (%v)", len(got), res[0].Err)
		}
		if got[0].Account != "123456789012" || got[0].Region != "us-east-2" || got[0].LogGroup != "/my/first/log/group" || got[1].LogGroup != "/my/second/log/group" {
			t.Errorf("events: %+v", got)
		}
	})
	t.Run("system fields at the top level of the event", func(t *testing.T) {
		doc := `{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":[],"logEvents":[{"id":"1","timestamp":5,"message":"ERROR x","@aws.account":"42","@aws.region":"eu-west-1"}]}`
		res := d.DecodeRecords(context.Background(), [][]byte{b64([]byte(doc))}, st, 1)
		if len(res[0].Errors) != 1 || res[0].Errors[0].Account != "42" || res[0].Errors[0].Region != "eu-west-1" {
			t.Errorf("got %+v %v", res[0].Errors, res[0].Err)
		}
	})
	t.Run("escaped messages are unescaped once, classified and kept verbatim", func(t *testing.T) {
		doc := `{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/aws/lambda/f","logStream":"s","logEvents":[` +
			`{"id":"a","timestamp":1,"message":"2023-05-18T15:33:23.822Z\t632d\tERROR\tInvoke Error \t{\"errorType\":\"Error\",\"errorMessage\":\"b\u00e9 \ud83d\ude00\"}\n"},` +
			`{"id":"b","timestamp":2,"message":"2023-05-18T15:33:23.822Z\t632d\tINFO\terror budget ok\n"}]}`
		res := d.DecodeRecords(context.Background(), [][]byte{b64(gz(t, []byte(doc)))}, st, 1)
		if res[0].Events != 2 || len(res[0].Errors) != 1 {
			t.Fatalf("events=%d errors=%d err=%v", res[0].Events, len(res[0].Errors), res[0].Err)
		}
		want := "2023-05-18T15:33:23.822Z\t632d\tERROR\tInvoke Error \t{\"errorType\":\"Error\",\"errorMessage\":\"bé 😀\"}\n"
		if got := res[0].Errors[0].Message; got != want {
			t.Errorf("message = %q, want %q", got, want)
		}
	})
	t.Run("log event fields in any order, with spaces, or missing", func(t *testing.T) {
		doc := `{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[
			{"id":"1","message":"ERROR a","timestamp":5},
			{"id":"2"},
			{"id":"3","timestamp":6},
			{ "timestamp" : 7 , "id" : "4" , "message" : "ERROR\tb" , "extra" : [1, {"x": null}] },
			{"message":"ERROR c","id":5,"timestamp":8.0}
		]}`
		res := d.DecodeRecords(context.Background(), [][]byte{b64([]byte(doc))}, st, 1)
		if res[0].Err != nil || res[0].Events != 5 || len(res[0].Errors) != 3 {
			t.Fatalf("events=%d errors=%d err=%v", res[0].Events, len(res[0].Errors), res[0].Err)
		}
		got := res[0].Errors
		if got[0].ID != "1" || got[0].Timestamp != 5 || got[1].ID != "4" || got[1].Timestamp != 7 || got[1].Message != "ERROR\tb" || got[2].ID != "5" || got[2].Timestamp != 8 {
			t.Errorf("events: %+v", got)
		}
	})
	t.Run("ids with escapes or escaped quotes are unescaped", func(t *testing.T) {
		doc := `{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[` +
			`{"id":"a\u0041b","timestamp":1,"message":"ERROR x"},` +
			`{"id":"q\"","timestamp":2,"message":"ERROR y"}]}`
		res := d.DecodeRecords(context.Background(), [][]byte{b64([]byte(doc))}, st, 1)
		if res[0].Err != nil || len(res[0].Errors) != 2 {
			t.Fatalf("errors=%d err=%v", len(res[0].Errors), res[0].Err)
		}
		got := res[0].Errors
		if got[0].ID != "aAb" || got[0].Message != "ERROR x" || got[1].ID != `q"` || got[1].Message != "ERROR y" {
			t.Errorf("events: %+v", got)
		}
	})
	t.Run("logEvents before the header still get the header", func(t *testing.T) {
		doc := `{"logEvents":[{"id":"1","timestamp":5,"message":"FATAL x"}],"logStream":"s","logGroup":"g","owner":"7","messageType":"DATA_MESSAGE"}`
		res := d.DecodeRecords(context.Background(), [][]byte{b64([]byte(doc))}, st, 1)
		if len(res[0].Errors) != 1 || res[0].Errors[0].Account != "7" || res[0].Errors[0].LogGroup != "g" || res[0].Errors[0].Level != event.Fatal {
			t.Errorf("got %+v %v", res[0].Errors, res[0].Err)
		}
	})
}

// bomb is a gzip stream that inflates to n zero bytes.
func bomb(t testing.TB, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	chunk := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, len(chunk))
		if _, err := w.Write(chunk[:k]); err != nil {
			panic(err) // a bytes.Buffer never fails
		}
		n -= k
	}
	w.Close()
	return buf.Bytes()
}

func TestBadRecords(t *testing.T) {
	good := []byte(`{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":5,"message":"ERROR x"}]}`)
	goodGz := gz(t, good)
	corrupt := append([]byte(nil), goodGz...)
	corrupt[len(corrupt)-6] ^= 0xff // CRC
	limits := Limits{MaxRecordBytes: 1_024_000, MaxRecordInflated: 1 << 20, MaxRequestInflated: 4 << 20}
	cases := []struct {
		name   string
		data   []byte
		reason string
	}{
		{"not base64", []byte("H4sIAAAAAAAAADWO0QqCMBiFX2XsWsJSwrwLUW8sIYUuQmLpnxvpJttMQnz3Ztrlxzm"), "not base64"},
		{"base64 with a stray character", []byte("eyJh*IjoxfQ=="), "not base64"},
		{"empty data", []byte(""), "empty record"},
		{"plain text, not gzip and not JSON", b64([]byte("hola esto es una prueba")), "not gzip and not JSON"},
		{"truncated gzip", b64(goodGz[:len(goodGz)/2]), "truncated gzip"},
		{"gzip header only", b64(goodGz[:10]), "truncated gzip"},
		{"gzip with a bad checksum", b64(corrupt), "corrupt gzip (checksum mismatch)"},
		{"gzip header cut short", b64([]byte{0x1f, 0x8b, 8, 0, 0, 0}), "truncated gzip"},
		{"gzip magic then garbage", b64([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), "corrupt gzip"},
		{"gzip bomb past the record cap", b64(bomb(t, 4<<20)), "inflated size over the 1,048,576-byte cap"},
		{"record over 1,024,000 bytes", b64(make([]byte, 1_024_001)), "record over 1,024,000 bytes"},
		{"Direct PUT JSON", b64([]byte(`{"CHANGE":-0.23,"PRICE":4.8}`)), "not a CloudWatch Logs document: no messageType"},
		{"JSON array", b64(gz(t, []byte(`[1,2]`))), "not a CloudWatch Logs document"},
		{"unknown messageType", b64([]byte(`{"messageType":"OTHER","logEvents":[]}`)), `not a CloudWatch Logs document: unknown messageType "OTHER"`},
		{"no logEvents", b64([]byte(`{"messageType":"DATA_MESSAGE","owner":"1"}`)), "not a CloudWatch Logs document: no logEvents"},
		{"logEvents not an array", b64([]byte(`{"messageType":"DATA_MESSAGE","logEvents":{}}`)), "not a CloudWatch Logs document: logEvents is not an array"},
		{"truncated JSON inside gzip", b64(gz(t, good[:len(good)-3])), "not a CloudWatch Logs document"},
		{"garbage after a document", b64(append(append([]byte(nil), good...), " trailing"...)), "not a CloudWatch Logs document"},
		{"bad escape in a message", b64([]byte(`{"messageType":"DATA_MESSAGE","logEvents":[{"message":"\q"}]}`)), "not a CloudWatch Logs document"},
		{"deeply nested unknown field", b64([]byte(`{"x":` + strings.Repeat("[", 10000) + `}`)), "not a CloudWatch Logs document"},
	}
	d := NewDecoder(limits)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := d.DecodeRecords(context.Background(), [][]byte{b64(good), tc.data, b64(goodGz)}, nil, 1)
			if res[1].Err == nil {
				t.Fatalf("record 1 decoded cleanly, want %q", tc.reason)
			}
			if res[1].Err.Reason != tc.reason {
				t.Errorf("reason = %q (%v), want %q", res[1].Err.Reason, res[1].Err, tc.reason)
			}
			if !strings.HasPrefix(res[1].Err.Error(), "record 1: "+tc.reason) {
				t.Errorf("Error() = %q", res[1].Err.Error())
			}
			for _, i := range []int{0, 2} {
				if res[i].Err != nil || len(res[i].Errors) != 1 {
					t.Errorf("good record %d next to a bad one: %v, %d errors", i, res[i].Err, len(res[i].Errors))
				}
			}
		})
	}
}

func TestRequestInflatedCap(t *testing.T) {
	d := NewDecoder(Limits{MaxRecordInflated: 3 << 20, MaxRequestInflated: 5 << 20})
	doc := `{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":5,"message":"` + strings.Repeat("a", 2<<20) + `"}]}`
	rec := b64(gz(t, []byte(doc)))
	const reason = "request inflated size over the 5,242,880-byte cap"
	t.Run("one worker: the records past the budget fail", func(t *testing.T) {
		res := d.DecodeRecords(context.Background(), [][]byte{rec, rec, rec, rec}, nil, 1)
		for i, r := range res {
			failed := i < 2 // records are decoded from the last to the first
			if (r.Err != nil) != failed || (failed && r.Err.Reason != reason) {
				t.Errorf("record %d: %v", i, r.Err)
			}
		}
	})
	t.Run("parallel workers share the budget", func(t *testing.T) {
		res := d.DecodeRecords(context.Background(), [][]byte{rec, rec, rec, rec}, nil, 3)
		ok := 0
		for i, r := range res {
			switch {
			case r.Err == nil:
				ok++
			case r.Err.Reason != reason:
				t.Errorf("record %d: %v", i, r.Err)
			}
		}
		if ok > 2 {
			t.Errorf("%d records of 2 MiB decoded under a 5 MiB request cap", ok)
		}
	})
}

func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := NewDecoder(DefaultLimits())
	res := d.DecodeRecords(ctx, [][]byte{b64([]byte(`{}`))}, nil, 1)
	if res[0].Err == nil || !errors.Is(res[0].Err.Err, context.Canceled) {
		t.Errorf("got %v, want the context's error", res[0].Err)
	}
}

func TestParallelMatchesSequential(t *testing.T) {
	reqs := generateRequest(7, 400<<10)
	d := NewDecoder(DefaultLimits())
	st := &Stamp{Drain: "d", Region: "us-east-1"}
	seq := d.DecodeRecords(context.Background(), reqs.records, st, 1)
	par := d.DecodeRecords(context.Background(), reqs.records, st, 4)
	if len(seq) != len(par) {
		t.Fatalf("parallel decode gave %d results, sequential %d", len(par), len(seq))
	}
	for i := range seq {
		// Errors are compared by what they say, the rest field by field.
		a, b := seq[i], par[i]
		if fmt.Sprint(a.Err) != fmt.Sprint(b.Err) {
			t.Fatalf("record %d: parallel error %v, sequential %v", i, b.Err, a.Err)
		}
		if a.Control != b.Control || a.Data != b.Data || a.Events != b.Events || !reflect.DeepEqual(a.Errors, b.Errors) {
			t.Fatalf("record %d: parallel decode differs from sequential", i)
		}
	}
	events, errs := 0, 0
	for _, r := range seq {
		if r.Err != nil {
			t.Fatalf("generated record failed: %v", r.Err)
		}
		events += r.Events
		errs += len(r.Errors)
	}
	if events != reqs.events || errs != reqs.errors {
		t.Errorf("events=%d errors=%d, generator says %d and %d", events, errs, reqs.events, reqs.errors)
	}
}

// FuzzDecodeRecord compares the decoder with the reference decoder (oracle_test.go) on
// whole record data: base64, gzip or plain, documents.
func FuzzDecodeRecord(f *testing.F) {
	for _, dir := range []string{"alloy", "vector"} {
		files, _ := filepath.Glob(filepath.Join(fixtures, dir, "*.json"))
		for _, file := range files {
			body, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			for _, r := range bodyRecords(f, body) {
				f.Add(r)
			}
		}
	}
	for _, p := range payloadSeeds(f) {
		f.Add(b64(p))
		f.Add(b64(gz(f, p)))
	}
	f.Add([]byte(""))
	f.Add(b64([]byte(`{"messageType":"DATA_MESSAGE","logEvents":[{"message":"\ud800\u00"}]}`)))
	d := NewDecoder(oracleLimits)
	f.Fuzz(func(t *testing.T, data []byte) {
		got := d.DecodeRecords(context.Background(), [][]byte{data}, oracleStamp, 1)[0]
		compareWithReference(t, data, got, refRecord(data, oracleStamp, oracleLimits))
	})
}

// FuzzDecodePayload reaches the tokenizer directly: the fuzzed bytes are the record's
// decompressed payload, sent plain or gzip-compressed, compared with the reference
// decoder.
func FuzzDecodePayload(f *testing.F) {
	for _, p := range payloadSeeds(f) {
		f.Add(p, false)
		f.Add(p, true)
	}
	d := NewDecoder(oracleLimits)
	f.Fuzz(func(t *testing.T, payload []byte, compress bool) {
		data := payload
		if compress {
			data = gz(t, payload)
		}
		rec := b64(data)
		got := d.DecodeRecords(context.Background(), [][]byte{rec}, oracleStamp, 1)[0]
		compareWithReference(t, payload, got, refRecord(rec, oracleStamp, oracleLimits))
	})
}
