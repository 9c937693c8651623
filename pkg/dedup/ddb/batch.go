package ddb

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/aient/firehose-drain/pkg/dedup"
)

// Batched writes: commits and releases go in transactions of up to maxTransactItems
// conditional writes each (one request per 100 keys instead of one per key). A key whose
// condition fails (not held by the token) cancels its transaction; the transaction is
// retried without exactly the keys whose condition failed, which are left alone as the
// contract says. Conflicts with another request on one of the items and throttling are
// retried with jittered backoff within ctx, at most maxTxnAttempts times.
const (
	// maxTransactItems is DynamoDB's limit of actions in one TransactWriteItems.
	maxTransactItems = 100
	// maxTxnAttempts bounds the attempts of one transaction that make no progress.
	maxTxnAttempts = 8
)

// Commit marks the inflight claims of token on keys done with expiresAt: conditional
// Updates (#token = :token), 100 per TransactWriteItems, at most 16 transactions in flight.
// Keys not held by token are left alone (their condition fails, which is not an error).
func (s *Store) Commit(ctx context.Context, keys []string, token string, expiresAt time.Time) error {
	// What every item has alike is built once and shared by them (the SDK only reads it).
	table := aws.String(s.table)
	update, cond := aws.String("SET #state = :done, #exp = :exp REMOVE #lease"), aws.String("#token = :token")
	names := map[string]string{"#state": AttrState, "#exp": AttrExpiresAt, "#lease": AttrLeaseUntil, "#token": AttrToken}
	values := map[string]types.AttributeValue{
		":done":  &types.AttributeValueMemberS{Value: StateDone},
		":exp":   seconds(expiresAt),
		":token": &types.AttributeValueMemberS{Value: token},
	}
	return s.transactEach(ctx, "commit", keys, func(key string) types.TransactWriteItem {
		return types.TransactWriteItem{Update: &types.Update{
			TableName:                 table,
			Key:                       map[string]types.AttributeValue{AttrKey: &types.AttributeValueMemberS{Value: key}},
			UpdateExpression:          update,
			ConditionExpression:       cond,
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
		}}
	})
}

// Release deletes the inflight claims of token on keys: conditional Deletes, 100 per
// TransactWriteItems. Keys not held by token, and keys already committed, are left alone:
// a release never makes a sent event claimable again.
func (s *Store) Release(ctx context.Context, keys []string, token string) error {
	table, cond := aws.String(s.table), aws.String("#token = :token AND #state = :inflight")
	names := map[string]string{"#token": AttrToken, "#state": AttrState}
	values := map[string]types.AttributeValue{
		":token":    &types.AttributeValueMemberS{Value: token},
		":inflight": &types.AttributeValueMemberS{Value: StateInflight},
	}
	return s.transactEach(ctx, "release", keys, func(key string) types.TransactWriteItem {
		return types.TransactWriteItem{Delete: &types.Delete{
			TableName:                 table,
			Key:                       map[string]types.AttributeValue{AttrKey: &types.AttributeValueMemberS{Value: key}},
			ConditionExpression:       cond,
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
		}}
	})
}

// transactEach writes item(key) for every distinct key, in transactions of up to 100, at
// most `concurrency` transactions in flight. Failed conditions are not errors; the first
// other failure is returned, wrapped (with dedup.ErrUnavailable when a retry may cure it).
func (s *Store) transactEach(ctx context.Context, op string, keys []string, item func(string) types.TransactWriteItem) error {
	seen := make(map[string]bool, len(keys))
	distinct := make([]string, 0, len(keys))
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			distinct = append(distinct, k)
		}
	}
	var (
		g      errgroup.Group
		failed atomic.Int64
	)
	g.SetLimit(concurrency)
	for start := 0; start < len(distinct) && ctx.Err() == nil; start += maxTransactItems {
		chunk := distinct[start:min(start+maxTransactItems, len(distinct))]
		g.Go(func() error {
			n, err := s.transact(ctx, chunk, item)
			if err != nil {
				failed.Add(int64(n))
			}
			return err
		})
	}
	first := g.Wait()
	if first == nil && ctx.Err() != nil {
		return fmt.Errorf("ddb: %s %d keys: %w: %w", op, len(keys), dedup.ErrUnavailable, ctx.Err())
	}
	if first != nil {
		return s.wrap(fmt.Sprintf("%s: %d of %d keys failed", op, failed.Load(), len(distinct)), first)
	}
	return nil
}

// transact writes one chunk in one transaction, retried without the keys whose condition
// failed. It returns how many keys it could not write, and why.
func (s *Store) transact(ctx context.Context, keys []string, item func(string) types.TransactWriteItem) (int, error) {
	for attempts := 0; len(keys) > 0; {
		items := make([]types.TransactWriteItem, len(keys))
		for i, k := range keys {
			items[i] = item(k)
		}
		_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return 0, nil
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			return len(keys), err
		}
		var still []string
		transient := false
		for i, k := range keys {
			code := ""
			if i < len(tce.CancellationReasons) {
				code = aws.ToString(tce.CancellationReasons[i].Code)
			}
			switch code {
			case "ConditionalCheckFailed":
				continue // not held by the token: left alone
			case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
				transient = true
			case "", "None":
			default:
				return len(keys), fmt.Errorf("cancelled (%s on %s): %w", code, k, err)
			}
			still = append(still, k)
		}
		if len(still) == len(keys) && !transient {
			return len(keys), fmt.Errorf("cancelled for no reason given: %w", err)
		}
		keys = still
		if !transient {
			continue // progress: exactly the keys not held were dropped
		}
		if attempts++; attempts >= maxTxnAttempts {
			return len(keys), fmt.Errorf("%w: still conflicting after %d attempts: %w", dedup.ErrThrottled, attempts, err)
		}
		if err := sleepJitter(ctx, attempts); err != nil {
			return len(keys), err
		}
	}
	return 0, nil
}

