package ddb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/pkg/drains"
	drainsddb "github.com/aient/firehose-drain/pkg/drains/ddb"
)

// Ignored counts the events ignore rules dropped, exactly once per identity: the
// identity's occurrence item is put (attribute_not_exists(pk), no problem, an `ignored`
// attribute naming the drain, expiring OccurrenceTTL later like every occurrence item) in
// the same TransactWriteItems that ADDs to the drain's counters.ignored in the drains table
// (drainsddb.IgnoredUpdate), up to maxTransactItems-1 identities a transaction. An identity
// marked before (a redelivery, a concurrent writer, or an occurrence of the same event)
// fails its condition and cancels the transaction, which is retried without exactly those;
// a missing drain fails the update's condition and nothing is written. Conflicts and
// throttling are retried with jitter, at most maxAttempts times.
type Ignored struct {
	s      *Store
	drains string
}

var _ drains.IgnoreRecorder = (*Ignored)(nil)

// Ignored returns the recorder of dropped events over this problems table and the drains
// table drainsTable.
func (s *Store) Ignored(drainsTable string) *Ignored { return &Ignored{s: s, drains: drainsTable} }

// attrIgnoredBy names the drain on an ignored event's occurrence item.
const attrIgnoredBy = "ignored"

// RecordIgnored marks ids and counts the new ones on drain.
func (ig *Ignored) RecordIgnored(ctx context.Context, drain string, ids []string, at time.Time) (int, error) {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids) // one action per item in a transaction
	total := 0
	for start := 0; start < len(ids); start += maxTransactItems - 1 {
		chunk := ids[start:min(start+maxTransactItems-1, len(ids))]
		n, missing, err := ig.writeChunk(ctx, drain, chunk, at)
		total += n
		if err != nil {
			return total, fmt.Errorf("record ignored events on drain %s: %w", drain, err)
		}
		if missing {
			return total, nil
		}
	}
	return total, nil
}

// writeChunk writes one transaction of markers and the counter, retried without the
// identities found marked; missing reports a drain that does not exist.
func (ig *Ignored) writeChunk(ctx context.Context, drain string, ids []string, at time.Time) (n int, missing bool, err error) {
	expires := num(ig.s.now().Add(OccurrenceTTL).Unix())
	pending := ids
	for attempts := 0; len(pending) > 0; {
		items := make([]types.TransactWriteItem, 0, len(pending)+1)
		for _, id := range pending {
			items = append(items, types.TransactWriteItem{Put: &types.Put{
				TableName: aws.String(ig.s.table),
				Item: map[string]types.AttributeValue{
					attrPK:        str(occurrencePrefix + id),
					attrIgnoredBy: str(drain),
					attrAt:        num(at.UnixMilli()),
					attrExpiresAt: expires,
				},
				ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
				ExpressionAttributeNames: map[string]string{"#pk": attrPK},
			}})
		}
		items = append(items, types.TransactWriteItem{Update: drainsddb.IgnoredUpdate(ig.drains, drain, int64(len(pending)))})
		_, err := ig.s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return len(pending), false, nil
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			return 0, false, err
		}
		if reason(tce, len(pending)).code == codeConditionalCheckFailed {
			return 0, true, nil
		}
		var still []string
		transient := false
		for k, id := range pending {
			code := reason(tce, k).code
			transient = transient || retryable(code)
			if code != codeConditionalCheckFailed {
				still = append(still, id)
			}
		}
		transient = transient || retryable(reason(tce, len(pending)).code)
		switch {
		case transient:
		case len(still) < len(pending):
			pending = still
			continue
		default:
			return 0, false, fmt.Errorf("cancelled (%s): %w", reasonCodes(tce), err)
		}
		pending = still
		if attempts++; attempts >= maxAttempts {
			return 0, false, fmt.Errorf("still cancelled after %d attempts: %w", attempts, err)
		}
		if err := ig.s.sleep(ctx, backoff(attempts)); err != nil {
			return 0, false, err
		}
	}
	return 0, false, nil
}
