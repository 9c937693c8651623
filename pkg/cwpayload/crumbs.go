package cwpayload

import (
	"bytes"
	"sync/atomic"
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
// current document lies in the record (a crumb: offsets, no copy) and which kept events
// are error-class; at the document's end it gives them their breadcrumbs, newest error
// first, walking back from each: a line belongs to its invocation when it names the same
// Lambda request id (pkg/invocation: the text and the JSON formats), and the walk ends at
// the invocation's START line (text "START RequestId: ..." or JSON "platform.start"),
// after MaxBreadcrumbs lines or MaxBreadcrumbBytes of text, or crumbWalk lines back. An
// error that names no request id takes the lines before it. Each line's request id and
// breadcrumb are made once, however many errors take it. A document has one log stream:
// lines of another stream never appear.
//
// Across documents (the records of one delivery, the documents of one stream): an error
// whose walk reached the start of its document without finding its invocation's START,
// with room left under the caps, is continued (a link), and so is every invocation whose
// last lines end the document without its END: its newest lines are carried. Once the
// records are decoded, the linker walks the links in record order and prepends to each
// continued error the carried lines of its invocation (same owner, log group, log stream
// and request id) from the documents before it. Decoding stays parallel; only the carried
// lines (at most 20 and 8 KiB per open invocation) are copied for it.
//
// The breadcrumbs one request's errors are given weigh at most
// Limits.MaxRequestBreadcrumbs as the ingest's queue budget weighs them (text and
// crumbWeight a line, for each error that takes it): the records are decoded from the last
// to the first and each document's errors newest first, so the budget goes to about the
// newest errors, as the queue's would on a first delivery; an error it does not reach goes
// without. Their memory is less (a line's text is copied once, however many errors take
// it). Carried lines allocate at most a quarter of that again (their text, when no error of
// their document took it, and an event.Breadcrumb a line); a carry past it carries nothing.

// crumbWalk bounds how far back an error looks for lines of its invocation.
const crumbWalk = 1024

// crumbWeight is what a breadcrumb weighs besides its text (time, level, JSON names), as
// the ingest's queue budget counts it.
const crumbWeight = 64

// Carries: how many of a document's last lines are looked at for invocations still open,
// and how many of those invocations carry their lines at most.
const (
	carryScan  = 64
	maxCarries = 8
)

// crumb is one event of the current document as the parser saw it.
type crumb struct {
	msg  span
	tsAt int32 // offset of the timestamp in the record, -1: none
	// The request id, once read: p.rids[ridOff:ridOff+ridLen] (ridLen -1: none).
	ridOff, ridLen int32
	ridRead        bool
	// Whether the line starts its invocation (START, platform.start) and ends it (END,
	// REPORT, platform.runtimeDone / report), read when a walk first asks (marksRead):
	// only lines that name a request id have them.
	marksRead  bool
	start, end bool
	textLen    int32 // the length of crumbText, -1: not known yet
	bc         int32 // index in p.bcs of the line as a breadcrumb, -1: not made yet
}

// pend is an error-class event of the current document waiting for its breadcrumbs.
type pend struct {
	ev    int32 // index in p.res.Errors
	crumb int32 // index in p.crumbs
}

// link is what the linker needs of a document: a continued error, or an invocation's
// carried lines.
type link struct {
	key string // owner, log group, log stream and request id
	// A continued error: its identity (stitching may move it) and the room it has left.
	ident        string
	lines, bytes int
	// Carried lines (carry set): replace drops what older documents carried (the
	// document holds the invocation's start, or its lines fill the caps); ended: the
	// invocation ended in the document.
	carry, replace, ended bool
	tail                  []event.Breadcrumb
}

// note records the event just read (before it is kept, so that keep finds it last).
func (p *parser) note(msg span, tsAt int) {
	p.crumbs = append(p.crumbs, crumb{msg: msg, tsAt: int32(tsAt), textLen: -1, bc: -1})
}

// pendCrumbs marks the event about to be appended to p.res.Errors as error-class.
func (p *parser) pendCrumbs() {
	p.pends = append(p.pends, pend{ev: int32(len(p.res.Errors)), crumb: int32(len(p.crumbs) - 1)})
}

// resetCrumbs starts a document.
func (p *parser) resetCrumbs() {
	p.crumbs = p.crumbs[:0]
	p.pends = p.pends[:0]
	p.rids = p.rids[:0]
	clear(p.bcs)
	p.bcs = p.bcs[:0]
}

// rid returns the request id of crumb j (nil when none), reading it the first time.
func (p *parser) rid(j int) []byte {
	c := &p.crumbs[j]
	if !c.ridRead {
		p.readRID(c, p.crumbText(c))
	}
	if c.ridLen < 0 {
		return nil
	}
	return p.rids[c.ridOff : c.ridOff+c.ridLen]
}

// readRID reads the request id of c from m, its crumbText.
func (p *parser) readRID(c *crumb, m []byte) {
	c.ridRead, c.ridLen = true, -1
	if id := invocation.RequestID(m); id != nil {
		c.ridOff, c.ridLen = int32(len(p.rids)), int32(len(id))
		p.rids = append(p.rids, id...)
	}
}

// marks returns whether line j starts and ends its invocation (false for a line that
// names no request id), reading them the first time.
func (p *parser) marks(j int) (start, end bool) {
	c := &p.crumbs[j]
	if !c.marksRead {
		c.marksRead = true
		if p.rid(j) != nil {
			m := p.crumbText(c)
			// The platform's JSON events are objects; the text lines start with their verb.
			if j := bytes.TrimLeft(m, " \t\r\n"); len(j) > 0 && j[0] == '{' {
				c.start = bytes.Contains(j, platformStart)
				c.end = bytes.Contains(j, platformDone) || bytes.Contains(j, platformReport)
			} else {
				c.start = bytes.HasPrefix(m, startLine)
				c.end = bytes.HasPrefix(m, endLine) || bytes.HasPrefix(m, reportLine)
			}
		}
	}
	return c.start, c.end
}

var (
	startLine      = []byte("START RequestId: ")
	endLine        = []byte("END RequestId: ")
	reportLine     = []byte("REPORT RequestId: ")
	platformStart  = []byte(`"type":"platform.start"`)
	platformDone   = []byte(`"type":"platform.runtimeDone"`)
	platformReport = []byte(`"type":"platform.report"`)
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
	p.crumbFix = jsonscan.AppendValid(p.crumbFix[:0], m)
	return p.crumbFix
}

// textLen is len(crumbText) of crumb j, read once.
func (p *parser) textLen(j int) int {
	c := &p.crumbs[j]
	if c.textLen < 0 {
		if c.bc >= 0 {
			c.textLen = int32(len(p.bcs[c.bc].Message))
		} else {
			c.textLen = int32(len(p.crumbText(c)))
		}
	}
	return int(c.textLen)
}

// crumbPlan is which lines a walk back takes: taken[:k], newest first.
type crumbPlan struct {
	taken [event.MaxBreadcrumbs]int32
	k     int
	size  int // bytes of text taken
	cut   int // when >= 0, the newest line alone is cut to this many bytes
	// cont: the walk reached the document's first line without finding the
	// invocation's START, with room left under the caps.
	cont bool
}

// plan walks back from line n-1 over the lines of the invocation rid (nil: every line).
func (p *parser) plan(n int, rid []byte, pl *crumbPlan) {
	pl.k, pl.size, pl.cut, pl.cont = 0, 0, -1, false
	j := n - 1
	for ; j >= 0 && j >= n-crumbWalk && pl.k < event.MaxBreadcrumbs; j-- {
		if rid != nil && !bytes.Equal(p.rid(j), rid) {
			continue
		}
		l := p.textLen(j)
		if pl.size+l > event.MaxBreadcrumbBytes {
			if pl.k > 0 {
				return // full
			}
			pl.cut = event.MaxBreadcrumbBytes // the newest line alone is cut to the cap
			l = pl.cut
		}
		pl.taken[pl.k] = int32(j)
		pl.k++
		pl.size += l
		if rid != nil {
			if start, _ := p.marks(j); start {
				return // the invocation's first line
			}
		}
	}
	pl.cont = rid != nil && j < 0 && pl.k < event.MaxBreadcrumbs && pl.size < event.MaxBreadcrumbBytes
}

// weight is what the plan's lines weigh in the queue.
func (pl *crumbPlan) weight() int64 { return int64(pl.size + pl.k*crumbWeight) }

// cost is what materializing the plan allocates: a breadcrumb for each line, and the text
// of the lines no error of the document took before.
func (p *parser) cost(pl *crumbPlan) int64 {
	n := int64(pl.k) * int64(unsafe.Sizeof(event.Breadcrumb{}))
	for _, j := range pl.taken[:pl.k] {
		if p.crumbs[j].bc < 0 {
			n += int64(p.textLen(int(j)))
		}
	}
	return n
}

// spend takes n bytes of a request's budget b (nil: unbounded). When they do not fit,
// the budget is spent: older errors go without, as the queue's budget does.
func spend(b *atomic.Int64, n int64) bool {
	if b == nil || n == 0 {
		return true
	}
	for {
		left := b.Load()
		if left < n {
			if left > 0 && !b.CompareAndSwap(left, 0) {
				continue
			}
			return false
		}
		if b.CompareAndSwap(left, left-n) {
			return true
		}
	}
}

// endDoc gives the document's error-class events their breadcrumbs, newest first, and
// notes the document's links.
func (p *parser) endDoc() {
	if len(p.pends) == 0 && len(p.crumbs) == 0 {
		return
	}
	if !p.haveStrings {
		p.ownerS, p.groupS, p.streamS = p.stringOf(p.owner), p.stringOf(p.group), p.stringOf(p.stream)
		p.haveStrings = true
	}
	var pl crumbPlan
	for k := len(p.pends) - 1; k >= 0; k-- {
		pe := p.pends[k]
		rid := p.rid(int(pe.crumb))
		p.plan(int(pe.crumb), rid, &pl)
		ev := &p.res.Errors[pe.ev]
		if pl.k > 0 {
			if !spend(p.crumbBudget, pl.weight()) {
				continue
			}
			ev.Breadcrumbs = p.materialize(&pl)
		}
		if pl.cont {
			p.res.links = append(p.res.links, link{
				key: p.linkKey(rid), ident: ev.IdentityKey,
				lines: event.MaxBreadcrumbs - pl.k, bytes: event.MaxBreadcrumbBytes - pl.size,
			})
		}
	}
	p.carry(&pl)
}

// carry notes the invocations whose lines are among the document's last carryScan: an
// ended one as ended, an open one with its newest lines.
func (p *parser) carry(pl *crumbPlan) {
	var decided [maxCarries][]byte
	nd := 0
	for j := len(p.crumbs) - 1; j >= 0 && j >= len(p.crumbs)-carryScan && nd < maxCarries; j-- {
		rid := p.rid(j)
		if rid == nil {
			continue
		}
		dup := false
		for _, d := range decided[:nd] {
			if bytes.Equal(d, rid) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		decided[nd] = rid
		nd++
		p.plan(j+1, rid, pl)
		if _, end := p.marks(j); end {
			if pl.cont {
				// Carried from an older document and ended in this one: what is carried
				// goes. (One that started here was carried by none.)
				p.res.links = append(p.res.links, link{key: p.linkKey(rid), carry: true, ended: true})
			}
			continue
		}
		l := link{key: p.linkKey(rid), carry: true, replace: !pl.cont}
		if spend(p.carryBudget, p.cost(pl)) {
			l.tail = p.materialize(pl)
		} else {
			l.replace = true // what older documents carried is not its newest lines
		}
		p.res.links = append(p.res.links, l)
	}
}

// linkKey names an invocation of the document's stream, its names as encoding/json
// decodes them (each byte that is not UTF-8 as U+FFFD), as the events carry them.
func (p *parser) linkKey(rid []byte) string {
	return jsonscan.ValidText(p.ownerS) + "\x00" + jsonscan.ValidText(p.groupS) + "\x00" + jsonscan.ValidText(p.streamS) + "\x00" + string(rid)
}

// materialize returns the plan's lines as breadcrumbs, oldest first.
func (p *parser) materialize(pl *crumbPlan) []event.Breadcrumb {
	k := pl.k
	if k == 0 {
		return nil
	}
	out := p.crumbSlice(k)
	for i := range k {
		out[i] = p.bcs[p.made(int(pl.taken[k-1-i]))]
	}
	if cut := pl.cut; cut >= 0 {
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

// made returns the index in p.bcs of crumb j as a breadcrumb, made the first time.
func (p *parser) made(j int) int32 {
	c := &p.crumbs[j]
	if c.bc >= 0 {
		return c.bc
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
	return c.bc
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

// linker joins the breadcrumbs of invocations across the documents of a delivery: it is
// given each document's links in delivery order.
type linker struct {
	tails map[string][]event.Breadcrumb
	// maxTails bounds the invocations carried at once (a stream of any length): past it,
	// what is carried is dropped.
	maxTails int
}

func newLinker(maxTails int) *linker {
	return &linker{tails: map[string][]event.Breadcrumb{}, maxTails: maxTails}
}

// link applies the links of one record (in its documents' order) and drops them.
func (lk *linker) link(res *RecordResult) {
	for i := range res.links {
		l := &res.links[i]
		switch {
		case !l.carry:
			lk.prepend(res.Errors, l)
		case l.ended:
			delete(lk.tails, l.key)
		case l.replace:
			lk.put(l.key, l.tail)
		default:
			lk.put(l.key, newest(lk.tails[l.key], l.tail, event.MaxBreadcrumbs, event.MaxBreadcrumbBytes))
		}
	}
	clear(res.links)
	res.links = nil
}

func (lk *linker) put(key string, tail []event.Breadcrumb) {
	if len(tail) == 0 {
		delete(lk.tails, key)
		return
	}
	if _, ok := lk.tails[key]; !ok && len(lk.tails) >= lk.maxTails {
		clear(lk.tails)
	}
	lk.tails[key] = tail
}

// prepend gives the continued error of l the carried lines of its invocation.
func (lk *linker) prepend(evs []event.Event, l *link) {
	tail := lk.tails[l.key]
	if len(tail) == 0 {
		return
	}
	for i := range evs {
		ev := &evs[i]
		if ev.IdentityKey != l.ident || !ev.Level.IsErrorClass() {
			continue
		}
		older := newest(nil, tail, l.lines, l.bytes)
		if len(older) == 0 {
			return
		}
		out := make([]event.Breadcrumb, 0, len(older)+len(ev.Breadcrumbs))
		ev.Breadcrumbs = append(append(out, older...), ev.Breadcrumbs...)
		return
	}
}

// newest returns the newest lines of older followed by newer within lines and bytes of
// text (a new slice when it takes from both; newer's own lines fit by construction).
func newest(older, newer []event.Breadcrumb, lines, size int) []event.Breadcrumb {
	n, s := 0, 0
	total := len(older) + len(newer)
	for n < total && n < lines {
		var b *event.Breadcrumb
		if k := total - 1 - n; k >= len(older) {
			b = &newer[k-len(older)]
		} else {
			b = &older[k]
		}
		if s+len(b.Message) > size {
			break
		}
		s += len(b.Message)
		n++
	}
	if n <= len(newer) {
		return newer[len(newer)-n:]
	}
	out := make([]event.Breadcrumb, 0, n)
	out = append(out, older[len(older)-(n-len(newer)):]...)
	return append(out, newer...)
}
