package logs

import (
	"sync"

	"github.com/aient/firehose-drain/pkg/cwpayload"
	"github.com/aient/firehose-drain/pkg/event"
)

// Collector gathers the rows of one delivery while its records decode: Visitor is the
// Stamp's Visit (one Visitor per record, records decoding in parallel), Rows what they
// saw once decoding is done. Each row's UID is log.record.uid, computed as the OTLP export
// computes it.
type Collector struct {
	drain string
	mu    sync.Mutex
	rows  []Row
}

// NewCollector collects the rows of one delivery on drain.
func NewCollector(drain string) *Collector { return &Collector{drain: drain} }

// Visitor returns the Visitor of one record (cwpayload.Stamp.Visit).
func (c *Collector) Visitor(int) cwpayload.Visitor { return &recordRows{c: c} }

// Rows returns what every record's Visitor saw; call it after decoding.
func (c *Collector) Rows() []Row {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rows
}

// recordRows is one record's Visitor: it copies every event it sees.
type recordRows struct {
	c    *Collector
	rows []Row
	ids  event.IdentityHasher
}

func (r *recordRows) Visit(v *cwpayload.View) {
	row := Row{
		Drain: r.c.drain, Account: v.Account, Region: v.Region, LogGroup: v.LogGroup, LogStream: v.LogStream,
		EventID: string(v.ID), Time: v.Timestamp, Level: v.Level, Message: string(v.Message),
	}
	row.UID = r.ids.Sum(r.c.drain, v.Account, v.LogGroup, v.LogStream, v.ID, v.IDIsNumber)
	if v.RequestID != nil {
		row.RequestID = string(v.RequestID)
	}
	r.rows = append(r.rows, row)
}

func (r *recordRows) End() {
	if len(r.rows) == 0 {
		return
	}
	r.c.mu.Lock()
	r.c.rows = append(r.c.rows, r.rows...)
	r.c.mu.Unlock()
	r.rows = nil
}
