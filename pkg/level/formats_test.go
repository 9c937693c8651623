package level

import (
	"testing"

	"github.com/aient/firehose-drain/pkg/event"
)

// TestFormatsOfRealFleets: the levels of the formats grouping reads, and the
// lines that only mention errors.
func TestFormatsOfRealFleets(t *testing.T) {
	tests := []struct {
		name, msg string
		want      event.Level
	}{
		{"a container's JSON: the wrapped trace", `{"log":"TypeError: x\n    at f (/app/a.js:1:1)\n","stream":"stderr","kubernetes":{"pod_name":"p"}}`, event.Error},
		{"a container's JSON: the wrapped level word", `{"log":"2026-11-21 ERROR boom\n","stream":"stdout"}`, event.Error},
		{"a container's JSON: an info line stays info", `{"log":"INFO started\n","stream":"stdout"}`, event.Info},
		{"a container's JSON: a wrapped JSON log", `{"log":"{\"level\":\"error\",\"msg\":\"x\"}\n","stream":"stdout"}`, event.Error},
		{"PHP-FPM's WARNING and NOTICE do not hide a fatal error", `[21-Nov-2026 01:02:03] WARNING: [pool www] child 12 said into stderr: "NOTICE: PHP message: PHP Fatal error:  Uncaught Error: x in /var/task/a.php:3"`, event.Fatal},
		{"PHP-FPM wrapping a notice is a notice", `[21-Nov-2026 01:02:03] WARNING: [pool www] child 12 said into stderr: "NOTICE: PHP message: PHP Notice:  Undefined index: x"`, event.Info},
		{"PostgreSQL ERROR", `2026-11-21 01:02:03 UTC:10.0.0.1(5432):app@orders:[123]:ERROR:  duplicate key value violates unique constraint "orders_pkey"`, event.Error},
		{"PostgreSQL FATAL", `2026-11-21 01:02:03 UTC:10.0.0.1(5432):app@orders:[123]:FATAL:  password authentication failed for user "app"`, event.Fatal},
		{"PostgreSQL LOG", `2026-11-21 01:02:03 UTC:10.0.0.1(5432):app@orders:[123]:LOG:  checkpoint starting: time`, event.Unknown},
		{"API Gateway execution failure", `(8f1c2e9a-0b4d-4c2e-9a11-3f5e7d9c1b2a) Execution failed due to configuration error: Malformed Lambda proxy response`, event.Error},
		{"API Gateway 5xx", `(8f1c2e9a-0b4d-4c2e-9a11-3f5e7d9c1b2a) Method completed with status: 502`, event.Error},
		{"API Gateway 200", `(8f1c2e9a-0b4d-4c2e-9a11-3f5e7d9c1b2a) Method completed with status: 200`, event.Unknown},
		{"Step Functions failure", `{"id":"5","type":"TaskTimedOut","details":{"error":"States.Timeout"},"execution_arn":"arn:aws:states:x"}`, event.Error},
		{"Step Functions success", `{"id":"5","type":"TaskSucceeded","details":{"output":"{}"},"execution_arn":"arn:aws:states:x"}`, event.Info},
		{"Monolog ERROR", `[2026-11-21T01:02:03Z] production.ERROR: Call to a member function total() on null {"userId":1}`, event.Error},
		{"Monolog INFO", `[2026-11-21T01:02:03Z] production.INFO: hello`, event.Info},
		{"Rust panic", "thread 'main' panicked at src/orders.rs:10:5:\ncalled `Option::unwrap()` on a `None` value", event.Error},
		{"a sentence that counts no errors", `Error handling complete, 0 errors`, event.Unknown},
		{"no errors, lower case", `error check finished: no errors`, event.Unknown},
		{"a JSON count of errors", `{"msg":"batch done","errors":0}`, event.Unknown},
		{"an error that says how many", `Error connecting to db after 3 retries`, event.Error},
		{"an upper-case level word stays", `ERROR batch done, 0 errors`, event.Error},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := OfString(tt.msg); got != tt.want {
				t.Fatalf("level %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFormatsAllocateNothing(t *testing.T) {
	for _, m := range []string{
		`{"log":"TypeError: x\n    at f (/app/a.js:1:1)\n","stream":"stderr"}`,
		`{"id":"5","type":"TaskTimedOut","details":{"error":"States.Timeout"},"execution_arn":"arn:aws:states:x"}`,
		`[21-Nov-2026 01:02:03] WARNING: [pool www] child 12 said into stderr: "NOTICE: PHP message: PHP Fatal error:  x"`,
		`2026-11-21 01:02:03 UTC:10.0.0.1(5432):app@orders:[123]:ERROR:  x`,
	} {
		b := []byte(m)
		if n := testing.AllocsPerRun(100, func() { Of(b) }); n != 0 {
			t.Errorf("%.40s: %v allocations", m, n)
		}
	}
}
