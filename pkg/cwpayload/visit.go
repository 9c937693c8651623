package cwpayload

import (
	"unicode/utf8"

	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/level"
)

// Visitor sees every DATA_MESSAGE log event of one record, all levels, in record order, as
// the record is decoded: the OTLP export, the local log store and the breadcrumbs read the
// events this way, without a second decode and without the decoder keeping them.
// Control messages are never visited.
type Visitor interface {
	// Visit is called once per log event. The View and its byte slices are valid only
	// during the call: a Visitor that keeps anything copies it.
	Visit(v *View)
	// End is called once after the record's last event, also when the record turned out
	// to be bad (its events decoded before that point were visited).
	End()
}

// View is one decoded log event as a Visitor sees it.
type View struct {
	// The document's owner, log group and log stream.
	Owner, LogGroup, LogStream string
	// Account and Region as the event is stamped (@aws.account / @aws.region when present).
	Account, Region string
	// ID is the event id; Message the unescaped message. Both alias decoder buffers.
	ID      []byte
	Message []byte
	// RequestID is the Lambda request id the message names (pkg/invocation), nil when
	// none; it aliases decoder buffers. The decoder reads it once per event for the
	// breadcrumbs and the Visitor alike.
	RequestID []byte
	// MessageUTF8 is set when Message is valid UTF-8, as the decoder checked it once for
	// every Visitor (false: not checked or not valid).
	MessageUTF8 bool
	// IDIsNumber is set when the id was a JSON number (event.Event.IDIsNumber): the
	// identity of the id 5 is not that of the id "5" (event.IdentityHasher).
	IDIsNumber bool
	// Timestamp is the event's own time, milliseconds since the epoch.
	Timestamp int64
	Level     event.Level
	// ErrorIndex is the index of this event in the record's RecordResult.Errors when it is
	// error-class, else -1. (Errors may also hold stitch candidates, and stitching may
	// join or drop kept events after the record: use it within Visit only.)
	ErrorIndex int
}

// visit is the end of parser.event when a Visitor is set: every event is unescaped and
// classified, error-class ones are kept as without a Visitor, and the Visitor sees each one
// with the account and region keep would stamp it with.
func (p *parser) visit(i int, msg, id span, ts int64, account, xAccount, xRegion, region span) (int, error) {
	var m []byte
	var err error
	switch {
	case !msg.set:
	case !msg.esc:
		m = p.b[msg.start:msg.end]
	default:
		if m, _, err = p.readMessage(msg.start - 1); err != nil {
			return 0, err
		}
	}
	l := level.Of(m)
	if xAccount.set && xAccount.start != xAccount.end {
		account = xAccount
	}
	v := &p.view
	v.ErrorIndex = -1
	if l.IsErrorClass() || msg.set && p.candidate(p.b[msg.start:msg.end]) {
		// Kept as without a Visitor: error-class, or a stitch candidate.
		p.keep(m, l, id, ts, account, xRegion, region)
		ev := &p.res.Errors[len(p.res.Errors)-1]
		if l.IsErrorClass() {
			v.ErrorIndex = len(p.res.Errors) - 1
		}
		v.Account, v.Region = ev.Account, ev.Region
	} else {
		if !p.haveStrings {
			p.ownerS, p.groupS, p.streamS = p.stringOf(p.owner), p.stringOf(p.group), p.stringOf(p.stream)
			p.haveStrings = true
		}
		v.Account, v.Region = p.ownerS, p.st.Region
		if account.set && account.start != account.end {
			v.Account = p.reuse(account, &p.lastAccount)
		}
		for _, r := range [2]span{xRegion, region} {
			if r.set {
				if s := p.reuse(r, &p.lastRegion); event.ValidRegion(s) {
					v.Region = s
					break
				}
			}
		}
	}
	v.Owner, v.LogGroup, v.LogStream = p.ownerS, p.groupS, p.streamS
	v.ID, v.IDIsNumber = p.b[id.start:id.end], id.number
	if id.esc {
		v.ID = []byte(p.stringOf(id))
	}
	v.Message, v.Timestamp, v.Level = m, ts, l
	v.MessageUTF8 = utf8.Valid(m)
	// The request id, read now for the Visitor and kept for the breadcrumbs (noted above:
	// the last crumb). crumbText is m when m is UTF-8; else it is made again, as there.
	c := &p.crumbs[len(p.crumbs)-1]
	if !c.ridRead {
		if v.MessageUTF8 {
			p.readRID(c, m)
		} else {
			p.readRID(c, p.crumbText(c))
		}
	}
	v.RequestID = p.rid(len(p.crumbs) - 1)
	p.visitor.Visit(v)
	return i, nil
}
