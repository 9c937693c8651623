package deploytest

import (
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aient/firehose-drain/internal/testkit/conformance"
	"github.com/aient/firehose-drain/pkg/event"
)

// decodeStrict decodes one JSON value and fails on unknown fields or trailing data, so an
// events/ file cannot drift away from the aws-lambda-go type it claims to be.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

type firehoseBody struct {
	RequestID string `json:"requestId"`
	Timestamp int64  `json:"timestamp"`
	Records   []struct {
		Data string `json:"data"`
	} `json:"records"`
}

// cloudWatchDocs gunzips one record's data and decodes the CloudWatch Logs documents in it
// (one or more, concatenated).
func cloudWatchDocs(data []byte) ([]cloudWatchDocument, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var docs []cloudWatchDocument
	for dec.More() {
		var d cloudWatchDocument
		if err := dec.Decode(&d); err != nil {
			return nil, fmt.Errorf("CloudWatch JSON: %w", err)
		}
		if d.MessageType != "DATA_MESSAGE" && d.MessageType != "CONTROL_MESSAGE" {
			return nil, fmt.Errorf("messageType %q", d.MessageType)
		}
		docs = append(docs, d)
	}
	if len(docs) == 0 {
		return nil, errors.New("no CloudWatch document")
	}
	return docs, nil
}

// decodeURLBody returns the HTTP body of a Function URL event as Firehose sent it: base64
// undone when the flag says so, gzip undone when the content-encoding says so.
func decodeURLBody(ev events.LambdaFunctionURLRequest) ([]byte, error) {
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return nil, fmt.Errorf("base64 body: %w", err)
		}
	}
	if got := ev.Headers["content-length"]; got != "" && got != strconv.Itoa(len(body)) {
		return nil, fmt.Errorf("content-length %s, body is %d bytes", got, len(body))
	}
	if ev.Headers["content-encoding"] == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("gzip body: %w", err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("gzip body: %w", err)
		}
	}
	return body, nil
}

func eventsDir(t *testing.T) string { return filepath.Join(repoRoot(t), "events") }

func TestEventFilesAreAllExpected(t *testing.T) {
	names, err := filepath.Glob(filepath.Join(eventsDir(t), "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var known []string
	for _, e := range Expectations() {
		known = append(known, e.File)
	}
	for _, n := range names {
		if !slices.Contains(known, filepath.Base(n)) {
			t.Errorf("events/%s has no Expectation: add the answer it must get", filepath.Base(n))
		}
	}
	if len(names) != len(known) {
		t.Errorf("events/ holds %d files, Expectations names %d", len(names), len(known))
	}
}

func TestFunctionURLEvents(t *testing.T) {
	for _, exp := range Expectations() {
		if exp.Kind != FunctionURL {
			continue
		}
		t.Run(exp.File, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(eventsDir(t), exp.File))
			if err != nil {
				t.Fatal(err)
			}
			var ev events.LambdaFunctionURLRequest
			if err := decodeStrict(raw, &ev); err != nil {
				t.Fatalf("not a LambdaFunctionURLRequest: %v", err)
			}
			if ev.Version != "2.0" {
				t.Errorf("version %q, want payload format 2.0", ev.Version)
			}
			for h := range ev.Headers {
				if h != strings.ToLower(h) {
					t.Errorf("header %q is not lower-case, as Function URLs deliver them", h)
				}
			}
			if !strings.HasPrefix(ev.RawPath, "/aws/firehose/") || ev.RequestContext.HTTP.Path != ev.RawPath {
				t.Errorf("rawPath %q, http.path %q, want /aws/firehose/<drainId> in both", ev.RawPath, ev.RequestContext.HTTP.Path)
			}
			if exp.Status == 405 {
				if ev.RequestContext.HTTP.Method == "POST" || ev.Body != "" {
					t.Errorf("the 405 case is a %s with a %d byte body, want a bodiless non-POST", ev.RequestContext.HTTP.Method, len(ev.Body))
				}
				return
			}
			if ev.RequestContext.HTTP.Method != "POST" {
				t.Errorf("method %s, want POST", ev.RequestContext.HTTP.Method)
			}
			h := ev.Headers
			if h["x-amz-firehose-protocol-version"] != "1.0" || h["content-type"] != "application/json" ||
				!strings.HasPrefix(h["x-amz-firehose-source-arn"], "arn:aws:firehose:") || h["x-amz-firehose-access-key"] == "" {
				t.Errorf("Firehose headers missing or wrong: %v", h)
			}
			if h["x-amz-firehose-request-id"] != exp.RequestID {
				t.Errorf("x-amz-firehose-request-id %q, want %q", h["x-amz-firehose-request-id"], exp.RequestID)
			}
			body, err := decodeURLBody(ev)
			if err != nil {
				t.Fatal(err)
			}
			if exp.Status == 400 {
				if json.Valid(body) {
					t.Errorf("the malformed case's body is valid JSON: %q", body)
				}
				return
			}
			var fb firehoseBody
			if err := decodeStrict(body, &fb); err != nil {
				t.Fatalf("body is not a Firehose request: %v", err)
			}
			if fb.RequestID != exp.RequestID || fb.Timestamp == 0 || len(fb.Records) == 0 {
				t.Errorf("Firehose body requestId %q timestamp %d records %d", fb.RequestID, fb.Timestamp, len(fb.Records))
			}
			var errorsWithStacks int
			for i, r := range fb.Records {
				data, err := base64.StdEncoding.DecodeString(r.Data)
				if err != nil {
					t.Fatalf("record %d: base64: %v", i, err)
				}
				docs, err := cloudWatchDocs(data)
				if err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
				for _, d := range docs {
					for _, e := range d.LogEvents {
						if strings.Contains(e.Message, "ERROR") && strings.Contains(e.Message, "    at ") {
							errorsWithStacks++
						}
					}
				}
			}
			if exp.File == "url-gzip-request.json" {
				if !ev.IsBase64Encoded || h["content-encoding"] != "gzip" {
					t.Errorf("the gzip request has isBase64Encoded %v content-encoding %q", ev.IsBase64Encoded, h["content-encoding"])
				}
				if errorsWithStacks != 2 {
					t.Errorf("the gzip request carries %d ERROR events with stack traces, want 2", errorsWithStacks)
				}
			}
		})
	}
}

