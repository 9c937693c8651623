package level

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aient/firehose-drain/internal/jsonscan"
	"github.com/aient/firehose-drain/internal/testkit/conformance"
	"github.com/aient/firehose-drain/internal/testkit/jsonref"
	"github.com/aient/firehose-drain/pkg/event"
)

func TestOf(t *testing.T) {
	cases := []struct {
		name string
		msg  string
		want event.Level
	}{
		// The product's smoke tests (user guide).
		{"smoke test info line", "INFO Aient Firehose smoke test", event.Info},
		{"smoke test error line", "ERROR Aient Firehose smoke test error", event.Error},
		{"smoke test structured error", `{
"level": "ERROR",
"message": "Aient Firehose smoke test error",
"error": "SmokeTestError",
"stack": "SmokeTestError: test\n at smoke (index.js:1:1)"
}`, event.Error},

		// Words that merely appear are not levels.
		{"info line mentioning an error", "INFO retrying after error", event.Info},
		{"plain text mentioning an error", "retrying after error: connection reset", event.Unknown},
		{"plain text mentioning fatal", "the fatal flaw of the plan", event.Unknown},
		{"sentence starting with Alert is not an alert", "Alert sent to user 42", event.Unknown},
		{"sentence starting with Panic is not a panic", "Panic button pressed", event.Unknown},
		{"empty message", "", event.Unknown},
		{"only spaces", "   \n\t", event.Unknown},

		// Structured JSON.
		{"json level error", `{"level":"error","msg":"boom"}`, event.Error},
		{"json level info whose message says error", `{"level":"info","msg":"error budget ok"}`, event.Info},
		{"json log_level ERROR", `{"timestamp":"2024-01-01T00:00:00Z","log_level":"ERROR","errorMessage":"x"}`, event.Error},
		{"json python levelname CRITICAL", `{"levelname":"CRITICAL","message":"disk gone"}`, event.Fatal},
		{"json severity WARNING", `{"severity":"WARNING","message":"slow"}`, event.Warn},
		{"json serilog @l Error", `{"@t":"2024-01-01","@mt":"x","@l":"Error"}`, event.Error},
		{"json dotnet Critical", `{"Level":"Critical","Message":"x"}`, event.Fatal},
		{"json dotnet fail", `{"LogLevel":"fail","Message":"x"}`, event.Error},
		{"json dotnet crit", `{"level":"crit","Message":"x"}`, event.Fatal},
		{"json ecs log.level", `{"@timestamp":"x","log.level":"error","message":"x"}`, event.Error},
		{"json nested log level", `{"message":"x","log":{"logger":"main","level":"error"}}`, event.Error},
		{"json pino 50 is error", `{"level":50,"time":1,"msg":"boom"}`, event.Error},
		{"json pino 60 is fatal", `{"level":60,"time":1,"msg":"boom"}`, event.Fatal},
		{"json pino 40 is warn", `{"level":40,"msg":"hm"}`, event.Warn},
		{"json pino 30 is info", `{"level":30,"msg":"ok"}`, event.Info},
		{"json err", `{"level":"err"}`, event.Error},
		{"json panic", `{"level":"panic"}`, event.Fatal},
		{"json emerg", `{"level":"emerg"}`, event.Fatal},
		{"json alert", `{"level":"alert"}`, event.Fatal},
		{"json level after a big field", `{"msg":"a \"quoted\" {thing}","nested":{"a":[1,2,{"b":"c"}]},"level":"error"}`, event.Error},
		{"json lambda node error object without level", `{"errorType":"TypeError","errorMessage":"x is undefined","stackTrace":["TypeError: x"]}`, event.Error},
		{"json lambda platform report timeout", `{"time":"2024-01-01T00:00:00Z","type":"platform.report","record":{"requestId":"r","metrics":{"durationMs":3000},"status":"timeout"}}`, event.Error},
		{"json lambda platform runtimeDone success", `{"time":"2024-01-01T00:00:00Z","type":"platform.runtimeDone","record":{"requestId":"r","status":"success"}}`, event.Info},
		{"json without a level", `{"bytes":26780,"status":502}`, event.Unknown},
		{"truncated json still reads its level", `{"level":"error","msg":"cut here`, event.Error},
		{"broken json falls back to text", "{not json} ERROR", event.Unknown},
		{"broken json with a level word first", "{oops\nERROR boom", event.Unknown},

		// Lambda runtime text formats.
		{"node error line", "2023-05-18T15:33:23.822Z\t632d3270-354e-4504-96e1-e3a74218c002\tERROR\tsomething broke\n", event.Error},
		{"node info line", "2023-05-18T15:33:23.822Z\t632d3270-354e-4504-96e1-e3a74218c002\tINFO\thello i'm a lambda and its 1684424003821\n", event.Info},
		{"node info line with an error word", "2023-05-18T15:33:23.822Z\t632d3270-354e-4504-96e1-e3a74218c002\tINFO\terror budget fine\n", event.Info},
		{"node warn line", "2023-05-18T15:33:23.822Z\t632d3270\tWARN\tslow\n", event.Warn},
		{"node debug line", "2023-05-18T15:33:23.822Z\t632d3270\tDEBUG\tx\n", event.Debug},
		{"node fatal line", "2023-05-18T15:33:23.822Z\t632d3270\tFATAL\tx\n", event.Fatal},
		{"node invoke error", "2023-05-18T15:33:23.822Z\t632d3270-354e-4504-96e1-e3a74218c002\tERROR\tInvoke Error \t{\"errorType\":\"Error\"}\n", event.Error},
		{"node invoke error as third field", "2023-05-18T15:33:23.822Z\t632d3270\tInvoke Error \t{\"errorType\":\"Error\"}", event.Error},
		{"node uncaught exception during init", "2023-05-18T15:33:23.822Z\tundefined\tERROR\tUncaught Exception \t{\"errorType\":\"Runtime.ImportModuleError\"}", event.Error},
		{"node uncaught exception as third field", "2023-05-18T15:33:23.822Z\tundefined\tUncaught Exception \t{}", event.Error},
		{"node unhandled promise rejection", "2023-05-18T15:33:23.822Z\tundefined\tUnhandled Promise Rejection \t{}", event.Error},
		{"python error bracket", "[ERROR]\t2023-05-18T15:33:23.822Z\t632d3270\tboom\n", event.Error},
		{"python critical bracket", "[CRITICAL]\t2023-05-18T15:33:23.822Z\t632d3270\tdisk gone\n", event.Fatal},
		{"python warning bracket", "[WARNING]\t2023-05-18T15:33:23.822Z\t632d3270\tslow\n", event.Warn},
		{"python info bracket", "[INFO]\t2023-05-18T15:33:23.822Z\t632d3270\tok\n", event.Info},
		{"python init error", "[ERROR] Runtime.ImportModuleError: Unable to import module 'app': No module named 'x'\nTraceback (most recent call last):", event.Error},
		{"python logging default format", "ERROR:root:could not connect", event.Error},
		{"python traceback without level", "Traceback (most recent call last):\n  File \"/var/task/app.py\", line 3, in handler\nKeyError: 'x'", event.Error},

		// Leading level words.
		{"leading error colon", "error: connection refused", event.Error},
		{"leading Error sentence", "Error connecting to database", event.Error},
		{"leading warn", "WARN disk 91% full", event.Warn},
		{"leading fatal", "FATAL out of file descriptors", event.Fatal},
		{"leading timestamp then level", "2024-01-01 12:00:00,123 ERROR [main] com.example.App - boom", event.Error},
		{"leading timestamp then info", "2024-01-01T12:00:00Z INFO started", event.Info},
		{"dotnet console fail", "fail: Microsoft.AspNetCore.Server.Kestrel[13]\n      Connection id \"0HM\"", event.Error},
		{"dotnet console crit", "crit: Microsoft.Hosting.Lifetime[0]", event.Fatal},
		{"dotnet console info", "info: Microsoft.Hosting.Lifetime[0]\n      Application started.", event.Info},
		{"java util logging severe", "SEVERE: Servlet.service() threw exception", event.Error},
		{"go panic", "panic: runtime error: index out of range [3] with length 3\n\ngoroutine 1 [running]:", event.Fatal},
		{"go fatal error", "fatal error: all goroutines are asleep - deadlock!", event.Fatal},
		{"php fatal", "PHP Fatal error:  Uncaught Exception: boom in /var/task/index.php:3", event.Fatal},
		{"php warning", "PHP Warning:  Undefined variable $x in /var/task/index.php on line 3", event.Warn},
		{"logfmt level error", `time=2024-01-01T00:00:00Z level=error msg="db down"`, event.Error},
		{"logfmt level info with error in msg", `time=2024-01-01T00:00:00Z level=info msg="error budget ok"`, event.Info},
		{"logfmt quoted level", `ts=1 level="warn" msg=x`, event.Warn},
		{"logfmt key suffix is not a level", `ts=1 xlevel=error msg=x`, event.Unknown},

		// Lambda platform lines.
		{"platform start", "START RequestId: 632d3270-354e-4504-96e1-e3a74218c002 Version: $LATEST\n", event.Info},
		{"platform end", "END RequestId: 632d3270-354e-4504-96e1-e3a74218c002\n", event.Info},
		{"platform init start", "INIT_START Runtime Version: nodejs:18.v6\tRuntime Version ARN: arn:aws:lambda:us-east-2::runtime:813a\n", event.Info},
		{"platform report ok", "REPORT RequestId: 632d\tDuration: 37.18 ms\tBilled Duration: 38 ms\tMemory Size: 128 MB\tMax Memory Used: 65 MB\t\n", event.Info},
		{"platform report timeout", "REPORT RequestId: 632d\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 65 MB\tStatus: timeout\n", event.Error},
		{"platform report error", "REPORT RequestId: 632d\tDuration: 3.00 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 65 MB\tStatus: error\tError Type: Runtime.ExitError\n", event.Error},
		{"platform init report error", "INIT_REPORT Init Duration: 1234.56 ms\tPhase: init\tStatus: error\tError Type: Runtime.ExitError\n", event.Error},
		{"platform init report timeout", "INIT_REPORT Init Duration: 10000.00 ms\tPhase: init\tStatus: timeout\n", event.Error},
		{"task timed out", "2024-01-01T00:00:00.000Z 6f2e3d10-0000-4000-8000-000000000000 Task timed out after 3.00 seconds\n", event.Error},
		{"task timed out tab form", "2024-01-01T00:00:00.000Z\t6f2e3d10-0000-4000-8000-000000000000\tTask timed out after 3.00 seconds\n", event.Error},
		{"runtime exited", "RequestId: 6f2e3d10-0000-4000-8000-000000000000 Error: Runtime exited with error: signal: killed\nRuntime.ExitError\n", event.Error},
		{"runtime exited without reason", "RequestId: 6f2e Error: Runtime exited without providing a reason\nRuntime.ExitError", event.Error},

		// Uncaught stack traces without a level.
		{"java stack trace", "java.lang.IllegalStateException: boom\n\tat com.example.App.run(App.java:10)\n\tat com.example.App.main(App.java:3)", event.Error},
		{"node stack trace", "TypeError: Cannot read properties of undefined (reading 'x')\n    at handler (/var/task/index.js:3:15)", event.Error},
		{"single line exception name is not enough", "java.lang.IllegalStateException: boom", event.Unknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Of([]byte(tc.msg)); got != tc.want {
				t.Errorf("Of(%q) = %q, want %q", tc.msg, got, tc.want)
			}
			if got := OfString(tc.msg); got != tc.want {
				t.Errorf("OfString(%q) = %q, want %q", tc.msg, got, tc.want)
			}
		})
	}
}

