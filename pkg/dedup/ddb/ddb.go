// Package ddb is the DynamoDB dedup.Store: one item per identity, claimed with a
// conditional PutItem, committed with conditional Updates and released with conditional
// Deletes on the claim's token, a hundred keys per TransactWriteItems (batch.go).
//
// The table schema is fixed (the SAM template creates it): hash key pk (S); attributes
// state ("inflight" or "done"), token (S), lease_until (N, unix milliseconds) and
// expires_at (N, unix seconds; the table's TTL attribute).
package ddb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/aient/firehose-drain/internal/awsretry"
	"github.com/aient/firehose-drain/pkg/dedup"
)

// Attribute names and state values of the table.
const (
	AttrKey        = "pk"
	AttrState      = "state"
	AttrToken      = "token"
	AttrLeaseUntil = "lease_until"
	AttrExpiresAt  = "expires_at"

	StateInflight = "inflight"
	StateDone     = "done"
)

// concurrency bounds the transactions in flight within one Commit or Release call.
const concurrency = 16

// claimAttempts bounds how often Claim retries when the item changed between its
// conditional write and the read that explains the write's failure.
const claimAttempts = 3

// Store is a dedup.Store on one DynamoDB table. It is safe for concurrent use.
type Store struct {
	client *dynamodb.Client
	table  string
}

var _ dedup.Store = (*Store)(nil)

// New returns a Store on table through client.
func New(client *dynamodb.Client, table string) *Store {
	return &Store{client: client, table: table}
}

const claimCondition = "attribute_not_exists(#pk) OR (#state = :inflight AND #lease < :now)"

// Claim writes c if the key is absent or its inflight lease ended before now; otherwise
// it reports Duplicate (done) or Busy (live lease). Throttling, 5xx answers, timeouts and
// unreachable endpoints are returned wrapping dedup.ErrUnavailable.
func (s *Store) Claim(ctx context.Context, c dedup.Claim, now time.Time) (dedup.Outcome, error) {
	in := &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			AttrKey:        &types.AttributeValueMemberS{Value: c.Key},
			AttrState:      &types.AttributeValueMemberS{Value: StateInflight},
			AttrToken:      &types.AttributeValueMemberS{Value: c.Token},
			AttrLeaseUntil: millis(c.LeaseUntil),
			AttrExpiresAt:  seconds(c.ExpiresAt),
		},
		ConditionExpression: aws.String(claimCondition),
		ExpressionAttributeNames: map[string]string{
			"#pk": AttrKey, "#state": AttrState, "#lease": AttrLeaseUntil,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":inflight": &types.AttributeValueMemberS{Value: StateInflight},
			":now":      millis(now),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	for range claimAttempts {
		_, err := s.client.PutItem(ctx, in)
		if err == nil {
			return dedup.Fresh, nil
		}
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return 0, s.wrap("claim", err)
		}
		item := ccf.Item
		if item == nil {
			// The service did not return the item that failed the condition: read it.
			out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
				TableName:      aws.String(s.table),
				Key:            map[string]types.AttributeValue{AttrKey: &types.AttributeValueMemberS{Value: c.Key}},
				ConsistentRead: aws.Bool(true),
			})
			if err != nil {
				return 0, s.wrap("read the held claim", err)
			}
			item = out.Item
		}
		if o, ok := outcomeOf(item, c.Token, now); ok {
			return o, nil
		}
		// The item was released or its lease ran out since the write: try again.
	}
	// The key keeps changing under us; another delivery is working on it.
	return dedup.Busy, nil
}

// outcomeOf explains a failed claim from the item that failed it. ok is false when the
// item would not fail the condition any more (gone, or its lease ended). An inflight item
// holding our own token is our claim: the SDK retried a PutItem whose first answer was
// lost (a reset connection) after the write had landed.
func outcomeOf(item map[string]types.AttributeValue, token string, now time.Time) (dedup.Outcome, bool) {
	if item == nil {
		return 0, false
	}
	st, _ := item[AttrState].(*types.AttributeValueMemberS)
	if st != nil && st.Value == StateDone {
		return dedup.Duplicate, true
	}
	if tok, _ := item[AttrToken].(*types.AttributeValueMemberS); st != nil && st.Value == StateInflight && tok != nil && tok.Value == token {
		return dedup.Fresh, true
	}
	if n, _ := item[AttrLeaseUntil].(*types.AttributeValueMemberN); n != nil {
		if ms, err := strconv.ParseInt(n.Value, 10, 64); err == nil && ms < now.UnixMilli() {
			return 0, false
		}
	}
	return dedup.Busy, true
}

// wrap adds context to err, and dedup.ErrUnavailable when a retry may cure it.
func (s *Store) wrap(op string, err error) error {
	if throttled(err) && !errors.Is(err, dedup.ErrThrottled) {
		return fmt.Errorf("ddb: %s on table %s: %w: %w: %w", op, s.table, dedup.ErrUnavailable, dedup.ErrThrottled, err)
	}
	if transient(err) || errors.Is(err, dedup.ErrThrottled) {
		return fmt.Errorf("ddb: %s on table %s: %w: %w", op, s.table, dedup.ErrUnavailable, err)
	}
	return fmt.Errorf("ddb: %s on table %s: %w", op, s.table, err)
}

// throttled reports whether err is DynamoDB refusing for capacity: a retry after a
// backoff, with less concurrency, may cure it.
func throttled(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	_, ok := retry.DefaultThrottleErrorCodes[ae.ErrorCode()]
	return ok || ae.ErrorCode() == "RequestLimitExceeded"
}

// transient reports whether err is one a later retry may cure (awsretry.Transient, with
// DynamoDB's own transient codes).
func transient(err error) bool {
	return awsretry.Transient(err, "InternalServerError", "ServiceUnavailable", "ReplicatedWriteConflictException", "TransactionConflictException")
}

func millis(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.UnixMilli(), 10)}
}

func seconds(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.Unix(), 10)}
}

// CreateTable creates table with the store's schema, billed per request, with TTL on
// expires_at, and waits until it is active. A table that already exists is kept; its TTL
// is switched on if it is off. For tests and local tooling; production tables come from
// the SAM template.
func CreateTable(ctx context.Context, client *dynamodb.Client, table string) error {
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(AttrKey), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(AttrKey), KeyType: types.KeyTypeHash}},
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("ddb: create table %s: %w", table, err)
	}
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 200 * time.Millisecond
		o.MaxDelay = 2 * time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 5*time.Minute); err != nil {
		return fmt.Errorf("ddb: wait for table %s: %w", table, err)
	}
	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		return fmt.Errorf("ddb: describe TTL of table %s: %w", table, err)
	}
	if d := ttl.TimeToLiveDescription; d != nil &&
		(d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(AttrExpiresAt),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("ddb: enable TTL on %s of table %s: %w", AttrExpiresAt, table, err)
	}
	return nil
}
