package grouping

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
)

// Analyze extracts the error from one CloudWatch log event message with the
// default rules. logGroup lets Lambda platform failures be fingerprinted per
// function (/aws/lambda/<name>). It never panics and its work is bounded on
// any input: JSON is read up to 1 MiB, text up to 64 KiB.
func Analyze(message, logGroup string) Result {
	return Default().Analyze(message, logGroup)
}

// Analyze is the package's Analyze with these rules.
func (r *Rules) Analyze(message, logGroup string) Result {
	return r.analyze(message, logGroup, nil)
}

// analyze is Analyze with a counter of the bytes the text scanners visited
// (nil: not counted).
func (r *Rules) analyze(message, logGroup string, work *int) Result {
	if len(message) > maxJSON {
		message = message[:maxJSON]
	}
	b, ok := builders.Get().(*compBuilder)
	if !ok {
		b = newCompBuilder()
	}
	defer b.release()
	b.scratch.work = work
	x := extractor{sc: &b.scratch}
	chain, fallback := x.extract(message, 0)
	b.scratch.compactFrames(chain)
	decisions := r.applyFrames(chain, b.decisions[:0])
	b.decisions, b.used = decisions[:0], len(decisions)
	res := Result{Chain: chain}
	primary := primaryIndex(chain)
	if primary >= 0 {
		res.Frames = chain[primary].Frames
	}
	var titleText, culpritText textRef // made from the builder's buffer at the end
	if typ, msg := titleParts(chain, fallback); msg == "" {
		res.Title = clip(typ)
	} else {
		titleText = b.text(typ, ": ", msg)
	}
	custom := r.matchEvent(chain, fallback)
	if custom != nil && custom.Actions&ActIgnore != 0 {
		res.Ignored, res.IgnoredBy = true, custom.ref
		custom = nil
	}
	if custom != nil {
		b.add("custom", custom.Fingerprint, true, "fingerprint= of rule "+custom.ref)
	}
	if kind, typ, t, req, report := platformFailure(message); kind != "" {
		fn := functionName(logGroup)
		res.Platform, res.RequestID = kind, req
		if report && custom == nil && !res.Ignored && initReportDuplicate(typ) {
			res.Ignored, res.IgnoredBy = true, ignoredInitReport
		}
		if titleText.set {
			res.Title, titleText = clip(b.string(titleText)), textRef{}
		}
		if t != "" || res.Title == "" {
			if t == "" {
				t = typ
			}
			res.Title = clip(t)
		}
		said := res.Chain // what the message itself said, before the platform's title stands in
		if len(res.Chain) == 0 {
			res.Chain = []Exception{{Type: typ, Message: res.Title}}
		}
		res.Culprit = fn
		b.add("platform", kind, custom == nil, "a Lambda platform failure: one problem per kind and function")
		b.add("function", fn, custom == nil, "the function, from the log group")
		if kind == PlatformInitError {
			b.initComponents(said, typ, custom == nil)
		}
	} else {
		if fn, file := culpritParts(res.Frames); file == "" || fn == "" {
			res.Culprit = fn + file // one of them: no copy
		} else {
			culpritText = b.text(fn, " (", file, ")")
		}
		b.stackComponents(chain, primary, decisions, fallback, custom == nil)
		if x.context != "" {
			b.add("context", x.context, custom == nil, x.contextHint)
		}
	}
	if custom != nil {
		for i := 1; i < len(b.comps); i++ {
			if b.comps[i].contributes {
				b.comps[i].contributes = false
				b.comps[i].hint = "overridden by the custom fingerprint"
			}
		}
	}
	var all string
	res.Fingerprint, res.Components, all = b.finish()
	if titleText.set {
		res.Title = clip(all[titleText.start:titleText.end])
	}
	if culpritText.set {
		res.Culprit = all[culpritText.start:culpritText.end]
	}
	return res
}

// primaryIndex picks the root-cause-most exception with in-app frames, else
// the root-cause-most exception with any frames; -1 when none has frames.
func primaryIndex(chain []Exception) int {
	for i := len(chain) - 1; i >= 0; i-- {
		for _, f := range chain[i].Frames {
			if f.InApp {
				return i
			}
		}
	}
	for i := len(chain) - 1; i >= 0; i-- {
		if len(chain[i].Frames) > 0 {
			return i
		}
	}
	return -1
}

