package stitch

import (
	"encoding/json"
	"testing"
)

// plainFirstWord answers without decoding only where candidate would say false: every
// message here, escaped as CloudWatch's JSON holds it, gets the answer of the decoded text.
func TestPlainFirstWordAgreesWithTheDecodedText(t *testing.T) {
	for _, m := range []string{
		"START RequestId: 8f5 Version: $LATEST", "END RequestId: 8f5", "REPORT RequestId: 8f5\tDuration: 1 ms",
		"INFO done", "retrying order after error", "Caused by: java.io.IOException: x", "Stack trace:",
		"Stack backtrace: x", "stack backtrace:", "goroutine 1 [running]:", "Traceback (most recent call last):",
		"The above exception was the direct cause", "During handling of the above exception", "created by main.main",
		"exit status 2", "Unhandled exception. System.Exception: x", "Exception in thread \"main\" java.lang.X: y",
		"KeyError: 'k'", "main.handler(0xc0000, 0x1)", "app.rb:10:in `m': msg (Type)", "Word(x) y", "a\tb c",
		"naïve word", "x\"y z", "Suppressed: x", "panic: boom", "note: run with RUST_BACKTRACE=1",
		"java.lang.IllegalStateException: x", "oneword", "two words", "Caused\u00a0by: x",
	} {
		raw, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		esc := raw[1 : len(raw)-1]
		if got, want := Candidate(esc), CandidateText(m); got != want {
			t.Errorf("%q: Candidate %v, CandidateText %v", m, got, want)
		}
		if plainFirstWord(esc) && CandidateText(m) {
			t.Errorf("%q: plainFirstWord answered for a candidate", m)
		}
	}
}

// The fast answer is taken for the usual lines (else it would save nothing).
func TestPlainFirstWordTakesTheUsualLines(t *testing.T) {
	for _, m := range []string{"START RequestId: 8f5 Version: $LATEST", "END RequestId: 8f5", "REPORT RequestId: 8f5", "retrying order"} {
		if !plainFirstWord([]byte(m)) {
			t.Errorf("%q: no fast answer", m)
		}
	}
	for _, m := range []string{"Caused by: x", "KeyError: 'k'", "main.f(0x1) x", `a	b c`, "oneword"} {
		if plainFirstWord([]byte(m)) {
			t.Errorf("%q: a fast answer where candidate must decide", m)
		}
	}
}