// TestOfStackTraceExamples checks the expected_level of every shared stack-trace example.
func TestOfStackTraceExamples(t *testing.T) {
	f, err := os.Open(filepath.Join(conformance.Dir(), "stacktraces", "examples.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var ex struct {
			ID            string `json:"id"`
			Message       string `json:"message"`
			ExpectedLevel string `json:"expected_level"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ex); err != nil {
			t.Fatalf("examples.jsonl line %d: %v", n+1, err)
		}
		n++
		t.Run(ex.ID, func(t *testing.T) {
			if got := OfString(ex.Message); string(got) != ex.ExpectedLevel {
				t.Errorf("level = %q, want %q", got, ex.ExpectedLevel)
			}
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no examples read")
	}
}

func TestOfAllocatesNothing(t *testing.T) {
	msgs := []string{
		"2023-05-18T15:33:23.822Z\t632d3270-354e-4504-96e1-e3a74218c002\tINFO\thello\n",
		"REPORT RequestId: 632d\tDuration: 37.18 ms\tStatus: timeout\n",
		`{"level":"error","log":{"level":"x"},"record":{"status":"ok"},"a":[1,{"b":2}]}`,
		`{"type":"platform.report","record":{"status":"timeout"}}`,
		"java.lang.IllegalStateException: boom\n\tat com.example.App.run(App.java:10)",
		`time=1 level=warn msg=x`,
	}
	for _, m := range msgs {
		b := []byte(m)
		if n := testing.AllocsPerRun(100, func() { Of(b) }); n != 0 {
			t.Errorf("Of(%q) allocates %v times", m, n)
		}
	}
}

func FuzzLevel(f *testing.F) {
	for _, s := range []string{
		"INFO Aient Firehose smoke test", "ERROR Aient Firehose smoke test error",
		`{"level":"ERROR","message":"x","error":"SmokeTestError","stack":"SmokeTestError: test\n at smoke (index.js:1:1)"}`,
		"2023-05-18T15:33:23.822Z\t632d\tERROR\tInvoke Error \t{}", "[ERROR]\tx", "REPORT RequestId: x\tStatus: timeout",
		`{"log":{"level":50}}`, `{"type":"platform.x","record":{"status":"error"}}`, "level=", "[", "{", `{"a":[[[[`,
		"PHP PHP PHP ", "1 2 3 ERROR", "panic:",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		l := Of(msg)
		switch l {
		case event.Fatal, event.Error, event.Warn, event.Info, event.Debug, event.Unknown:
		default:
			t.Fatalf("Of(%q) = %q, not a level", msg, l)
		}
		if OfString(string(msg)) != l {
			t.Fatalf("Of and OfString disagree on %q", msg)
		}
		// A JSON object whose fields decide: the level is the reference's (oracle_test.go).
		if m := trimLeft(msg); len(m) > 0 && m[0] == '{' && json.Valid(m) && jsonref.Depth(m) < jsonscan.MaxDepth-2 {
			if want, ok := refOfJSON(m); ok && l != want {
				t.Fatalf("Of(%q) = %q, the reference reads %q from its fields", msg, l, want)
			}
		}
	})
}

func BenchmarkOf(b *testing.B) {
	msgs := [][]byte{
		[]byte("2023-05-18T15:33:23.822Z\t632d3270-354e-4504-96e1-e3a74218c002\tINFO\thello i'm a lambda and its 1684424003821\n"),
		[]byte("REPORT RequestId: 632d3270-354e-4504-96e1-e3a74218c002\tDuration: 37.18 ms\tBilled Duration: 38 ms\tMemory Size: 128 MB\tMax Memory Used: 65 MB\t\n"),
		[]byte(`{"level":"info","time":"2024-01-01T00:00:00Z","msg":"request handled","status":200,"path":"/api/x"}`),
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Of(msgs[i%len(msgs)])
	}
}

// escapeJSON escapes msg as encoding/json and CloudWatch do; with hard set it also writes
// '/' as \/ and some letters as \u escapes, which OfEscaped must see through, and leaves
// tabs and newlines raw, as a lenient producer might.
func escapeJSON(msg []byte, hard bool) []byte {
	var out []byte
	for _, c := range msg {
		switch {
		case hard && (c == '\t' || c == '\n'):
			out = append(out, c)
		case c == '"' || c == '\\':
			out = append(out, '\\', c)
		case c == '\n':
			out = append(out, '\\', 'n')
		case c == '\t':
			out = append(out, '\\', 't')
		case c == '\r':
			out = append(out, '\\', 'r')
		case c < 0x20 || (hard && (c == 'S' || c == 'E')):
			out = append(out, '\\', 'u', '0', '0', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		case hard && c == '/':
			out = append(out, '\\', '/')
		default:
			out = append(out, c)
		}
	}
	return out
}

func TestOfEscapedAgreesWithOf(t *testing.T) {
	cases := []struct {
		name   string
		msg    string
		decide bool // OfEscaped is expected to decide this one
	}{
		{"node info line", "2023-05-18T15:33:23.822Z\t632d3270-354e-4504-96e1-e3a74218c002\tINFO\thello\n", true},
		{"node warn line mentioning an error", "2023-05-18T15:33:23.822Z\t632d\tWARN\tretrying after error\n", true},
		{"node error line", "2023-05-18T15:33:23.822Z\t632d\tERROR\tboom\n", true},
		{"node invoke error is left to Of", "2023-05-18T15:33:23.822Z\t632d\tInvoke Error \t{}", false},
		{"python info bracket", "[INFO]\t2023-05-18T15:33:23.822Z\t632d\tok\n", true},
		{"platform start", "START RequestId: 632d Version: $LATEST\n", true},
		{"platform report ok", "REPORT RequestId: 632d\tDuration: 37.18 ms\tBilled Duration: 38 ms\t\n", true},
		{"platform report timeout is left to Of", "REPORT RequestId: 632d\tDuration: 3000.00 ms\tStatus: timeout\n", false},
		{"json level first", `{"level":"info","msg":"error budget ok"}`, true},
		{"json pino number", `{"level":50,"time":1,"msg":"boom"}`, true},
		{"json level after simple fields", `{"timestamp":"2024-01-01T00:00:00Z","level":"WARN","requestId":"r"}`, true},
		{"json level after a nested field is left to Of", `{"a":{"b":1},"level":"error"}`, false},
		{"json level value with an escape is left to Of", `{"level":"in\tfo"}`, false},
		{"text is left to Of", "ERROR Aient Firehose smoke test error", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, hard := range []bool{false, true} {
				raw := escapeJSON([]byte(tc.msg), hard)
				l, ok := OfEscaped(raw)
				if !hard && ok != tc.decide {
					t.Errorf("OfEscaped(%s) decided=%v, want %v", raw, ok, tc.decide)
				}
				if ok && l != Of([]byte(tc.msg)) {
					t.Errorf("OfEscaped(%s) = %q, Of = %q", raw, l, Of([]byte(tc.msg)))
				}
			}
		})
	}
}

func FuzzOfEscaped(f *testing.F) {
	for _, s := range []string{
		"2023-05-18T15:33:23.822Z\t632d\tINFO\thello\n", "[WARNING]\tx", "REPORT RequestId: x\tStatus: error",
		`{"level":"info","a":1}`, `{"t":1.5e3,"lvl":"debug"}`, "START RequestId: x", "1\t2\t3\t", `{"@l":"Error"}`,
	} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, msg []byte, hard bool) {
		raw := escapeJSON(msg, hard)
		if l, ok := OfEscaped(raw); ok && l != Of(msg) {
			t.Fatalf("OfEscaped(%q) = %q, Of(%q) = %q", raw, l, msg, Of(msg))
		}
	})
}

func TestHasControl(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"", false},
		{"2023-05-18T15:33:23.822Z", false},
		{"2023-05-18T15:33:23\t822Z", true},
		{"abcdefgh\x1f", true},
		{"\x00", true},
		{"ééééé ééé", false},
		{"\x7f\x80\xff\x20abcdefgh", false},
		{"abcdefghijklmnop\n", true},
	} {
		if got := hasControl([]byte(tc.in)); got != tc.want {
			t.Errorf("hasControl(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
