package grouping

import "strings"

// Exceptions is the exception chain Analyze finds in a message (Result.Chain, outermost
// first), without what Analyze builds beside it (the rules' in-app decisions, the
// fingerprint, its components, the title, the culprit): the OTLP logs export reads its
// exception.* attributes from it for every error-class event of a delivery. The frames'
// InApp is left unset. Like Analyze it never panics and its work is bounded.
func Exceptions(message string) []Exception {
	if len(message) > maxJSON {
		message = message[:maxJSON]
	}
	var x extractor
	chain, fallback := x.extract(message, 0)
	if len(chain) > 0 {
		return chain
	}
	// A Lambda platform failure (a timeout, an out-of-memory REPORT) that names no
	// exception: Analyze stands the failure's type and title in, as here.
	kind, typ, title, _, _ := platformFailure(message)
	if kind == "" {
		return nil
	}
	t := clip(strings.TrimSpace(firstLine(strings.TrimSpace(fallback))))
	if title != "" || t == "" {
		if title == "" {
			title = typ
		}
		t = clip(title)
	}
	return []Exception{{Type: typ, Message: t}}
}
