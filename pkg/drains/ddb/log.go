package ddb

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/internal/ddbitem"
	"github.com/aient/firehose-drain/pkg/drains"
)

// The delivery log (drains.LogReader) is two rings of small items in the drains table, so
// that it costs the ingest one write unit per entry and never grows the drain item (which
// every delivery reads):
//
//	drain item:  logSeq (N), logErrSeq (N)   ADDed by RecordDelivery's one UpdateItem, which
//	             answers the new values (ReturnValues UPDATED_NEW): entry i of the delivery
//	             gets sequence logSeq-k+1+i, its error entries the same of logErrSeq
//	slot items:  id (S) "log\x1f<drain>\x1fd<seq mod 50>" (deliveries) or
//	             "log\x1f<drain>\x1fe<seq mod 20>" (auth and payload errors)
//	             drain (S) seq (N) at (N, unix ms) status (N) source (S) records, events,
//	             errorEvents, duplicates (N) reason (S, at most maxLogReason bytes)
//
// A slot is written by UpdateItem under `attribute_not_exists(seq) OR seq < :seq`, so a
// slow writer never replaces a newer entry with an older one. The ring is bounded by
// construction: at most 50 + 20 slot items per drain. A crash between the counters' write
// and a slot's leaves that slot holding an entry 50 (20) sequences older; DeliveryLog reads
// the sequences first and keeps only the entries of the last 50 (20), so such a slot reads
// as a gap, never as a wrong entry. drains.ValidID never accepts a slot id; List skips them.
const (
	logPrefix     = "log\x1f"
	attrLogSeq    = "logSeq"
	attrLogErrSeq = "logErrSeq"
	slotDrain     = "drain"
	slotSeq       = "seq"
	slotAt        = "at"
	slotStatus    = "status"
	slotSource    = "source"
	slotRecords   = "records"
	slotEvents    = "events"
	slotErrors    = "errorEvents"
	slotDups      = "duplicates"
	slotReason    = "reason"
	// maxLogReason caps a logged reason (they name a record and what was wrong).
	maxLogReason = 1024
)

var _ drains.LogReader = (*Store)(nil)

func slotID(drain string, errRing bool, seq int64) string {
	ring, size := "d", int64(drains.LogDeliveries)
	if errRing {
		ring, size = "e", drains.LogErrors
	}
	return logPrefix + drain + "\x1f" + ring + strconv.FormatInt(seq%size, 10)
}

// isSideItem reports whether item is one of the table's items that is not a drain: rules
// and delivery-log slots.
func isSideItem(item map[string]types.AttributeValue) bool {
	v, ok := item[attrID].(*types.AttributeValueMemberS)
	return ok && (strings.HasPrefix(v.Value, rulesPrefix) || strings.HasPrefix(v.Value, logPrefix))
}

// logClauses adds the ADDs of the log's sequences to RecordDelivery's update, and reports
// how many entries and error entries the delivery logs.
func logClauses(d drains.Delivery, names map[string]string, values map[string]types.AttributeValue, add *[]string) (n, nErr int64) {
	for _, e := range d.Log {
		n++
		if e.IsError() {
			nErr++
		}
	}
	if n == 0 {
		return 0, 0
	}
	names["#logSeq"], values[":logN"] = attrLogSeq, num(n)
	*add = append(*add, "#logSeq :logN")
	if nErr > 0 {
		names["#logErrSeq"], values[":logErrN"] = attrLogErrSeq, num(nErr)
		*add = append(*add, "#logErrSeq :logErrN")
	}
	return n, nErr
}