// messageIndex is the exception whose message describes the bug: the primary
// one, or the outermost one with a type or message.
func messageIndex(chain []Exception, primary int) int {
	if primary >= 0 {
		return primary
	}
	for i := range chain {
		if chain[i].Message != "" || chain[i].Type != "" {
			return i
		}
	}
	return 0
}

// maxListedFrames bounds the frames of the primary exception listed as components.
const maxListedFrames = 16

// Hints of the default components.
const (
	hintTypes        = "the exception types of the chain, outermost first"
	hintNoType       = "no exception type"
	hintInApp        = "in-app frame (function and file)"
	hintNotInApp     = "not in-app"
	hintBelowTop     = "in-app, below the top 5"
	hintMsgNoFrames  = "no in-app frames: the static parts of the message decide"
	hintMsgGeneric   = "the type is generic: the static parts of the message decide too"
	hintMsgUnused    = "the type and the in-app frames identify the bug"
	hintMsgNoChain   = "no exception: the static parts of the message decide"
	hintLibFrames    = "no in-app frames: the runtime's top frames (names, never lines) decide too"
	hintNoMessage    = "no message"
	componentsPerMsg = 12
)

// stackComponents adds the components of an exception chain (or of the
// fallback text when there is none).
func (b *compBuilder) stackComponents(chain []Exception, primary int, ds []frameDecision, fallback string, on bool) {
	if len(chain) == 0 {
		b.begin("message")
		b.buf = appendNormalizedMessage(b.buf, fallback)
		b.end(on, hintMsgNoChain)
		return
	}
	b.begin("type")
	for i, e := range chain {
		if i > 0 {
			b.buf = append(b.buf, " > "...)
		}
		b.buf = append(b.buf, e.Type...)
	}
	typed := false
	for _, e := range chain {
		typed = typed || e.Type != ""
	}
	if typed {
		b.end(on, hintTypes)
	} else {
		b.end(false, hintNoType)
	}
	n := 0
	var frames []Frame
	var dec []frameDecision
	if primary >= 0 {
		frames = chain[primary].Frames
		off := 0
		for i := 0; i < primary; i++ {
			off += len(chain[i].Frames)
		}
		dec = ds[off : off+len(frames)]
	}
	for i := range frames {
		f := &frames[i]
		d := dec[i]
		groups := d.groups(f)
		if i >= maxListedFrames && (!groups || n >= topInApp) {
			continue
		}
		b.begin("frame")
		b.buf = append(b.buf, f.Function...)
		b.buf = append(b.buf, " ("...)
		if f.File != "" {
			b.buf = append(b.buf, basename(f.File)...)
		} else {
			b.buf = append(b.buf, f.Module...)
		}
		b.buf = append(b.buf, ')')
		switch {
		case groups && n < topInApp:
			n++
			h := hintInApp
			if d.app != nil {
				h = d.app.hintApp
			}
			if d.group != nil {
				h = d.group.hintGrp
			}
			b.end(on, h)
		case groups:
			b.end(false, hintBelowTop)
		case !f.InApp:
			h := hintNotInApp
			if d.app != nil {
				h = d.app.hintNoApp
			}
			b.end(false, h)
		default:
			b.end(false, d.group.hintNoGrp)
		}
	}
	generic := genericType(chain[messageIndex(chain, primary)].Type)
	b.begin("message")
	b.buf = appendNormalizedMessage(b.buf, chain[messageIndex(chain, primary)].Message)
	switch {
	case b.empty():
		b.end(false, hintNoMessage)
	case n == 0:
		b.end(on, hintMsgNoFrames)
	case generic:
		b.end(on, hintMsgGeneric)
	default:
		b.end(false, hintMsgUnused)
	}
	if n == 0 && len(frames) > 0 {
		b.begin("library-frames")
		for i, f := range frames {
			if i == 3 {
				break
			}
			if i > 0 {
				b.buf = append(b.buf, " | "...)
			}
			b.buf = append(b.buf, f.Function...)
		}
		b.end(on, hintLibFrames)
	}
}

