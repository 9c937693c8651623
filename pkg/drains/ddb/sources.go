package ddb

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/internal/ddbitem"
	"github.com/aient/firehose-drain/pkg/drains"
)

// Per-source-kind bookkeeping is kept in flat attributes of the drain item, so that one
// UpdateItem (ADD and SET on top-level attributes, which need no parent map to exist)
// books a delivery on the drain and on its source kind at once:
//
//	src_<kind>_deliveries, src_<kind>_events, src_<kind>_errorEvents, src_<kind>_rejected (N)
//	src_<kind>_lastReceivedAt, src_<kind>_lastErrorAt (N, unix ms), src_<kind>_lastErrorReason (S)
const srcPrefix = "src_"

// Field suffixes of the per-source attributes.
const (
	srcDeliveries  = "deliveries"
	srcEvents      = "events"
	srcErrorEvents = "errorEvents"
	srcRejected    = "rejected"
	srcReceivedAt  = "lastReceivedAt"
	srcErrorAt     = "lastErrorAt"
	srcErrorReason = "lastErrorReason"
)

func srcAttr(kind, field string) string { return srcPrefix + kind + "_" + field }

// sourceUpdate adds the delivery's per-source clauses to an UpdateItem's ADD and SET lists.
func sourceUpdate(d drains.Delivery, names map[string]string, values map[string]types.AttributeValue, add, set *[]string) error {
	kind := drains.SourceOf(d)
	if err := drains.CheckSource(kind); err != nil {
		return err
	}
	for field, n := range map[string]int64{
		srcDeliveries: d.Counters.Deliveries, srcEvents: d.Counters.Events,
		srcErrorEvents: d.Counters.ErrorEvents, srcRejected: d.Counters.RecordsRejected,
	} {
		names["#src_"+field] = srcAttr(kind, field)
		values[":src_"+field] = num(n)
		*add = append(*add, "#src_"+field+" :src_"+field)
	}
	if d.Data || d.Control {
		names["#src_at"] = srcAttr(kind, srcReceivedAt)
		values[":src_at"] = ms(d.At)
		*set = append(*set, "#src_at = :src_at")
	}
	if n := d.PayloadError; n != nil {
		names["#src_errAt"], names["#src_errReason"] = srcAttr(kind, srcErrorAt), srcAttr(kind, srcErrorReason)
		values[":src_errAt"], values[":src_errReason"] = ms(n.At), str(n.Reason)
		*set = append(*set, "#src_errAt = :src_errAt", "#src_errReason = :src_errReason")
	}
	return nil
}

// unmarshalSources reads the per-source attributes of a drain item.
func unmarshalSources(item map[string]types.AttributeValue) (map[string]drains.SourceStats, error) {
	var out map[string]drains.SourceStats
	for name := range item {
		rest, ok := strings.CutPrefix(name, srcPrefix)
		if !ok {
			continue
		}
		kind, _, ok := strings.Cut(rest, "_")
		if !ok || !drains.ValidSource(kind) {
			continue // a kind this build does not know: left alone
		}
		if _, done := out[kind]; done {
			continue
		}
		r := ddbitem.Reader{Item: item}
		st := drains.SourceStats{
			Deliveries:     r.Num(srcAttr(kind, srcDeliveries)),
			Events:         r.Num(srcAttr(kind, srcEvents)),
			ErrorEvents:    r.Num(srcAttr(kind, srcErrorEvents)),
			Rejected:       r.Num(srcAttr(kind, srcRejected)),
			LastReceivedAt: r.Time(srcAttr(kind, srcReceivedAt)),
		}
		if _, ok := item[srcAttr(kind, srcErrorAt)]; ok {
			st.LastError = &drains.Note{At: r.Time(srcAttr(kind, srcErrorAt)), Reason: r.Str(srcAttr(kind, srcErrorReason))}
		}
		if r.Err() != nil {
			return nil, fmt.Errorf("source %s: %w", kind, r.Err())
		}
		if out == nil {
			out = map[string]drains.SourceStats{}
		}
		out[kind] = st
	}
	return out, nil
}
