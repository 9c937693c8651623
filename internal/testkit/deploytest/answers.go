package deploytest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// CheckAnswer checks a function's answer to an events/ file against its Expectation.
//
// Function URL answers must be a LambdaFunctionURLResponse with the expected status,
// Content-Type application/json and no Content-Encoding, and a Firehose response body:
// {"requestId": the request's, "timestamp": a number, "errorMessage": only when not 200},
// that names no access key. SQS answers must be an SQSEventResponse whose
// batchItemFailures are exactly the expected message ids.
func CheckAnswer(exp Expectation, res *Result) error {
	if res == nil {
		return errors.New("no result")
	}
	if res.Err != nil {
		return fmt.Errorf("%s: the function failed instead of answering: %w", exp.File, res.Err)
	}
	switch exp.Kind {
	case FunctionURL:
		return checkURLAnswer(exp, res.Payload)
	case SQS:
		return checkSQSAnswer(exp, res.Payload)
	case Kinesis, S3, Subscription:
		return checkSourceAnswer(exp, res.Payload)
	default:
		return fmt.Errorf("%s: unknown kind %q", exp.File, exp.Kind)
	}
}

func checkURLAnswer(exp Expectation, payload []byte) error {
	var resp events.LambdaFunctionURLResponse
	if err := json.Unmarshal(payload, &resp); err != nil {
		return fmt.Errorf("%s: answer is not a Function URL response: %w", exp.File, err)
	}
	var problems []string
	if resp.StatusCode != exp.Status {
		problems = append(problems, fmt.Sprintf("status %d, want %d", resp.StatusCode, exp.Status))
	}
	headers := map[string]string{}
	for k, v := range resp.Headers {
		headers[strings.ToLower(k)] = v
	}
	if ct := headers["content-type"]; !strings.HasPrefix(ct, "application/json") {
		problems = append(problems, fmt.Sprintf("content-type %q, want application/json", ct))
	}
	if ce := headers["content-encoding"]; ce != "" {
		problems = append(problems, fmt.Sprintf("content-encoding %q: Firehose wants none", ce))
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return fmt.Errorf("%s: base64 body: %w", exp.File, err)
		}
	}
	var fb map[string]json.RawMessage
	if err := json.Unmarshal(body, &fb); err != nil {
		problems = append(problems, fmt.Sprintf("body %q is not a Firehose response: %v", body, err))
	} else {
		var reqID string
		if err := json.Unmarshal(fb["requestId"], &reqID); err != nil || reqID != exp.RequestID {
			problems = append(problems, fmt.Sprintf("requestId %s, want %q", fb["requestId"], exp.RequestID))
		}
		var ts float64
		if err := json.Unmarshal(fb["timestamp"], &ts); err != nil || ts <= 0 {
			problems = append(problems, fmt.Sprintf("timestamp %s, want a number of milliseconds", fb["timestamp"]))
		}
		var msg string
		_, hasMsg := fb["errorMessage"]
		if hasMsg {
			if err := json.Unmarshal(fb["errorMessage"], &msg); err != nil {
				problems = append(problems, fmt.Sprintf("errorMessage %s is not a string", fb["errorMessage"]))
			}
		}
		switch {
		case exp.ErrorMessage && msg == "":
			problems = append(problems, "no errorMessage")
		case !exp.ErrorMessage && hasMsg:
			problems = append(problems, fmt.Sprintf("errorMessage %q on a success", msg))
		}
	}
	for _, secret := range []string{ExampleAccessKey, WrongAccessKey} {
		if bytes.Contains(payload, []byte(secret)) {
			problems = append(problems, "the answer contains an access key")
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %s", exp.File, strings.Join(problems, "; "))
	}
	return nil
}

func checkSQSAnswer(exp Expectation, payload []byte) error {
	var resp events.SQSEventResponse
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&resp); err != nil {
		return fmt.Errorf("%s: answer %q is not an SQSEventResponse: %w", exp.File, payload, err)
	}
	got := make([]string, 0, len(resp.BatchItemFailures))
	for _, f := range resp.BatchItemFailures {
		got = append(got, f.ItemIdentifier)
	}
	want := slices.Clone(exp.BatchItemFailures)
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		return fmt.Errorf("%s: batchItemFailures %v, want %v", exp.File, got, want)
	}
	return nil
}
