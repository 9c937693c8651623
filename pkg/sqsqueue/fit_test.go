package sqsqueue_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/sqsqueue"
)

func sample(msg string) event.Event {
	return event.Event{
		Drain: "drn_a", Org: "acme", Env: "prod", Account: "123456789012", Region: "eu-west-1",
		LogGroup: "/aws/lambda/checkout", LogStream: "2026/11/21/[$LATEST]abc", ID: "37990000000000000001",
		Timestamp: 1_800_000_000_000, Message: msg, Level: event.Error,
		FirehoseRequestID: "req-1", Attributes: map[string]string{"team": "payments"},
	}
}

// decodeMessage decodes a body the way the grouper does, failing the test on invalid
// JSON or UTF-8.
func decodeMessage(t *testing.T, body []byte) event.Event {
	t.Helper()
	if !utf8.Valid(body) {
		t.Fatalf("body is not valid UTF-8")
	}
	var e event.Event
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("body is not an event: %v", err)
	}
	return e
}

// normalized is msg as it reads after a JSON round trip (invalid bytes become U+FFFD).
func normalized(t *testing.T, msg string) string {
	t.Helper()
	b, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFitKeepsAnEventThatFitsWhole(t *testing.T) {
	e := sample(`panic: <nil> & "quoted" é€😀`)
	body, err := sqsqueue.Fit(&e, sqsqueue.MaxMessageBytes)
	if err != nil {
		t.Fatal(err)
	}
	got := decodeMessage(t, body)
	if got.Message != e.Message || got.Truncated || got.Attributes["team"] != "payments" {
		t.Fatalf("decoded %+v, want the event unchanged", got)
	}
	if bytes.Contains(body, []byte(`\u003c`)) {
		t.Fatalf("body %s escapes HTML characters, wasting room", body)
	}
}

func TestFitCutsAtARuneBoundaryAndUsesAllTheRoom(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  string
	}{
		{"two-byte runes", strings.Repeat("é", 400)},
		{"three-byte runes", strings.Repeat("€", 400)},
		{"four-byte runes", strings.Repeat("😀", 400)},
		{"mixed widths", strings.Repeat("aé€😀", 150)},
		{"characters JSON escapes", strings.Repeat("\"\\\n\t\x01<>&\u2028", 100)},
		{"characters SQS refuses raw", strings.Repeat("x\uFFFE\uFFFFé", 150)},
		{"invalid UTF-8", strings.Repeat("a\xff\xfe€", 150)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := sample(tc.msg)
			whole := normalized(t, tc.msg)
			empty := sample("")
			empty.Truncated = true
			floor, err := sqsqueue.Fit(&empty, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			// Every limit from "room for nothing" over a stretch of the message, so the
			// cut falls inside runes and escapes of every width.
			for max := len(floor); max < len(floor)+300; max++ {
				body, err := sqsqueue.Fit(&e, max)
				if err != nil {
					t.Fatalf("Fit(max %d): %v", max, err)
				}
				if len(body) > max {
					t.Fatalf("Fit(max %d) is %d bytes", max, len(body))
				}
				if bytes.Contains(body, []byte("\uFFFE")) || bytes.Contains(body, []byte("\uFFFF")) {
					t.Fatalf("Fit(max %d) has raw U+FFFE/U+FFFF, which SQS refuses", max)
				}
				got := decodeMessage(t, body)
				if !got.Truncated || !strings.HasPrefix(whole, got.Message) {
					t.Fatalf("Fit(max %d) = truncated %t message %q, want a truncated prefix", max, got.Truncated, got.Message)
				}
				// No room wasted: one more rune would not have fitted.
				next, _ := utf8.DecodeRuneInString(whole[len(got.Message):])
				if extra := escapedExtra(next); len(whole) > len(got.Message) && len(body)+extra <= max {
					t.Fatalf("Fit(max %d) is %d bytes with message %d bytes; the next rune (%d more bytes) would have fitted", max, len(body), len(got.Message), extra)
				}
			}
		})
	}
}

// escapedExtra is the room rune r takes in a body. The cases' inputs hold no literal
// U+FFFD, so one in the round-tripped message stands for an invalid byte, written \ufffd.
func escapedExtra(r rune) int {
	if r == utf8.RuneError {
		return 6
	}
	b, _ := json.Marshal(string(r))
	n := len(b) - 2
	if r == '<' || r == '>' || r == '&' {
		n = 1
	}
	if r == '\uFFFE' || r == '\uFFFF' {
		n = 6
	}
	return n
}

func TestFitDoesNotChangeTheCallersEvent(t *testing.T) {
	e := sample(strings.Repeat("x", 1000))
	before := e
	if _, err := sqsqueue.Fit(&e, 500); err != nil {
		t.Fatal(err)
	}
	if e.Message != before.Message || e.Truncated || e.Attributes == nil {
		t.Fatalf("event changed by Fit: %+v", e)
	}
}

func TestFitDropsAttributesOnlyWhenTheMessageAloneIsNotEnough(t *testing.T) {
	e := sample(strings.Repeat("x", 100))
	e.Attributes = map[string]string{"big": strings.Repeat("a", 2000)}
	body, err := sqsqueue.Fit(&e, 1000)
	if err != nil {
		t.Fatal(err)
	}
	got := decodeMessage(t, body)
	if got.Attributes != nil || !got.Truncated || len(body) > 1000 {
		t.Fatalf("decoded %+v (%d bytes), want attributes dropped, truncated, at most 1000 bytes", got, len(body))
	}
}

func TestFitRefusesAnEventTooLargeWithoutItsMessage(t *testing.T) {
	e := sample("boom")
	e.LogGroup = strings.Repeat("g", 2000)
	if _, err := sqsqueue.Fit(&e, 1000); !errors.Is(err, sqsqueue.ErrTooLargeForTest) {
		t.Fatalf("Fit: %v, want the too-large error", err)
	}
}

func FuzzFit(f *testing.F) {
	f.Add("plain message", 300)
	f.Add(strings.Repeat("é€😀", 100), 400)
	f.Add("\xff\xfe\uFFFF\u2028\"\\\n<>&", 330)
	f.Add("", 0)
	f.Fuzz(func(t *testing.T, msg string, max int) {
		if max < 0 || max > 1<<16 {
			return
		}
		e := sample(msg)
		body, err := sqsqueue.Fit(&e, max)
		if errors.Is(err, sqsqueue.ErrTooLargeForTest) {
			return
		}
		if err != nil {
			t.Fatalf("Fit: %v", err)
		}
		if len(body) > max {
			t.Fatalf("%d bytes over max %d", len(body), max)
		}
		got := decodeMessage(t, body)
		if whole := normalized(t, msg); !strings.HasPrefix(whole, got.Message) {
			t.Fatalf("message %q is not a prefix of %q", got.Message, whole)
		}
		if !got.Truncated && got.Message != normalized(t, msg) {
			t.Fatalf("message changed without the truncated flag")
		}
	})
}
