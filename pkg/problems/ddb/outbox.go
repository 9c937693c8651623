package ddb

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/internal/ddbitem"
	"github.com/aient/firehose-drain/pkg/alerts"
	"github.com/aient/firehose-drain/pkg/problems"
)

// Outbox is alerts.Outbox over the notice items of the problems table: the items the
// transition writes put (notice#<id>), which the table's stream hands to the alerts
// function.
type Outbox struct{ s *Store }

var _ alerts.Outbox = (*Outbox)(nil)

// Outbox is the store's outbox.
func (s *Store) Outbox() *Outbox { return &Outbox{s: s} }

func deliveryOf(item map[string]types.AttributeValue) (alerts.Delivery, error) {
	r := ddbitem.Reader{Item: item}
	var d alerts.Delivery
	if err := json.Unmarshal([]byte(r.Str(attrBody)), &d.Notice); err != nil {
		return d, fmt.Errorf("notice item %s: attribute %s: %w", r.Str(attrPK), attrBody, err)
	}
	d.Sent, d.Dead, d.Attempts = map[string]time.Time{}, map[string]bool{}, map[string]int{}
	for _, f := range []struct {
		attr string
		put  func(k string, v types.AttributeValue) bool
	}{
		{attrSent, func(k string, v types.AttributeValue) bool {
			n, ok := v.(*types.AttributeValueMemberN)
			if ok {
				r := ddbitem.Reader{Item: map[string]types.AttributeValue{"n": n}}
				d.Sent[k] = time.UnixMilli(r.Num("n")).UTC()
			}
			return ok
		}},
		{attrDead, func(k string, v types.AttributeValue) bool {
			b, ok := v.(*types.AttributeValueMemberBOOL)
			if ok && b.Value {
				d.Dead[k] = true
			}
			return ok
		}},
		{attrAttempts, func(k string, v types.AttributeValue) bool {
			n, ok := v.(*types.AttributeValueMemberN)
			if ok {
				r := ddbitem.Reader{Item: map[string]types.AttributeValue{"n": n}}
				d.Attempts[k] = int(r.Num("n"))
			}
			return ok
		}},
	} {
		av, ok := item[f.attr]
		if !ok {
			continue
		}
		m, ok := av.(*types.AttributeValueMemberM)
		if !ok {
			return d, fmt.Errorf("notice item %s: attribute %s is not a map", r.Str(attrPK), f.attr)
		}
		for k, v := range m.Value {
			if !f.put(k, v) {
				return d, fmt.Errorf("notice item %s: attribute %s: %q has the wrong type", r.Str(attrPK), f.attr, k)
			}
		}
	}
	return d, nil
}

// Pending scans the table for notices not done and due: for the operator's commands
// and tests (the alerts function gets notices from the stream, never by scanning).
func (o *Outbox) Pending(ctx context.Context, now time.Time, limit int) ([]alerts.Delivery, error) {
	var (
		out   []alerts.Delivery
		start map[string]types.AttributeValue
	)
	for {
		page, err := o.s.db.Scan(ctx, &dynamodb.ScanInput{
			TableName:                aws.String(o.s.table),
			FilterExpression:         aws.String("begins_with(#pk, :prefix) AND attribute_not_exists(#done) AND #due <= :now"),
			ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#done": attrDone, "#due": attrDue},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":prefix": str(noticePrefix), ":now": num(now.UnixMilli()),
			},
			ConsistentRead:    aws.Bool(true),
			ExclusiveStartKey: start,
		})
		if err != nil {
			return nil, fmt.Errorf("scan the outbox: %w", err)
		}
		for _, item := range page.Items {
			d, err := deliveryOf(item)
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		start = page.LastEvaluatedKey
	}
	slices.SortFunc(out, func(a, b alerts.Delivery) int {
		if c := a.Notice.At.Compare(b.Notice.At); c != 0 {
			return c
		}
		return strings.Compare(a.Notice.ID, b.Notice.ID)
	})
	return out[:min(len(out), limit)], nil
}