func TestSQSEvents(t *testing.T) {
	for _, exp := range Expectations() {
		if exp.Kind != SQS {
			continue
		}
		t.Run(exp.File, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(eventsDir(t), exp.File))
			if err != nil {
				t.Fatal(err)
			}
			var ev events.SQSEvent
			if err := decodeStrict(raw, &ev); err != nil {
				t.Fatalf("not an SQSEvent: %v", err)
			}
			if len(ev.Records) == 0 {
				t.Fatal("no records")
			}
			var poison []string
			for _, m := range ev.Records {
				sum := md5.Sum([]byte(m.Body))
				if m.Md5OfBody != hex.EncodeToString(sum[:]) {
					t.Errorf("%s: md5OfBody %s does not match the body", m.MessageId, m.Md5OfBody)
				}
				if m.EventSource != "aws:sqs" || m.MessageId == "" || m.ReceiptHandle == "" {
					t.Errorf("%s: eventSource %q receiptHandle %q", m.MessageId, m.EventSource, m.ReceiptHandle)
				}
				var e event.Event
				if err := decodeStrict([]byte(m.Body), &e); err != nil {
					poison = append(poison, m.MessageId)
					continue
				}
				if !e.Level.IsErrorClass() || e.Drain != ExampleDrainID || e.ID == "" || e.Timestamp == 0 || e.Identity() == "" {
					t.Errorf("%s: event %+v is not an error event of the example drain", m.MessageId, e)
				}
			}
			if !slices.Equal(poison, exp.BatchItemFailures) && (len(poison) != 0 || len(exp.BatchItemFailures) != 0) {
				t.Errorf("bodies that are not events: %v, want exactly the expected failures %v", poison, exp.BatchItemFailures)
			}
		})
	}
}

func TestEventsREADME(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(eventsDir(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, exp := range Expectations() {
		var row string
		for _, line := range strings.Split(string(readme), "\n") {
			if strings.HasPrefix(line, "| `"+exp.File+"`") {
				row = line
			}
		}
		if row == "" {
			t.Errorf("events/README.md has no table row for %s", exp.File)
			continue
		}
		if exp.Kind == FunctionURL && !strings.Contains(row, "| "+strconv.Itoa(exp.Status)) {
			t.Errorf("events/README.md row of %s does not give status %d: %s", exp.File, exp.Status, row)
		}
		for _, id := range exp.BatchItemFailures {
			if !strings.Contains(row, id) {
				t.Errorf("events/README.md row of %s does not name the failed message %s", exp.File, id)
			}
		}
	}
	for _, v := range []string{ExampleDrainID, RevokedDrainID, ExampleAccessKey, WrongAccessKey} {
		if !bytes.Contains(readme, []byte(v)) {
			t.Errorf("events/README.md does not document the sample credential %s", v)
		}
	}
}

// TestEventsMatchGenerator regenerates events/ from the real captures and compares: the
// committed files are exactly what genevents writes, with the capture bodies verbatim.
func TestEventsMatchGenerator(t *testing.T) {
	dir := filepath.Join(conformance.Dir(), "firehose")
	read := func(rel string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	in := Inputs{CloudWatchData: read("alloy/cw_logs_mixed.json"), ControlOnly: read("alloy/cw_logs_with_only_control_messages.json")}
	files, err := GenerateEvents(in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := GenerateEvents(in)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		if !bytes.Equal(again[name], want) {
			t.Errorf("%s: two generations differ", name)
		}
		got, err := os.ReadFile(filepath.Join(eventsDir(t), name))
		if err != nil {
			t.Errorf("%v: run go run ./internal/testkit/deploytest/genevents", err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("events/%s differs from the generator's output: run go run ./internal/testkit/deploytest/genevents", name)
		}
	}
	for name, capture := range map[string][]byte{"url-cloudwatch-data.json": in.CloudWatchData, "url-control-only.json": in.ControlOnly} {
		var ev events.LambdaFunctionURLRequest
		if err := json.Unmarshal(files[name], &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Body != string(capture) {
			t.Errorf("%s: body is not the capture verbatim", name)
		}
	}
}
