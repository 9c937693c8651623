package cwpayload

import (
	"bytes"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/aient/firehose-drain/internal/jsonscan"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/invocation"
	"github.com/aient/firehose-drain/pkg/level"
)

// Breadcrumbs: every error-class event leaves the decoder with the log lines that preceded
// it in its invocation (event.Event.Breadcrumbs). The parser notes where each event of the
// current document lies in the record (a crumb: offsets, no copy); only an error-class
// event reads the notes, walking back from itself: a line belongs to its invocation when
// it names the same Lambda request id (pkg/invocation: the text and the JSON formats),
// and the walk ends at the invocation's START line (text "START RequestId: ..." or JSON
// "platform.start"), after MaxBreadcrumbs lines or MaxBreadcrumbBytes of text, or
// crumbWalk lines back. An error that names no request id takes the lines before it. Each
// line's request id and breadcrumb are made once, however many errors take it. A document
// has one log stream: lines of another stream never appear.

// crumbWalk bounds how far back an error looks for lines of its invocation.
const crumbWalk = 1024

// crumb is one event of the current document as the parser saw it.
type crumb struct {
	msg  span
	tsAt int32 // offset of the timestamp in the record, -1: none
	// The request id, once read: p.rids[ridOff:ridOff+ridLen] (ridLen -1: none).
	ridOff, ridLen int32
	ridRead        bool
	start          bool  // the line starts its invocation
	bc             int32 // index in p.bcs of the line as a breadcrumb, -1: not made yet
}

// note records the event just read (before it is kept, so that keep finds it last).
func (p *parser) note(msg span, tsAt int) {
	p.crumbs = append(p.crumbs, crumb{msg: msg, tsAt: int32(tsAt), bc: -1})
}

// resetCrumbs starts a document.
func (p *parser) resetCrumbs() {
	p.crumbs = p.crumbs[:0]
	p.rids = p.rids[:0]
	clear(p.bcs)
	p.bcs = p.bcs[:0]
}

// rid returns the request id of crumb j (nil when none), reading it the first time.
func (p *parser) rid(j int) []byte {
	c := &p.crumbs[j]
	if !c.ridRead {
		c.ridRead, c.ridLen = true, -1
		m := p.crumbText(c)
		if id := invocation.RequestID(m); id != nil {
			c.ridOff, c.ridLen = int32(len(p.rids)), int32(len(id))
			p.rids = append(p.rids, id...)
			c.start = bytes.HasPrefix(m, startLine) || bytes.Contains(m, platformStart)
		}
	}
	if c.ridLen < 0 {
		return nil
	}
	return p.rids[c.ridOff : c.ridOff+c.ridLen]
}

var (
	startLine     = []byte("START RequestId: ")
	platformStart = []byte(`"type":"platform.start"`)
)

// crumbText is the message of c as encoding/json decodes it: unescaped, each byte that is
// not UTF-8 as U+FFFD (valid until the next call).
func (p *parser) crumbText(c *crumb) []byte {
	if !c.msg.set {
		return nil
	}
	m := p.b[c.msg.start:c.msg.end]
	if c.msg.esc {
		if out, ok := jsonscan.Unescape(p.crumbBuf[:0], m); ok {
			p.crumbBuf, m = out, out
		}
	}
	if utf8.Valid(m) {
		return m
	}
	fixed := p.crumbFix[:0]
	for len(m) > 0 {
		r, n := utf8.DecodeRune(m)
		if r == utf8.RuneError && n == 1 {
			fixed = utf8.AppendRune(fixed, utf8.RuneError)
		} else {
			fixed = append(fixed, m[:n]...)
		}
		m = m[n:]
	}
	p.crumbFix = fixed
	return fixed
}

// breadcrumbs are the lines before the document's last noted event (the error being
// kept), oldest first; nil when there are none.
func (p *parser) breadcrumbs() []event.Breadcrumb {
	n := len(p.crumbs) - 1
	if n <= 0 {
		return nil
	}
	rid := p.rid(n)
	var taken [event.MaxBreadcrumbs]int32
	k, size, cut := 0, 0, -1
	for j := n - 1; j >= 0 && j >= n-crumbWalk && k < event.MaxBreadcrumbs; j-- {
		if rid != nil && !bytes.Equal(p.rid(j), rid) {
			continue
		}
		b := p.made(j)
		l := len(b.Message)
		if size+l > event.MaxBreadcrumbBytes {
			if k > 0 {
				break
			}
			cut = event.MaxBreadcrumbBytes // the newest line alone is cut to the cap
			l = cut
		}
		taken[k] = int32(j)
		k++
		size += l
		if rid != nil && p.crumbs[j].start {
			break // the invocation's first line
		}
	}
	if k == 0 {
		return nil
	}
	out := p.crumbSlice(k)
	for i := range k {
		out[i] = p.bcs[p.crumbs[taken[k-1-i]].bc]
	}
	if cut >= 0 {
		b := &out[k-1]
		m := b.Message
		for cut > 0 && !utf8.RuneStart(m[cut]) {
			cut--
		}
		b.Message = m[:cut]
		b.Level = level.OfString(b.Message)
	}
	return out
}

// made returns crumb j as a breadcrumb, made the first time.
func (p *parser) made(j int) *event.Breadcrumb {
	c := &p.crumbs[j]
	if c.bc >= 0 {
		return &p.bcs[c.bc]
	}
	m := p.crumbText(c)
	b := event.Breadcrumb{Level: level.Of(m), Message: p.arenaString(m)}
	if c.tsAt >= 0 {
		if ms, err := p.number(int(c.tsAt)); err == nil {
			b.Time = time.UnixMilli(ms).UTC()
		}
	}
	c.bc = int32(len(p.bcs))
	p.bcs = append(p.bcs, b)
	return &p.bcs[c.bc]
}

// crumbChunk is how many breadcrumbs one allocation holds.
const crumbChunk = 512

// crumbSlice returns room for n breadcrumbs, cut from a shared chunk (full capacity n: an
// append by its holder never reaches the next slice).
func (p *parser) crumbSlice(n int) []event.Breadcrumb {
	if len(p.crumbArena)+n > cap(p.crumbArena) {
		p.crumbArena = make([]event.Breadcrumb, 0, crumbChunk)
	}
	start := len(p.crumbArena)
	p.crumbArena = p.crumbArena[:start+n]
	return p.crumbArena[start : start+n : start+n]
}

// arenaString copies m into the text arena (as keep does for kept events' messages).
func (p *parser) arenaString(m []byte) string {
	if len(m) == 0 {
		return ""
	}
	if cap(p.text)-len(p.text) < len(m) {
		p.text = make([]byte, 0, max(textChunk, len(m)))
	}
	start := len(p.text)
	p.text = append(p.text, m...)
	// Never written again: the arena is only appended to.
	return unsafe.String(unsafe.SliceData(p.text[start:]), len(m))
}