// Load reads the notices as they are now (strongly consistent), 100 a request.
func (o *Outbox) Load(ctx context.Context, ids []string) ([]alerts.Delivery, error) {
	var out []alerts.Delivery
	for chunk := range slices.Chunk(ids, maxBatchGetKeys) {
		keys := make([]map[string]types.AttributeValue, len(chunk))
		for i, id := range chunk {
			keys[i] = map[string]types.AttributeValue{attrPK: str(noticePrefix + id)}
		}
		for attempt := 1; len(keys) > 0; attempt++ {
			res, err := o.s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				o.s.table: {Keys: keys, ConsistentRead: aws.Bool(true)},
			}})
			if err != nil {
				return nil, fmt.Errorf("read notices: %w", err)
			}
			for _, item := range res.Responses[o.s.table] {
				d, err := deliveryOf(item)
				if err != nil {
					return nil, err
				}
				out = append(out, d)
			}
			keys = res.UnprocessedKeys[o.s.table].Keys
			if len(keys) > 0 {
				if attempt >= maxAttempts {
					return nil, fmt.Errorf("read notices: %d keys still unprocessed", len(keys))
				}
				if err := sleep(ctx, backoff(attempt)); err != nil {
					return nil, fmt.Errorf("read notices: %w", err)
				}
			}
		}
	}
	return out, nil
}

func (o *Outbox) update(ctx context.Context, id, expr string, names map[string]string, values map[string]types.AttributeValue) error {
	names["#pk"] = attrPK
	_, err := o.s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(o.s.table),
		Key:                       map[string]types.AttributeValue{attrPK: str(noticePrefix + id)},
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	if err != nil {
		return fmt.Errorf("update notice %s: %w", id, err)
	}
	return nil
}

// MarkSent implements alerts.Outbox.
func (o *Outbox) MarkSent(ctx context.Context, id, dest string, at time.Time) error {
	return o.update(ctx, id, "SET #sent.#d = :at", map[string]string{"#sent": attrSent, "#d": dest},
		map[string]types.AttributeValue{":at": num(at.UnixMilli())})
}

// MarkFailed implements alerts.Outbox.
func (o *Outbox) MarkFailed(ctx context.Context, id, dest string, attempts int, dead bool, retryAt time.Time) error {
	names := map[string]string{"#attempts": attrAttempts, "#d": dest, "#due": attrDue}
	values := map[string]types.AttributeValue{":n": num(int64(attempts)), ":due": num(retryAt.UnixMilli())}
	expr := "SET #attempts.#d = :n, #due = :due"
	if dead {
		names["#dead"] = attrDead
		values[":true"] = &types.AttributeValueMemberBOOL{Value: true}
		expr += ", #dead.#d = :true"
	}
	return o.update(ctx, id, expr, names, values)
}

// Done implements alerts.Outbox.
func (o *Outbox) Done(ctx context.Context, id string, at time.Time) error {
	return o.update(ctx, id, "SET #done = :at, #exp = :exp", map[string]string{"#done": attrDone, "#exp": attrExpiresAt},
		map[string]types.AttributeValue{":at": num(at.UnixMilli()), ":exp": num(at.Add(doneNoticeTTL).Unix())})
}

// PutNotice writes a notice item alone, as a transition's write does (tests and tools).
func (s *Store) PutNotice(ctx context.Context, n problems.Notice) error {
	put, err := s.noticePut(n)
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Put: put}}})
	if err != nil && !strings.Contains(err.Error(), "ConditionalCheckFailed") {
		return fmt.Errorf("put notice %s: %w", n.ID, err)
	}
	return nil
}

// NoticeIDOf is the notice id of a notice item's key (the stream's record keys), and
// false for another kind of item.
func NoticeIDOf(pk string) (string, bool) {
	return strings.CutPrefix(pk, noticePrefix)
}
