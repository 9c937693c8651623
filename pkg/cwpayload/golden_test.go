package cwpayload

import (
	"bytes"
	stdgzip "compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aient/firehose-drain/pkg/event"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.golden.json from the decoder's output")

// goldenRecord is what one record decodes to, as the golden files hold it.
type goldenRecord struct {
	Control bool          `json:"control,omitempty"`
	Data    bool          `json:"data,omitempty"`
	Events  int           `json:"events"`
	Reason  string        `json:"rejected,omitempty"`
	Errors  []event.Event `json:"errorEvents,omitempty"`
}

// goldenCapture is one conformance capture decoded as it is, and with every message made an
// error line (so that the golden file shows every event with all its fields).
type goldenCapture struct {
	Capture  string         `json:"capture"`
	AsIs     []goldenRecord `json:"asIs"`
	AsErrors []goldenRecord `json:"everyMessageAnError"`
}

var goldenStamp = &Stamp{Drain: "drn_golden", Org: "acme", Env: "prod", Region: "us-east-2", RequestID: "req-golden", Attributes: map[string]string{"team": "payments"}}

func goldenRecords(rs []RecordResult) []goldenRecord {
	out := make([]goldenRecord, len(rs))
	for i, r := range rs {
		out[i] = goldenRecord{Control: r.Control, Data: r.Data, Events: r.Events, Errors: r.Errors}
		if r.Err != nil {
			out[i].Reason = r.Err.Reason
		}
	}
	return out
}

// TestDecoderGoldens decodes every conformance capture (whole Firehose bodies and bare
// CloudWatch payloads) and compares what it gives, event by event, with
// testdata/golden/<dir>_<capture>.golden.json. Refresh with
// `go test ./pkg/cwpayload -run TestDecoderGoldens -update` and review the diff.
func TestDecoderGoldens(t *testing.T) {
	d := NewDecoder(DefaultLimits())
	var captures []string
	for _, pattern := range []string{"alloy/*.json", "vector/*.json", "otel/*", "decoded/*"} {
		m, _ := filepath.Glob(filepath.Join(fixtures, pattern))
		captures = append(captures, m...)
	}
	if len(captures) < 15 {
		t.Fatalf("found %d conformance captures", len(captures))
	}
	for _, file := range captures {
		rel, _ := filepath.Rel(fixtures, file)
		t.Run(rel, func(t *testing.T) {
			raw := readFixture(t, rel)
			records := func(b []byte) [][]byte {
				if strings.HasPrefix(rel, "alloy/") || strings.HasPrefix(rel, "vector/") {
					return bodyRecords(t, b)
				}
				return [][]byte{b64(gz(t, b))}
			}
			var asErrors []byte
			if strings.HasPrefix(rel, "alloy/") || strings.HasPrefix(rel, "vector/") {
				asErrors = bodyWithErrors(t, raw)
			} else {
				asErrors = asErrorLines(raw)
			}
			got := goldenCapture{
				Capture:  rel,
				AsIs:     goldenRecords(d.DecodeRecords(context.Background(), records(raw), goldenStamp, 2)),
				AsErrors: goldenRecords(d.DecodeRecords(context.Background(), records(asErrors), goldenStamp, 2)),
			}
			b, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			b = append(b, '\n')
			path := filepath.Join("testdata", "golden", strings.NewReplacer("/", "_", ".", "_").Replace(rel)+".golden.json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, b, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if !bytes.Equal(b, want) {
				t.Errorf("decoded %s differs from %s (run with -update and review the diff):\n%s", rel, path, firstDiff(b, want))
			}
		})
	}
}

// asErrorLines prefixes every string message of a CloudWatch payload with "ERROR " (a
// JSON-aware edit: the payload stays valid).
func asErrorLines(p []byte) []byte {
	return messageStart.ReplaceAll(p, []byte(`${1}ERROR `))
}

var messageStart = regexp.MustCompile(`("message"\s*:\s*")`)

// bodyWithErrors is a Firehose body whose gzip records have every message made an error.
func bodyWithErrors(t *testing.T, body []byte) []byte {
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatal(err)
	}
	recs, _ := req["records"].([]any)
	for _, r := range recs {
		m, _ := r.(map[string]any)
		data, _ := m["data"].(string)
		raw, err := decodeB64Gzip(data)
		if err != nil {
			continue // not a gzip CloudWatch record: left as it is
		}
		m["data"] = string(b64(gz(t, asErrorLines(raw))))
	}
	out, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func firstDiff(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(la) || i < len(lb); i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return "line " + itoa(i+1) + ":\n  got:  " + x + "\n  want: " + y
		}
	}
	return ""
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// decodeB64Gzip is the standard library's base64 then gunzip.
func decodeB64Gzip(s string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	zr, err := stdgzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}
