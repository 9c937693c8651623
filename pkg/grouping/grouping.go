// Package grouping turns one CloudWatch log event message into a problem
// fingerprint, in three steps. Parse: extract the error (structured JSON
// first, then the text formats of the Lambda runtimes and of the runtimes in
// the runtimes table: Node.js, Python, Java/JVM, Go, .NET, Ruby, PHP) into an
// exception chain with frames. Rules: one compiled rule set (the embedded,
// versioned default rules file, plus an org's own rules) decides in one pass
// which frames are the application's own and which group, and whether the
// event gets a custom fingerprint or is ignored. Fingerprint: a list of
// components (the type chain, the top in-app frames, the message's static
// parts, ...), each saying whether it contributed and why; the fingerprint is
// "v" + Version + ":" + hex(sha256(...)[:16]) over the contributing ones.
//
// Line and column numbers, addresses, goroutine ids, request ids, timestamps
// and directories never enter it. Without in-app frames (or without a stack)
// the message is added with its variable parts replaced. Lambda platform
// failures (timeout, runtime exit, out of memory, init error) get one fixed
// fingerprint per kind and function.
package grouping

import (
	"strings"
	"unicode/utf8"
)

// Version is part of every fingerprint; bump it on any change to grouping,
// the default rules file included.
const Version = "2"

// Exception is one link of an exception chain. Frames are ordered most
// recent call first (the throw site first) in every language.
type Exception struct {
	Type    string
	Message string
	// Code is the error object's code field (Node's err.code, AWS error
	// codes), when the error was structured.
	Code   string
	Frames []Frame
	// Family is the runtime the frames were parsed as ("" when unknown).
	Family string
}

// Result is what Analyze found in one message.
type Result struct {
	// Fingerprint is "v2:" followed by 32 hex digits; stable for one bug.
	Fingerprint string
	// Title is "Type: message", the message cut to its first line and 200 characters.
	Title string
	// Culprit is the top in-app frame as "function (file)", or "" when there
	// is none; for platform failures it is the function name.
	Culprit string
	// Chain is the exception chain, outermost (the exception that was
	// thrown out) first, root cause last.
	Chain []Exception
	// Frames are the frames of the primary exception: the root-cause-most
	// exception of the chain that has in-app frames, else the
	// root-cause-most one that has any frames.
	Frames []Frame
	// Platform is "" or one of the Platform* kinds; RequestID is then the
	// invocation's request id when the line names it (the runtime's line and
	// the platform's REPORT of one invocation share it).
	Platform  string
	RequestID string
	// Components are what the fingerprint was built from, in order.
	Components []Component
	// Ignored is set when an ignore rule matched: the event is no occurrence.
	// IgnoredBy names the rule.
	Ignored   bool
	IgnoredBy string
}

// Component is one part of a fingerprint: its name, the value hashed, whether
// it contributed to the fingerprint and why (or why not).
type Component struct {
	Name        string `json:"name"`
	Value       string `json:"value"`
	Contributes bool   `json:"contributes"`
	Hint        string `json:"hint"`
}

// Explanation is how a fingerprint was built: the grouping version and the
// components (GET /api/problems/{id} "grouping", aient problems explain).
type Explanation struct {
	Version    string      `json:"version"`
	Components []Component `json:"components"`
	// Recomputed is set when the explanation was not stored with the sample
	// (recorded by an older version) and was computed again from it now.
	Recomputed bool `json:"recomputed,omitempty"`
}

// Explain returns the result's explanation.
func (r *Result) Explain() *Explanation {
	return &Explanation{Version: Version, Components: r.Components}
}

// topInApp is how many in-app frames enter the fingerprint.
const topInApp = 5

// maxTitle is the longest title, in characters.
const maxTitle = 200

// genericType reports exception types that say little about the bug; their
// message is hashed too.
func genericType(t string) bool {
	switch t {
	case "panic", "fatal error", "Error", "Exception", "errorString", "*errors.errorString",
		"*fmt.wrapError", "*fmt.wrapErrors", "*errors.joinError", "RuntimeError", "StandardError",
		"Fatal error":
		return true
	}
	return false
}

// titleParts is the title, "Type: message" of the outermost exception, in
// two parts: the title is typ alone when msg is "", else typ + ": " + msg
// (clipped).
func titleParts(chain []Exception, fallback string) (typ, msg string) {
	for _, e := range chain {
		if e.Type == "" && e.Message == "" {
			continue
		}
		msg := strings.TrimSpace(firstLine(strings.TrimSpace(e.Message)))
		switch {
		case e.Type == "":
			return msg, ""
		case msg == "":
			return e.Type, ""
		}
		return e.Type, msg
	}
	return strings.TrimSpace(firstLine(strings.TrimSpace(fallback))), ""
}

// clip cuts s to maxTitle characters on a rune boundary.
func clip(s string) string {
	if len(s) <= maxTitle {
		return validUTF8(s)
	}
	n := 0
	for i := range s {
		if n == maxTitle {
			return validUTF8(s[:i]) + "…"
		}
		n++
	}
	return validUTF8(s)
}

// validUTF8 is strings.ToValidUTF8(s, "\uFFFD"), with utf8.ValidString's
// ASCII fast path for the usual title that needs nothing replaced.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// culpritParts is the culprit, the top in-app frame as "function (file)",
// in two parts: the culprit is fn + " (" + file + ")" when both are set, else
// the one that is.
func culpritParts(frames []Frame) (fn, file string) {
	for _, f := range frames {
		if !f.InApp {
			continue
		}
		if f.File == "" {
			return f.Function, ""
		}
		return f.Function, basename(f.File)
	}
	return "", ""
}
