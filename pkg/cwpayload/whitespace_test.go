package cwpayload

import (
	"context"
	"testing"
)

// TestWhitespaceAfterAColonIsValid pins defect 1 of issue 14: a document in CloudWatch's
// compact member order with a space after a colon (valid JSON) was rejected as "not a
// CloudWatch Logs document" by the fast path for the compact layout.
func TestWhitespaceAfterAColonIsValid(t *testing.T) {
	d := NewDecoder(DefaultLimits())
	for _, ev := range []string{
		`{"id":"1","timestamp": 5,"message":"ERROR x"}`,
		`{"id":"1","timestamp":` + "\n\t" + `5,"message":"ERROR x"}`,
		`{"id":"1","timestamp":5 ,"message":"ERROR x"}`,
		`{"id":"1","timestamp":5,"message": "ERROR x"}`,
		`{"id":"1","timestamp":5,"message":"ERROR x" }`,
		`{"id": "1","timestamp":5,"message":"ERROR x"}`,
	} {
		doc := `{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[` + ev + `]}`
		r := d.DecodeRecords(context.Background(), [][]byte{b64([]byte(doc))}, &Stamp{}, 1)[0]
		if r.Err != nil || r.Events != 1 || len(r.Errors) != 1 {
			t.Errorf("%s: err=%v events=%d errors=%d, want one error event", ev, r.Err, r.Events, len(r.Errors))
			continue
		}
		if e := r.Errors[0]; e.ID != "1" || e.Timestamp != 5 || e.Message != "ERROR x" {
			t.Errorf("%s: decoded %+v", ev, e)
		}
	}
}