// writeLog puts the delivery's entries in their slots, given the sequences the counters'
// write answered (the last entry's, the last error entry's).
func (s *Store) writeLog(ctx context.Context, id string, entries []drains.LogEntry, attrs map[string]types.AttributeValue, n, nErr int64) error {
	r := ddbitem.Reader{Item: attrs}
	seq, errSeq := r.Num(attrLogSeq)-n, r.Num(attrLogErrSeq)-nErr
	if err := r.Err(); err != nil {
		return err
	}
	for _, e := range entries {
		seq++
		if err := s.putSlot(ctx, id, false, seq, e); err != nil {
			return err
		}
		if e.IsError() {
			errSeq++
			if err := s.putSlot(ctx, id, true, errSeq, e); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Store) putSlot(ctx context.Context, id string, errRing bool, seq int64, e drains.LogEntry) error {
	reason := e.Reason
	if len(reason) > maxLogReason {
		reason = strings.ToValidUTF8(reason[:maxLogReason], "")
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table),
		Key:       key(slotID(id, errRing, seq)),
		UpdateExpression: aws.String("SET #drain = :drain, #seq = :seq, #at = :at, #status = :status, #source = :source, " +
			"#records = :records, #events = :events, #errors = :errors, #dups = :dups, #reason = :reason"),
		ConditionExpression: aws.String("attribute_not_exists(#seq) OR #seq < :seq"),
		ExpressionAttributeNames: map[string]string{
			"#drain": slotDrain, "#seq": slotSeq, "#at": slotAt, "#status": slotStatus, "#source": slotSource,
			"#records": slotRecords, "#events": slotEvents, "#errors": slotErrors, "#dups": slotDups, "#reason": slotReason,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":drain": str(id), ":seq": num(seq), ":at": ms(e.At), ":status": num(int64(e.Status)), ":source": str(e.Source),
			":records": num(e.Records), ":events": num(e.Events), ":errors": num(e.ErrorEvents), ":dups": num(e.Duplicates),
			":reason": str(reason),
		},
	})
	if err != nil && !isConditionFailed(err) { // failed: a newer entry holds the slot already
		return fmt.Errorf("delivery log slot %d: %w", seq, err)
	}
	return nil
}

// DeliveryLog reads drain id's log, newest first: one GetItem of the sequences and one
// BatchGetItem of the slots they name. A drain that does not exist has an empty log.
func (s *Store) DeliveryLog(ctx context.Context, id string) ([]drains.LogEntry, []drains.LogEntry, error) {
	fail := func(err error) ([]drains.LogEntry, []drains.LogEntry, error) {
		return nil, nil, fmt.Errorf("delivery log of drain %q: %w", id, err)
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(id), ConsistentRead: aws.Bool(true),
		ProjectionExpression:     aws.String("#logSeq, #logErrSeq"),
		ExpressionAttributeNames: map[string]string{"#logSeq": attrLogSeq, "#logErrSeq": attrLogErrSeq},
	})
	if err != nil {
		return fail(err)
	}
	r := ddbitem.Reader{Item: out.Item}
	last, lastErr := r.Num(attrLogSeq), r.Num(attrLogErrSeq)
	if err := r.Err(); err != nil {
		return fail(err)
	}
	// want: slot id -> the sequence that slot must hold to be in the log.
	want := map[string]int64{}
	for seq := max(1, last-drains.LogDeliveries+1); seq <= last; seq++ {
		want[slotID(id, false, seq)] = seq
	}
	for seq := max(1, lastErr-drains.LogErrors+1); seq <= lastErr; seq++ {
		want[slotID(id, true, seq)] = seq
	}
	type entry struct {
		seq int64
		e   drains.LogEntry
	}
	var all, errs []entry
	keys := make([]map[string]types.AttributeValue, 0, len(want))
	for slot := range want {
		keys = append(keys, key(slot))
	}
	for len(keys) > 0 {
		n := min(len(keys), 100)
		res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			s.table: {Keys: keys[:n], ConsistentRead: aws.Bool(true)},
		}})
		if err != nil {
			return fail(err)
		}
		keys = keys[n:]
		if un, ok := res.UnprocessedKeys[s.table]; ok {
			keys = append(keys, un.Keys...)
		}
		for _, item := range res.Responses[s.table] {
			r := ddbitem.Reader{Item: item}
			slot, seq := r.Str(attrID), r.Num(slotSeq)
			e := drains.LogEntry{
				At: r.Time(slotAt), Status: int(r.Num(slotStatus)), Source: r.Str(slotSource),
				Records: r.Num(slotRecords), Events: r.Num(slotEvents), ErrorEvents: r.Num(slotErrors),
				Duplicates: r.Num(slotDups), Reason: r.Str(slotReason),
			}
			if err := r.Err(); err != nil {
				return fail(fmt.Errorf("slot %q: %w", slot, err))
			}
			if want[slot] != seq {
				continue // an older entry of a slot whose write did not land
			}
			if strings.Contains(slot[len(logPrefix)+len(id):], "\x1fe") {
				errs = append(errs, entry{seq, e})
			} else {
				all = append(all, entry{seq, e})
			}
		}
	}
	newest := func(l []entry) []drains.LogEntry {
		slices.SortFunc(l, func(a, b entry) int { return cmp.Compare(b.seq, a.seq) })
		res := make([]drains.LogEntry, 0, len(l))
		for _, x := range l {
			res = append(res, x.e)
		}
		return res
	}
	return newest(all), newest(errs), nil
}
