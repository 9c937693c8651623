package deploytest

import "testing"

// FuzzCheckAnswer feeds arbitrary function output to CheckAnswer for every expectation:
// it must return an error or nil, never panic.
func FuzzCheckAnswer(f *testing.F) {
	f.Add([]byte(`{"statusCode":200,"headers":{"content-type":"application/json"},"body":"{\"requestId\":\"r\",\"timestamp\":1}"}`))
	f.Add([]byte(`{"statusCode":401,"isBase64Encoded":true,"body":"e30="}`))
	f.Add([]byte(`{"batchItemFailures":[{"itemIdentifier":"9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"}]}`))
	f.Add([]byte(`{"batchItemFailures":null}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"body":"{\"requestId\":null,\"timestamp\":\"x\",\"errorMessage\":7}"}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		for _, exp := range Expectations() {
			_ = CheckAnswer(exp, &Result{Payload: payload})
		}
	})
}
