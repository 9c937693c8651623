package ddb

import (
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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
	r := reader{item: item}
	d := drains.Drain{
		ID:             r.str(attrID),
		Org:            r.str(attrOrg),
		Env:            r.str(attrEnv),
		State:          r.str(attrState),
		CreatedAt:      r.time(attrCreatedAt),
		RotatedAt:      r.time(attrRotatedAt),
		RevokedAt:      r.time(attrRevokedAt),
		LastReceivedAt: r.time(attrLastReceivedAt),
		LastControlAt:  r.time(attrLastControlAt),
		Counters: drains.Counters{
			Deliveries:      r.num(attrDeliveries),
			Events:          r.num(attrEvents),
			ErrorEvents:     r.num(attrErrorEvents),
			Duplicates:      r.num(attrDuplicates),
			RecordsRejected: r.num(attrRecordsRejected),
		},
	}
	if _, ok := item[attrLastAuthErrorAt]; ok {
		d.LastAuthError = &drains.Note{At: r.time(attrLastAuthErrorAt), Reason: r.str(attrLastAuthReason)}
	}
	if _, ok := item[attrLastPayloadErrorAt]; ok {
		d.LastPayloadError = &drains.Note{At: r.time(attrLastPayloadErrorAt), Reason: r.str(attrLastPayloadReason)}
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
			kr := reader{item: m.Value}
			d.Keys = append(d.Keys, drains.Key{Digest: kr.str(attrDigest), ValidUntil: kr.time(attrValidUntil)})
			if kr.err != nil {
				return drains.Drain{}, fmt.Errorf("drain item %q: %s[%d]: %w", d.ID, attrKeys, i, kr.err)
			}
		}
	}
	if r.err != nil {
		return drains.Drain{}, fmt.Errorf("drain item %q: %w", d.ID, r.err)
	}
	return d, nil
}

// reader reads typed attributes and keeps the first error.
type reader struct {
	item map[string]types.AttributeValue
	err  error
}

func (r *reader) fail(name string, av types.AttributeValue, want string) {
	if r.err == nil {
		r.err = fmt.Errorf("attribute %s is %T, want %s", name, av, want)
	}
}

func (r *reader) str(name string) string {
	av, ok := r.item[name]
	if !ok {
		return ""
	}
	s, ok := av.(*types.AttributeValueMemberS)
	if !ok {
		r.fail(name, av, "a string")
		return ""
	}
	return s.Value
}

func (r *reader) num(name string) int64 {
	av, ok := r.item[name]
	if !ok {
		return 0
	}
	n, ok := av.(*types.AttributeValueMemberN)
	if !ok {
		r.fail(name, av, "a number")
		return 0
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("attribute %s: %w", name, err)
	}
	return v
}

// time reads unix milliseconds; an absent attribute is the zero time.
func (r *reader) time(name string) time.Time {
	if _, ok := r.item[name]; !ok {
		return time.Time{}
	}
	return time.UnixMilli(r.num(name)).UTC()
}
