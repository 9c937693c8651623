// Package v1 is grouping version 1, frozen: the fingerprints problems recorded
// before version 2 carry. The grouper computes them too during a version
// transition, so that an event of a bug known under its version-1 fingerprint
// keeps counting on that problem (docs/design.md section 9). Do not change it:
// a change splits the problems it exists to keep.
package v1

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/aient/firehose-drain/pkg/grouping"
)

// Version is part of every fingerprint; bump it on any change to grouping.
const Version = "1"

// Frame is one parsed stack frame.
type Frame = grouping.Frame

// Exception is one link of an exception chain. Frames are ordered most
// recent call first (the throw site first) in every language.
type Exception struct {
	Type    string
	Message string
	Frames  []Frame
}

// Result is what Analyze found in one message.
type Result struct {
	// Fingerprint is "v1:" followed by 32 hex digits; stable for one bug.
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
	// Platform is "" or one of the Platform* kinds.
	Platform string
}

// topInApp is how many in-app frames enter the fingerprint.
const topInApp = 5

// maxTitle is the longest title, in characters.
const maxTitle = 200

// Analyze extracts the error from one CloudWatch log event message. logGroup
// lets Lambda platform failures be fingerprinted per function
// (/aws/lambda/<name>). It never panics and its work is bounded on any input:
// JSON is read up to 1 MiB, text up to 64 KiB.
func Analyze(message, logGroup string) Result {
	var work int
	return analyze(message, logGroup, &work)
}

// analyze is Analyze with a counter of the bytes the text scanners visited.
func analyze(message, logGroup string, work *int) Result {
	if len(message) > maxJSON {
		message = message[:maxJSON]
	}
	x := extractor{work: work}
	chain, fallback := x.extract(message, 0)
	r := Result{Chain: chain}
	r.Frames = primaryFrames(chain)
	r.Title = title(chain, fallback)
	if kind, typ, t := platformFailure(message); kind != "" {
		fn := functionName(logGroup)
		r.Platform = kind
		if t != "" || r.Title == "" {
			if t == "" {
				t = typ
			}
			r.Title = clip(t)
		}
		if len(r.Chain) == 0 {
			r.Chain = []Exception{{Type: typ, Message: r.Title}}
		}
		r.Culprit = fn
		b := make([]byte, 0, 128)
		b = append(b, "platform\x00"...)
		b = append(b, kind...)
		b = append(b, 0)
		b = append(b, fn...)
		r.Fingerprint = digest(b)
		return r
	}
	r.Culprit = culprit(r.Frames)
	r.Fingerprint = fingerprint(chain, r.Frames, fallback)
	return r
}

// fingerprintPrefix starts every fingerprint.
const fingerprintPrefix = "v" + Version + ":"

// digest hashes the version and b into a fingerprint.
func digest(b []byte) string {
	h := sha256.New()
	h.Write([]byte(fingerprintPrefix))
	h.Write(b)
	var sum [sha256.Size]byte
	var out [len(fingerprintPrefix) + 32]byte
	copy(out[:], fingerprintPrefix)
	hex.Encode(out[len(fingerprintPrefix):], h.Sum(sum[:0])[:16])
	return string(out[:])
}

// primaryFrames picks the frames of the root-cause-most exception with in-app
// frames, else of the root-cause-most exception with any frames.
func primaryFrames(chain []Exception) []Frame {
	for i := len(chain) - 1; i >= 0; i-- {
		for _, f := range chain[i].Frames {
			if f.InApp {
				return chain[i].Frames
			}
		}
	}
	for i := len(chain) - 1; i >= 0; i-- {
		if len(chain[i].Frames) > 0 {
			return chain[i].Frames
		}
	}
	return nil
}

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

// fingerprint hashes the version, the type chain, and the top in-app frames;
// the normalised message joins in when there are no in-app frames.
func fingerprint(chain []Exception, frames []Frame, fallback string) string {
	b := make([]byte, 0, 512)
	b = append(b, "types"...)
	for _, e := range chain {
		b = append(b, 0)
		b = append(b, e.Type...)
	}
	b = append(b, "\x00frames"...)
	n := 0
	for _, f := range frames {
		if !f.InApp {
			continue
		}
		b = append(b, 0)
		b = append(b, f.Function...)
		b = append(b, 0)
		if f.File != "" {
			b = append(b, basename(f.File)...)
		} else {
			b = append(b, f.Module...)
		}
		if n++; n == topInApp {
			break
		}
	}
	if n == 0 || (len(chain) > 0 && genericType(primaryType(chain, frames))) {
		b = append(b, "\x00message\x00"...)
		switch {
		case len(chain) > 0:
			e := primaryException(chain, frames)
			b = appendNormalizedMessage(b, e.Message)
		default:
			b = appendNormalizedMessage(b, fallback)
		}
		if n == 0 {
			// Runtime-only frames: their names (never their lines) tell
			// apart failures of different library calls.
			b = append(b, "\x00lib"...)
			for i, f := range frames {
				if i == 3 {
					break
				}
				b = append(b, 0)
				b = append(b, f.Function...)
			}
		}
	}
	return digest(b)
}

// primaryException returns the exception whose frames are the primary frames,
// or the outermost one with a message.
func primaryException(chain []Exception, frames []Frame) *Exception {
	if len(frames) > 0 {
		for i := range chain {
			if len(chain[i].Frames) > 0 && &chain[i].Frames[0] == &frames[0] {
				return &chain[i]
			}
		}
	}
	for i := range chain {
		if chain[i].Message != "" || chain[i].Type != "" {
			return &chain[i]
		}
	}
	return &chain[0]
}

func primaryType(chain []Exception, frames []Frame) string {
	return primaryException(chain, frames).Type
}

// title is "Type: message" of the outermost exception.
func title(chain []Exception, fallback string) string {
	for _, e := range chain {
		if e.Type == "" && e.Message == "" {
			continue
		}
		msg := strings.TrimSpace(firstLine(strings.TrimSpace(e.Message)))
		switch {
		case e.Type == "":
			return clip(msg)
		case msg == "":
			return clip(e.Type)
		}
		return clip(e.Type + ": " + msg)
	}
	return clip(strings.TrimSpace(firstLine(strings.TrimSpace(fallback))))
}

// clip cuts s to maxTitle characters on a rune boundary.
func clip(s string) string {
	if len(s) <= maxTitle {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	n := 0
	for i := range s {
		if n == maxTitle {
			return strings.ToValidUTF8(s[:i], "\uFFFD") + "…"
		}
		n++
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// culprit is the top in-app frame as "function (file)".
func culprit(frames []Frame) string {
	for _, f := range frames {
		if !f.InApp {
			continue
		}
		fn := f.Function
		switch {
		case f.File == "":
			return fn
		case fn == "":
			return basename(f.File)
		}
		return fn + " (" + basename(f.File) + ")"
	}
	return ""
}