// initComponents: what failed to load is part of an init failure, so a
// syntax error and a missing module are two problems, and so are two missing
// modules: the error type and the static parts of its message's first line.
func (b *compBuilder) initComponents(chain []Exception, typ string, on bool) {
	msg := ""
	for _, e := range chain {
		if strings.HasPrefix(e.Type, "Runtime.") {
			typ, msg = e.Type, e.Message
			break
		}
		if msg == "" {
			msg = e.Message
		}
	}
	b.add("type", typ, on, "the init failure's error type")
	b.begin("message")
	b.buf = appendNormalizedMessage(b.buf, firstLine(trimSpace(msg)))
	if b.empty() {
		b.end(false, hintNoMessage)
		return
	}
	b.end(on, "what failed to load (first line, static parts)")
}

// compBuilder collects components with their values in one buffer, which
// also holds the title and culprit when they are made of parts: finish turns
// it into one string. The builders (and the frame decisions' scratch) are
// reused through a pool.
type compBuilder struct {
	buf       []byte
	comps     []compRec
	start     int
	decisions []frameDecision
	used      int // the decisions written
	scratch   scratch
}

var builders = sync.Pool{New: func() any { return newCompBuilder() }}

func newCompBuilder() *compBuilder {
	return &compBuilder{
		buf:       make([]byte, 0, 512),
		comps:     make([]compRec, 0, componentsPerMsg),
		decisions: make([]frameDecision, 0, 32),
		scratch:   scratch{arena: make([]Frame, 0, arenaFrames)},
	}
}

// release returns the builder to the pool; a builder grown very large by
// one message is dropped instead.
func (b *compBuilder) release() {
	if cap(b.buf) > 64<<10 || cap(b.decisions) > 1024 {
		return
	}
	// Not cleared: what the recs and decisions point at (hints, compiled rules) stays alive
	// at most until the pool is dropped, two collections later; clearing pointers costs
	// write barriers on every message while the collector runs.
	b.buf, b.comps, b.decisions, b.start, b.used = b.buf[:0], b.comps[:0], b.decisions[:0], 0, 0
	b.scratch.work, b.scratch.arena = nil, b.scratch.arena[:0]
	builders.Put(b)
}

// textRef is a text in the builder's buffer.
type textRef struct {
	start, end int
	set        bool
}

// text appends the parts to the buffer as one text.
func (b *compBuilder) text(parts ...string) textRef {
	r := textRef{start: len(b.buf), set: true}
	for _, p := range parts {
		b.buf = append(b.buf, p...)
	}
	r.end = len(b.buf)
	return r
}

// string returns a copy of a text in the buffer.
func (b *compBuilder) string(r textRef) string { return string(b.buf[r.start:r.end]) }

type compRec struct {
	name        string
	start, end  int
	contributes bool
	hint        string
}

func (b *compBuilder) add(name, value string, contributes bool, hint string) {
	b.begin(name)
	b.buf = append(b.buf, value...)
	b.end(contributes, hint)
}

func (b *compBuilder) begin(name string) {
	b.start = len(b.buf)
	b.comps = append(b.comps, compRec{name: name, start: b.start})
}

func (b *compBuilder) empty() bool { return len(b.buf) == b.start }

func (b *compBuilder) end(contributes bool, hint string) {
	c := &b.comps[len(b.comps)-1]
	c.end, c.contributes, c.hint = len(b.buf), contributes, hint
}

// fingerprintPrefix starts every fingerprint.
const fingerprintPrefix = "v" + Version + ":"

// finish hashes the version and the contributing components (name, value)
// into the fingerprint and returns it, the components and the whole buffer
// as one string (the texts are substrings of it).
func (b *compBuilder) finish() (fingerprint string, comps []Component, all string) {
	// What is hashed is laid out after the texts, hashed at once, then cut off.
	fp := len(b.buf)
	b.buf = append(b.buf, fingerprintPrefix...)
	for _, c := range b.comps {
		if !c.contributes {
			continue
		}
		b.buf = append(b.buf, c.name...)
		b.buf = append(b.buf, 0)
		b.buf = append(b.buf, b.buf[c.start:c.end]...)
		b.buf = append(b.buf, 0)
	}
	sum := sha256.Sum256(b.buf[fp:])
	b.buf = append(b.buf[:fp], fingerprintPrefix...)
	b.buf = hex.AppendEncode(b.buf, sum[:16])
	all = string(b.buf)
	out := make([]Component, len(b.comps))
	for i, c := range b.comps {
		out[i] = Component{Name: c.name, Value: all[c.start:c.end], Contributes: c.contributes, Hint: c.hint}
	}
	return all[fp:], out, all
}
