package cwpayload

import (
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
	// Timestamp is the event's own time, milliseconds since the epoch.
	Timestamp int64
	Level     event.Level
	// ErrorIndex is the index of this event in the record's RecordResult.Errors when it is
	// error-class, else -1.
	ErrorIndex int
}

// visit is the end of parser.event when a Visitor is set: every event is unescaped,
// timed and classified, error-class ones are kept as without a Visitor, and the Visitor
// sees each one.
func (p *parser) visit(i int, msg, id span, tsAt int, account, region span) (int, error) {
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
	var ts int64
	if tsAt >= 0 {
		if ts, _, err = p.number(tsAt); err != nil {
			return 0, err
		}
	}
	v := &p.view
	v.ErrorIndex = -1
	if l.IsErrorClass() {
		if err := p.keep(m, l, id, ts, account, region); err != nil {
			return 0, err
		}
		v.ErrorIndex = len(p.res.Errors) - 1
	}
	if !p.haveStrings {
		if p.ownerS, err = p.stringOf(p.owner); err != nil {
			return 0, err
		}
		if p.groupS, err = p.stringOf(p.group); err != nil {
			return 0, err
		}
		if p.streamS, err = p.stringOf(p.stream); err != nil {
			return 0, err
		}
		p.haveStrings = true
	}
	v.Owner, v.LogGroup, v.LogStream = p.ownerS, p.groupS, p.streamS
	v.Account, v.Region = p.ownerS, p.st.Region
	if account.set {
		if v.Account, err = p.reuse(account, &p.lastAccount); err != nil {
			return 0, err
		}
	}
	if region.set {
		if v.Region, err = p.reuse(region, &p.lastRegion); err != nil {
			return 0, err
		}
	}
	v.ID = nil
	if id.set {
		v.ID = p.b[id.start:id.end]
		if id.esc {
			s, err := p.stringOf(id)
			if err != nil {
				return 0, err
			}
			v.ID = []byte(s)
		}
	}
	v.Message, v.Timestamp, v.Level = m, ts, l
	p.visitor.Visit(v)
	return i, nil
}
