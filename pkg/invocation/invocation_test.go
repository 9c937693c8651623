package invocation

import (
	"regexp"
	"testing"
)

func TestRequestID(t *testing.T) {
	const id = "8f5c0001-1111-4222-8333-444455556666"
	for _, c := range []struct{ name, msg, want string }{
		{"START", "START RequestId: " + id + " Version: $LATEST\n", id},
		{"END", "END RequestId: " + id + "\n", id},
		{"REPORT", "REPORT RequestId: " + id + "\tDuration: 2.1 ms\t", id},
		{"Node text", "2026-11-20T12:00:00.000Z\t" + id + "\tINFO\thello\n", id},
		{"Java space separated", "2026-11-20T12:00:00.000Z " + id + " ERROR com.x.Handler - failed", id},
		{"Python", "[ERROR]\t2026-11-20T12:00:00.000Z\t" + id + "\tKeyError: 'x'\n", id},
		{"JSON log format", `{"timestamp":"2026-11-20T12:00:00Z","level":"INFO","requestId":"` + id + `","message":"hi"}`, id},
		{"platform event", `{"time":"2026-11-20T12:00:00.000Z","type":"platform.start","record":{"requestId" : "` + id + `","version":"$LATEST"}}`, id},
		{"Powertools", `{"level":"INFO","function_request_id":"` + id + `"}`, id},
		{"a uuid that is not in the request id place", "user " + id + " logged in", ""},
		{"a request id member that is not a uuid", `{"requestId":"abc"}`, ""},
		{"plain line", "hello world", ""},
		{"empty", "", ""},
		{"INIT_START has none", "INIT_START Runtime Version: nodejs:20.v13\n", ""},
	} {
		if got := string(RequestID([]byte(c.msg))); got != c.want {
			t.Errorf("%s: RequestID(%q) = %q, want %q", c.name, c.msg, got, c.want)
		}
	}
}

// The reference: the same rules written as regular expressions.
var (
	refUUID     = `[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`
	refPlatform = regexp.MustCompile(`^[ \t\r\n]*(?:START|END|REPORT|INIT_REPORT|RESTORE_REPORT)[ \t]+RequestId:[ \t]+(` + refUUID + `)(?:[ \t\r\n]|$)`)
	refTS       = `[0-9]{4}-[0-9]{2}-[^ \t\r\n]{2}T[^ \t\r\n]{8,}`
	refText     = regexp.MustCompile(`^[ \t\r\n]*` + refTS + `[ \t]+(` + refUUID + `)(?:[ \t\r\n]|$)`)
	refPython   = regexp.MustCompile(`^[ \t\r\n]*\[[A-Z]+\][ \t]+` + refTS + `[ \t]+(` + refUUID + `)(?:[ \t\r\n]|$)`)
)

func reference(msg string) string {
	if len(msg) > maxScan {
		msg = msg[:maxScan] // the text rules look at the start only
	}
	for _, re := range []*regexp.Regexp{refPlatform, refText, refPython} {
		if m := re.FindStringSubmatch(msg); m != nil {
			return m[1]
		}
	}
	return ""
}

// FuzzRequestID checks the text rules against the regular-expression reference, and that
// any id found is a UUID inside the message.
func FuzzRequestID(f *testing.F) {
	const id = "8f5c0001-1111-4222-8333-444455556666"
	for _, s := range []string{
		"START RequestId: " + id + " Version: $LATEST\n", "2026-11-20T12:00:00.000Z\t" + id + "\tINFO\thello\n",
		"[ERROR]\t2026-11-20T12:00:00.000Z\t" + id + "\tx", `{"requestId":"` + id + `"}`, "plain",
	} {
		f.Add(s)
	}
	uuid := regexp.MustCompile(`^` + refUUID + `$`)
	f.Fuzz(func(t *testing.T, msg string) {
		got := RequestID([]byte(msg))
		if got != nil && !uuid.Match(got) {
			t.Fatalf("RequestID(%q) = %q: not a UUID", msg, got)
		}
		i := 0
		for i < len(msg) && (msg[i] == ' ' || msg[i] == '\t' || msg[i] == '\r' || msg[i] == '\n') {
			i++
		}
		if i < len(msg) && msg[i] == '{' {
			return // JSON: any member spelling of the list, checked by the table
		}
		// fields() stops at the first newline: the reference must not see a later line either.
		if want := reference(msg); string(got) != want {
			t.Fatalf("RequestID(%q) = %q, reference %q", msg, got, want)
		}
	})
}
