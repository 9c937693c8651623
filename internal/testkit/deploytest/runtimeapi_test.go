package deploytest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func invokeJSON(t *testing.T, f *Function, v any) *Result {
	t.Helper()
	payload, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := f.Invoke(ctx, payload)
	if err != nil {
		t.Fatalf("invoke %s: %v", payload, err)
	}
	return res
}

// TestRuntimeAPIRunsARealBootstrap runs a throwaway aws-lambda-go function as a process
// against the harness, the way Lambda (and sam local invoke) runs bootstrap.
func TestRuntimeAPIRunsARealBootstrap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := BuildBootstrap(t, "./internal/testkit/deploytest/testdata/echofn")

	t.Run("answers several invocations in a row with their request ids, deadline and env", func(t *testing.T) {
		f := StartFunction(t, bin, map[string]string{"ECHOFN_VALUE": "from-env"})
		f.Timeout = 90 * time.Second
		seen := map[string]bool{}
		for i := range 3 {
			res := invokeJSON(t, f, map[string]string{"data": "hello"})
			if res.Err != nil {
				t.Fatalf("invocation %d failed: %v", i, res.Err)
			}
			var r struct {
				RequestID   string `json:"requestId"`
				FunctionARN string `json:"functionArn"`
				DeadlineIn  int64  `json:"deadlineInMs"`
				Data        string `json:"data"`
				Env         string `json:"env"`
			}
			if err := json.Unmarshal(res.Payload, &r); err != nil {
				t.Fatalf("answer %q: %v", res.Payload, err)
			}
			if r.RequestID != res.RequestID || seen[r.RequestID] {
				t.Errorf("handler saw request id %q, harness sent %q (seen before: %v)", r.RequestID, res.RequestID, seen[r.RequestID])
			}
			seen[r.RequestID] = true
			if r.DeadlineIn < 80_000 || r.DeadlineIn > 90_000 {
				t.Errorf("handler's ctx deadline is %d ms away, want ~90 s (Lambda-Runtime-Deadline-Ms)", r.DeadlineIn)
			}
			if r.FunctionARN != f.API.FunctionARN || r.Data != "hello" || r.Env != "from-env" {
				t.Errorf("handler saw %+v", r)
			}
		}
	})

	t.Run("a returned error arrives on .../error and the runtime keeps serving", func(t *testing.T) {
		f := StartFunction(t, bin, nil)
		res := invokeJSON(t, f, map[string]string{"mode": "fail", "data": "x"})
		if res.Err == nil || res.Err.Message != "the handler failed: x" || res.Err.Type == "" || res.Payload != nil {
			t.Fatalf("result %+v, error %+v; want the handler's error", res, res.Err)
		}
		if res := invokeJSON(t, f, map[string]string{"data": "after"}); res.Err != nil {
			t.Fatalf("invocation after an error failed: %v", res.Err)
		}
	})

	t.Run("a panic arrives on .../error, then the process is gone and Invoke says so", func(t *testing.T) {
		f := StartFunction(t, bin, nil)
		res := invokeJSON(t, f, map[string]string{"mode": "panic", "data": "y"})
		if res.Err == nil || !strings.Contains(res.Err.Message, "the handler panicked: y") {
			t.Fatalf("result %+v; want the panic", res.Err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := f.Invoke(ctx, []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "exited") {
			t.Fatalf("invoke after a panic: %v, want the process exit", err)
		}
	})

	t.Run("a process that exits mid-invocation fails the invocation, not the test's patience", func(t *testing.T) {
		f := StartFunction(t, bin, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := f.Invoke(ctx, []byte(`{"mode":"exit"}`))
		if err == nil || !strings.Contains(err.Error(), "exited without a response") {
			t.Fatalf("invoke: %v, want the process exit", err)
		}
		if exited, werr := f.Exited(); !exited || werr == nil {
			t.Errorf("Exited() = %v, %v; want true with exit status 3", exited, werr)
		}
	})

	t.Run("a response over 6 MB is refused as Lambda refuses it", func(t *testing.T) {
		f := StartFunction(t, bin, nil)
		res := invokeJSON(t, f, map[string]string{"mode": "big"})
		if res.Err == nil || res.Err.Type != "Function.ResponseSizeTooLarge" {
			t.Fatalf("result error %+v; want Function.ResponseSizeTooLarge", res.Err)
		}
	})

	t.Run("an init error is reported and Invoke returns it", func(t *testing.T) {
		f := StartFunction(t, bin, map[string]string{"ECHOFN_INIT_ERROR": "AIENT_QUEUE_URL is not set"})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := f.Invoke(ctx, []byte(`{}`))
		if err == nil {
			t.Fatal("invoke succeeded against a runtime that failed to initialise")
		}
		// The process may exit before or after the harness records the init error.
		deadline := time.Now().Add(10 * time.Second)
		for f.API.InitError() == nil && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if ie := f.API.InitError(); ie == nil || ie.Type != "Runtime.ConfigError" || ie.Message != "AIENT_QUEUE_URL is not set" {
			t.Errorf("InitError() = %+v", ie)
		}
	})
}

func TestRuntimeAPIRejectsOversizedEvents(t *testing.T) {
	api := NewRuntimeAPI()
	defer api.Close()
	_, err := api.Invoke(context.Background(), make([]byte, MaxPayload+1), time.Second)
	if err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("Invoke of %d bytes: %v, want a size error", MaxPayload+1, err)
	}
}

func TestRuntimeAPIWithoutARuntimeTimesOut(t *testing.T) {
	api := NewRuntimeAPI()
	defer api.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := api.Invoke(ctx, []byte(`{}`), time.Second); err == nil || !strings.Contains(err.Error(), "no runtime polled") {
		t.Fatalf("Invoke with nobody polling: %v", err)
	}
}

func urlAnswer(t *testing.T, status int, headers map[string]string, body string) *Result {
	t.Helper()
	b, err := json.Marshal(events.LambdaFunctionURLResponse{StatusCode: status, Headers: headers, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	return &Result{Payload: b}
}

func TestCheckAnswer(t *testing.T) {
	ok200 := Expectation{File: "ok.json", Kind: FunctionURL, Status: 200, RequestID: "r-1"}
	bad401 := Expectation{File: "key.json", Kind: FunctionURL, Status: 401, RequestID: "r-1", ErrorMessage: true}
	poison := Expectation{File: "sqs.json", Kind: SQS, BatchItemFailures: []string{"m-2"}}
	none := Expectation{File: "sqs.json", Kind: SQS, BatchItemFailures: []string{}}
	jsonCT := map[string]string{"Content-Type": "application/json"}
	cases := []struct {
		name    string
		exp     Expectation
		res     *Result
		wantErr string // "" means the answer passes
	}{
		{"a conforming 200 passes", ok200, urlAnswer(t, 200, jsonCT, `{"requestId":"r-1","timestamp":1700000000000}`), ""},
		{"a conforming 401 with a reason passes", bad401, urlAnswer(t, 401, jsonCT, `{"requestId":"r-1","timestamp":1700000000000,"errorMessage":"unauthorized"}`), ""},
		{"a wrong status fails", ok200, urlAnswer(t, 500, jsonCT, `{"requestId":"r-1","timestamp":1}`), "status 500, want 200"},
		{"another request's id fails", ok200, urlAnswer(t, 200, jsonCT, `{"requestId":"r-2","timestamp":1}`), "requestId"},
		{"a string timestamp fails", ok200, urlAnswer(t, 200, jsonCT, `{"requestId":"r-1","timestamp":"1"}`), "timestamp"},
		{"an error without errorMessage fails", bad401, urlAnswer(t, 401, jsonCT, `{"requestId":"r-1","timestamp":1}`), "no errorMessage"},
		{"an errorMessage on success fails", ok200, urlAnswer(t, 200, jsonCT, `{"requestId":"r-1","timestamp":1,"errorMessage":"x"}`), "on a success"},
		{"a body that is not JSON fails", ok200, urlAnswer(t, 200, jsonCT, `OK`), "not a Firehose response"},
		{"a text content type fails", ok200, urlAnswer(t, 200, map[string]string{"content-type": "text/plain"}, `{"requestId":"r-1","timestamp":1}`), "content-type"},
		{"a compressed answer fails", ok200, urlAnswer(t, 200, map[string]string{"content-type": "application/json", "content-encoding": "gzip"}, `{"requestId":"r-1","timestamp":1}`), "content-encoding"},
		{"an answer echoing the access key fails", bad401, urlAnswer(t, 401, jsonCT, `{"requestId":"r-1","timestamp":1,"errorMessage":"bad key `+WrongAccessKey+`"}`), "access key"},
		{"a function error fails", ok200, &Result{Err: &FunctionError{Type: "Runtime.ExitError", Message: "exit 2"}}, "failed instead of answering"},
		{"exactly the poison message passes", poison, &Result{Payload: []byte(`{"batchItemFailures":[{"itemIdentifier":"m-2"}]}`)}, ""},
		{"no failures passes when none are expected", none, &Result{Payload: []byte(`{"batchItemFailures":null}`)}, ""},
		{"failing the good message too fails", poison, &Result{Payload: []byte(`{"batchItemFailures":[{"itemIdentifier":"m-1"},{"itemIdentifier":"m-2"}]}`)}, "batchItemFailures"},
		{"acknowledging the poison message fails", poison, &Result{Payload: []byte(`{"batchItemFailures":[]}`)}, "batchItemFailures"},
		{"an SQS answer of another shape fails", none, &Result{Payload: []byte(`{"failures":[]}`)}, "not an SQSEventResponse"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckAnswer(tc.exp, tc.res)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("CheckAnswer: %v, want a pass", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("CheckAnswer: %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}