// sleepJitter waits a full-jitter backoff before attempt n+1 (up to 10ms·2^n, at most 1s),
// or until ctx ends.
func sleepJitter(ctx context.Context, n int) error {
	d := rand.N(min(10*time.Millisecond<<n, time.Second)) + time.Millisecond
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ClaimBatch claims up to 100 keys in one TransactWriteItems of conditional Puts (the
// condition of Claim), so a delivery's claims cost one request per 100 events. A cancelled
// transaction says, per key, why (each Put returns the item that failed its condition):
// done keys are Duplicate, live foreign leases Busy, our own token (a retried request
// that landed) Fresh; the other keys were not written and are claimed again in the next
// attempt, without the ones decided. Conflicts and throttling are retried with jittered
// backoff, at most maxTxnAttempts times; a throttle that persists is an error wrapping
// dedup.ErrThrottled.
func (s *Store) ClaimBatch(ctx context.Context, claims []dedup.Claim, now time.Time) ([]dedup.Outcome, error) {
	out := make([]dedup.Outcome, len(claims))
	pending := make([]int, len(claims))
	for i := range pending {
		pending[i] = i
	}
	// What the items have alike is built once and shared by them (the SDK only reads it).
	table, cond := aws.String(s.table), aws.String(claimCondition)
	names := map[string]string{"#pk": AttrKey, "#state": AttrState, "#lease": AttrLeaseUntil}
	inflight := &types.AttributeValueMemberS{Value: StateInflight}
	values := map[string]types.AttributeValue{":inflight": inflight, ":now": millis(now)}
	var same claimValues
	for attempts := 0; len(pending) > 0; {
		chunk := pending[:min(len(pending), maxTransactItems)]
		items := make([]types.TransactWriteItem, len(chunk))
		for k, i := range chunk {
			c := claims[i]
			token, lease, exp := same.of(c)
			items[k] = types.TransactWriteItem{Put: &types.Put{
				TableName: table,
				Item: map[string]types.AttributeValue{
					AttrKey:        &types.AttributeValueMemberS{Value: c.Key},
					AttrState:      inflight,
					AttrToken:      token,
					AttrLeaseUntil: lease,
					AttrExpiresAt:  exp,
				},
				ConditionExpression:                 cond,
				ExpressionAttributeNames:            names,
				ExpressionAttributeValues:           values,
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			}}
		}
		_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			for _, i := range chunk {
				out[i] = dedup.Fresh
			}
			pending = pending[len(chunk):]
			continue
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			return nil, s.wrap("claim batch", err)
		}
		var still []int
		transient, decided := false, 0
		for k, i := range chunk {
			var r types.CancellationReason
			if k < len(tce.CancellationReasons) {
				r = tce.CancellationReasons[k]
			}
			switch code := aws.ToString(r.Code); code {
			case "ConditionalCheckFailed":
				if o, ok := outcomeOf(r.Item, claims[i].Token, now); ok {
					out[i] = o
					decided++
					continue
				}
				if r.Item == nil {
					// No item returned: the single-key path reads it.
					o, err := s.Claim(ctx, claims[i], now)
					if err != nil {
						return nil, err
					}
					out[i] = o
					decided++
					continue
				}
			case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
				transient = true
			case "", "None":
			default:
				return nil, s.wrap("claim batch", fmt.Errorf("cancelled (%s on %s): %w", code, claims[i].Key, err))
			}
			still = append(still, i)
		}
		pending = append(still, pending[len(chunk):]...)
		if decided > 0 && !transient {
			continue // progress: the decided keys are out
		}
		if attempts++; attempts >= maxTxnAttempts {
			if transient {
				return nil, s.wrap("claim batch", fmt.Errorf("%w: still cancelled after %d attempts: %w", dedup.ErrThrottled, attempts, err))
			}
			return nil, s.wrap("claim batch", fmt.Errorf("still cancelled after %d attempts: %w", attempts, err))
		}
		if err := sleepJitter(ctx, attempts); err != nil {
			return nil, s.wrap("claim batch", err)
		}
	}
	return out, nil
}

// claimValues are the token, lease and expiry attribute values of the last claim given to
// of: the claims of one batch share them (one token, one lease), so their items share the
// values too.
type claimValues struct {
	c                 dedup.Claim
	token, lease, exp types.AttributeValue
}

func (v *claimValues) of(c dedup.Claim) (token, lease, exp types.AttributeValue) {
	if v.token == nil || c.Token != v.c.Token {
		v.token = &types.AttributeValueMemberS{Value: c.Token}
	}
	if v.lease == nil || !c.LeaseUntil.Equal(v.c.LeaseUntil) {
		v.lease = millis(c.LeaseUntil)
	}
	if v.exp == nil || !c.ExpiresAt.Equal(v.c.ExpiresAt) {
		v.exp = seconds(c.ExpiresAt)
	}
	v.c = c
	return v.token, v.lease, v.exp
}
