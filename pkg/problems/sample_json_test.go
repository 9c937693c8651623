package problems_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aient/firehose-drain/pkg/problems"
)

// A sample's time reads as RFC 3339 in JSON, as every other time of --json and the API; a
// sample stored with epoch milliseconds still reads.
func TestSampleTimestampIsRFC3339(t *testing.T) {
	s := problems.Sample{LogGroup: "/g", LogStream: "s", EventID: "1", Timestamp: 1_763_700_000_123, Message: "m"}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"timestamp":"2025-11-21T04:40:00.123Z"`) {
		t.Fatalf("sample JSON %s", b)
	}
	var back problems.Sample
	if err := json.Unmarshal(b, &back); err != nil || back.Timestamp != s.Timestamp || back.LogGroup != "/g" {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	var old problems.Sample
	if err := json.Unmarshal([]byte(`{"logGroup":"/g","timestamp":1763700000123,"message":"m"}`), &old); err != nil || old.Timestamp != s.Timestamp {
		t.Fatalf("a stored sample with epoch ms: %+v %v", old, err)
	}
	p := problems.Problem{ID: "x", Sample: s}
	b, _ = json.Marshal(p)
	if !strings.Contains(string(b), `"timestamp":"2025-11-21T04:40:00.123Z"`) {
		t.Fatalf("a problem's JSON %s", b)
	}
	if err := json.Unmarshal([]byte(`{"timestamp":"yesterday"}`), &old); err == nil {
		t.Fatal("a timestamp that is no time was accepted")
	}
}
