package ddb

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/internal/ddbitem"
	"github.com/aient/firehose-drain/pkg/drains"
)

// marshal is the item of a drain. Zero times and nil notes are left out.
func marshal(d drains.Drain) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		attrID:              str(d.ID),
		attrOrg:             str(d.Org),
		attrEnv:             str(d.Env),
		attrState:           str(d.State),
		attrKeys:            marshalKeys(d.Keys),
		attrDeliveries:      num(d.Counters.Deliveries),
		attrEvents:          num(d.Counters.Events),
		attrErrorEvents:     num(d.Counters.ErrorEvents),
		attrDuplicates:      num(d.Counters.Duplicates),
		attrRecordsRejected: num(d.Counters.RecordsRejected),
		attrIgnored:         num(d.Counters.Ignored),
		attrLogsRejected:    num(d.Counters.LogsRejected),
	}
	for name, t := range map[string]time.Time{
		attrCreatedAt: d.CreatedAt, attrRotatedAt: d.RotatedAt, attrRevokedAt: d.RevokedAt,
		attrLastReceivedAt: d.LastReceivedAt, attrLastControlAt: d.LastControlAt,
	} {
		if !t.IsZero() {
			item[name] = ms(t)
		}
	}
	if n := d.LastAuthError; n != nil {
		item[attrLastAuthErrorAt], item[attrLastAuthReason] = ms(n.At), str(n.Reason)
	}
	if n := d.LastPayloadError; n != nil {
		item[attrLastPayloadErrorAt], item[attrLastPayloadReason] = ms(n.At), str(n.Reason)
	}
	if n := d.LastLogsRejected; n != nil {
		item[attrLastLogsRejectedAt], item[attrLastLogsRejectedReason] = ms(n.At), str(n.Reason)
	}
	return item
}

func marshalKeys(keys []drains.Key) types.AttributeValue {
	l := make([]types.AttributeValue, 0, len(keys))
	for _, k := range keys {
		m := map[string]types.AttributeValue{attrDigest: str(k.Digest)}
		if !k.ValidUntil.IsZero() {
			m[attrValidUntil] = ms(k.ValidUntil)
		}
		l = append(l, &types.AttributeValueMemberM{Value: m})
	}
	return &types.AttributeValueMemberL{Value: l}
}

// unmarshal reads a drain item. A malformed item is an error naming the attribute.
func unmarshal(item map[string]types.AttributeValue) (drains.Drain, error) {
	r := ddbitem.Reader{Item: item}
	d := drains.Drain{
		ID:             r.Str(attrID),
		Org:            r.Str(attrOrg),
		Env:            r.Str(attrEnv),
		State:          r.Str(attrState),
		CreatedAt:      r.Time(attrCreatedAt),
		RotatedAt:      r.Time(attrRotatedAt),
		RevokedAt:      r.Time(attrRevokedAt),
		LastReceivedAt: r.Time(attrLastReceivedAt),
		LastControlAt:  r.Time(attrLastControlAt),
		Counters: drains.Counters{
			Deliveries:      r.Num(attrDeliveries),
			Events:          r.Num(attrEvents),
			ErrorEvents:     r.Num(attrErrorEvents),
			Duplicates:      r.Num(attrDuplicates),
			RecordsRejected: r.Num(attrRecordsRejected),
			Ignored:         r.Num(attrIgnored),
			LogsRejected:    r.Num(attrLogsRejected),
		},
	}
	if _, ok := item[attrLastAuthErrorAt]; ok {
		d.LastAuthError = &drains.Note{At: r.Time(attrLastAuthErrorAt), Reason: r.Str(attrLastAuthReason)}
	}
	if _, ok := item[attrLastPayloadErrorAt]; ok {
		d.LastPayloadError = &drains.Note{At: r.Time(attrLastPayloadErrorAt), Reason: r.Str(attrLastPayloadReason)}
	}
	if _, ok := item[attrLastLogsRejectedAt]; ok {
		d.LastLogsRejected = &drains.Note{At: r.Time(attrLastLogsRejectedAt), Reason: r.Str(attrLastLogsRejectedReason)}
	}
	if av, ok := item[attrKeys]; ok {
		l, ok := av.(*types.AttributeValueMemberL)
		if !ok {
			return drains.Drain{}, fmt.Errorf("drain item %q: attribute %s is %T, want a list", d.ID, attrKeys, av)
		}
		for i, e := range l.Value {
			m, ok := e.(*types.AttributeValueMemberM)
			if !ok {
				return drains.Drain{}, fmt.Errorf("drain item %q: %s[%d] is %T, want a map", d.ID, attrKeys, i, e)
			}
			kr := ddbitem.Reader{Item: m.Value}
			d.Keys = append(d.Keys, drains.Key{Digest: kr.Str(attrDigest), ValidUntil: kr.Time(attrValidUntil)})
			if kr.Err() != nil {
				return drains.Drain{}, fmt.Errorf("drain item %q: %s[%d]: %w", d.ID, attrKeys, i, kr.Err())
			}
		}
	}
	if r.Err() != nil {
		return drains.Drain{}, fmt.Errorf("drain item %q: %w", d.ID, r.Err())
	}
	src, err := unmarshalSources(item)
	if err != nil {
		return drains.Drain{}, fmt.Errorf("drain item %q: %w", d.ID, err)
	}
	d.Sources = src
	return d, nil
}
