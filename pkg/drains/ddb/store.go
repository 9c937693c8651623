// Package ddb keeps drains in a DynamoDB table: the drains.Store of the deployed stack.
//
// Table schema (fixed; template.yaml creates the same): hash key `id` (S), nothing else.
// One item per drain:
//
//	id (S) org (S) env (S) state (S) "active" | "revoked"
//	keys (L of M {digest (S), validUntil (N, unix ms; absent = no end)})
//	createdAt, rotatedAt, revokedAt, lastReceivedAt, lastControlAt (N, unix ms; absent = zero time)
//	lastAuthErrorAt (N, unix ms), lastAuthErrorReason (S)
//	lastPayloadErrorAt (N, unix ms), lastPayloadErrorReason (S)
//	deliveries, events, errorEvents, duplicates, recordsRejected, ignored (N; kept with UpdateItem ADD)
//
//	logSeq, logErrSeq (N; the delivery log's sequences, log.go)
//
// The custom grouping rules of an org and env are one more item (rules.go), whose id
// ("rules\x1f<org>\x1f<env>") is never a drain id; so are the delivery log's slots (log.go,
// "log\x1f<drain>\x1f...").
//
// Times are kept to the millisecond. Reads are strongly consistent, so a revocation is seen
// by the next request. Every bookkeeping call is one UpdateItem, plus one small UpdateItem
// per delivery-log entry it carries.
package ddb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/pkg/drains"
)

// api is the part of the DynamoDB client the store uses.
type api interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

var _ api = (*dynamodb.Client)(nil)

// Store is a drains.Store over one DynamoDB table.
type Store struct {
	db    api
	table string
}

var _ drains.Store = (*Store)(nil)

// New returns a Store over table.
func New(client *dynamodb.Client, table string) *Store {
	return &Store{db: client, table: table}
}

// Attribute names.
const (
	attrID                 = "id"
	attrOrg                = "org"
	attrEnv                = "env"
	attrState              = "state"
	attrKeys               = "keys"
	attrDigest             = "digest"
	attrValidUntil         = "validUntil"
	attrCreatedAt          = "createdAt"
	attrRotatedAt          = "rotatedAt"
	attrRevokedAt          = "revokedAt"
	attrLastReceivedAt     = "lastReceivedAt"
	attrLastControlAt      = "lastControlAt"
	attrLastAuthErrorAt    = "lastAuthErrorAt"
	attrLastAuthReason     = "lastAuthErrorReason"
	attrLastPayloadErrorAt = "lastPayloadErrorAt"
	attrLastPayloadReason  = "lastPayloadErrorReason"
	attrDeliveries         = "deliveries"
	attrEvents             = "events"
	attrErrorEvents        = "errorEvents"
	attrDuplicates         = "duplicates"
	attrRecordsRejected    = "recordsRejected"
	attrIgnored            = "ignored"
	// The OTLP logs export's rejections (issue 10).
	attrLogsRejected           = "logsRejected"
	attrLastLogsRejectedAt     = "lastLogsRejectedAt"
	attrLastLogsRejectedReason = "lastLogsRejectedReason"
)

// CreateTable creates the drains table with the schema of the package doc (on-demand
// billing) and waits until it is active.
func CreateTable(ctx context.Context, client *dynamodb.Client, table string) error {
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(attrID), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(attrID), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		return fmt.Errorf("create drains table %q: %w", table, err)
	}
	w := dynamodb.NewTableExistsWaiter(client)
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 2*time.Minute); err != nil {
		return fmt.Errorf("wait for drains table %q: %w", table, err)
	}
	return nil
}

func key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrID: str(id)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func ms(t time.Time) types.AttributeValue { return num(t.UnixMilli()) }

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// Create stores a new drain; drains.ErrExists when the id is taken.
func (s *Store) Create(ctx context.Context, d drains.Drain) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.table),
		Item:                                marshal(d),
		ConditionExpression:                 aws.String("attribute_not_exists(#id)"),
		ExpressionAttributeNames:            map[string]string{"#id": attrID},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf) && sameFirstKey(ccf.Item, d):
		// The SDK retried a PutItem whose answer was lost after it had landed: the item
		// holds this very drain's key digest, which is random per drain.
		return nil
	case isConditionFailed(err):
		return fmt.Errorf("create drain %q: %w", d.ID, drains.ErrExists)
	case err != nil:
		return fmt.Errorf("create drain %q: %w", d.ID, err)
	}
	return nil
}

// sameFirstKey reports whether item is d as Create writes it (the same first key digest).
func sameFirstKey(item map[string]types.AttributeValue, d drains.Drain) bool {
	if item == nil || len(d.Keys) == 0 {
		return false
	}
	got, err := unmarshal(item)
	return err == nil && len(got.Keys) > 0 && got.Keys[0].Digest == d.Keys[0].Digest
}

// Get returns the drain (a strongly consistent read); drains.ErrNotFound when there is none.
func (s *Store) Get(ctx context.Context, id string) (drains.Drain, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(id),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return drains.Drain{}, fmt.Errorf("get drain %q: %w", id, err)
	}
	if out.Item == nil {
		return drains.Drain{}, fmt.Errorf("get drain %q: %w", id, drains.ErrNotFound)
	}
	d, err := unmarshal(out.Item)
	if err != nil {
		return drains.Drain{}, fmt.Errorf("get drain %q: %w", id, err)
	}
	return d, nil
}

// List returns every drain (a strongly consistent scan of every page), in no particular order.
func (s *Store) List(ctx context.Context) ([]drains.Drain, error) {
	var (
		out   []drains.Drain
		start map[string]types.AttributeValue
	)
	for {
		page, err := s.db.Scan(ctx, &dynamodb.ScanInput{
			TableName:         aws.String(s.table),
			ConsistentRead:    aws.Bool(true),
			ExclusiveStartKey: start,
		})
		if err != nil {
			return nil, fmt.Errorf("list drains: %w", err)
		}
		for _, item := range page.Items {
			if isSideItem(item) {
				continue
			}
			d, err := unmarshal(item)
			if err != nil {
				return nil, fmt.Errorf("list drains: %w", err)
			}
			out = append(out, d)
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		start = page.LastEvaluatedKey
	}
}

// SetKeys replaces the key digests of an active drain and sets RotatedAt, in one
// UpdateItem conditional on the drain being active; drains.ErrNotFound or drains.ErrRevoked.
func (s *Store) SetKeys(ctx context.Context, id string, keys []drains.Key, rotatedAt time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 key(id),
		UpdateExpression:    aws.String("SET #keys = :keys, #rotatedAt = :rotatedAt"),
		ConditionExpression: aws.String("attribute_exists(#id) AND #state = :active"),
		ExpressionAttributeNames: map[string]string{
			"#id": attrID, "#keys": attrKeys, "#rotatedAt": attrRotatedAt, "#state": attrState,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":keys": marshalKeys(keys), ":rotatedAt": ms(rotatedAt), ":active": str(drains.StateActive),
		},
	})
	if isConditionFailed(err) {
		// Missing or not active: tell which.
		if _, gerr := s.Get(ctx, id); gerr != nil {
			return fmt.Errorf("set keys of drain %q: %w", id, gerr)
		}
		return fmt.Errorf("set keys of drain %q: %w", id, drains.ErrRevoked)
	}
	if err != nil {
		return fmt.Errorf("set keys of drain %q: %w", id, err)
	}
	return nil
}

// Revoke marks the drain revoked. It is idempotent: a second call keeps the first
// revocation time. drains.ErrNotFound when there is none.
func (s *Store) Revoke(ctx context.Context, id string, at time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      key(id),
		UpdateExpression:         aws.String("SET #state = :revoked, #revokedAt = if_not_exists(#revokedAt, :at)"),
		ConditionExpression:      aws.String("attribute_exists(#id)"),
		ExpressionAttributeNames: map[string]string{"#id": attrID, "#state": attrState, "#revokedAt": attrRevokedAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":revoked": str(drains.StateRevoked), ":at": ms(at),
		},
	})
	switch {
	case isConditionFailed(err):
		return fmt.Errorf("revoke drain %q: %w", id, drains.ErrNotFound)
	case err != nil:
		return fmt.Errorf("revoke drain %q: %w", id, err)
	}
	return nil
}

// RecordDelivery applies one delivery's bookkeeping in one UpdateItem: counters with ADD,
// the times and the payload error with SET, conditional on the drain existing (a condition
// failure is a missing drain, which is not an error and writes nothing).
func (s *Store) RecordDelivery(ctx context.Context, id string, d drains.Delivery) error {
	names := map[string]string{
		"#id": attrID, "#deliveries": attrDeliveries, "#events": attrEvents, "#errorEvents": attrErrorEvents,
		"#duplicates": attrDuplicates, "#recordsRejected": attrRecordsRejected,
		"#logsRejected": attrLogsRejected,
	}
	values := map[string]types.AttributeValue{
		":deliveries": num(d.Counters.Deliveries), ":events": num(d.Counters.Events),
		":errorEvents": num(d.Counters.ErrorEvents), ":duplicates": num(d.Counters.Duplicates),
		":recordsRejected": num(d.Counters.RecordsRejected),
		":logsRejected":    num(d.Counters.LogsRejected),
	}
	add := []string{
		"#deliveries :deliveries", "#events :events", "#errorEvents :errorEvents",
		"#duplicates :duplicates", "#recordsRejected :recordsRejected", "#logsRejected :logsRejected",
	}
	if d.Counters.Ignored != 0 {
		names["#ignored"], values[":ignored"] = attrIgnored, num(d.Counters.Ignored)
		add = append(add, "#ignored :ignored")
	}
	var set []string
	nLog, nLogErr := logClauses(d, names, values, &add)
	if err := sourceUpdate(d, names, values, &add, &set); err != nil {
		return fmt.Errorf("record delivery on drain %q: %w", id, err)
	}
	expr := "ADD " + strings.Join(add, ", ")
	if d.Data {
		names["#lastReceivedAt"] = attrLastReceivedAt
		values[":at"] = ms(d.At)
		set = append(set, "#lastReceivedAt = :at")
	}
	if d.Control {
		names["#lastControlAt"] = attrLastControlAt
		values[":at"] = ms(d.At)
		set = append(set, "#lastControlAt = :at")
	}
	if n := d.PayloadError; n != nil {
		names["#payloadAt"], names["#payloadReason"] = attrLastPayloadErrorAt, attrLastPayloadReason
		values[":payloadAt"], values[":payloadReason"] = ms(n.At), str(n.Reason)
		set = append(set, "#payloadAt = :payloadAt", "#payloadReason = :payloadReason")
	}
	if n := d.LogsRejected; n != nil {
		names["#logsRejectedAt"], names["#logsRejectedReason"] = attrLastLogsRejectedAt, attrLastLogsRejectedReason
		values[":logsRejectedAt"], values[":logsRejectedReason"] = ms(n.At), str(n.Reason)
		set = append(set, "#logsRejectedAt = :logsRejectedAt", "#logsRejectedReason = :logsRejectedReason")
	}
	if len(set) > 0 {
		expr += " SET " + strings.Join(set, ", ")
	}
	in := &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(id),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("attribute_exists(#id)"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}
	if nLog > 0 {
		in.ReturnValues = types.ReturnValueUpdatedNew // the log's sequences (log.go)
	}
	out, err := s.db.UpdateItem(ctx, in)
	switch {
	case isConditionFailed(err):
		return nil // no such drain: nothing to book, nothing to log
	case err != nil:
		return fmt.Errorf("record delivery on drain %q: %w", id, err)
	case nLog > 0:
		if err := s.writeLog(ctx, id, d.Log, out.Attributes, nLog, nLogErr); err != nil {
			return fmt.Errorf("record delivery on drain %q: %w", id, err)
		}
	}
	return nil
}

// RecordAuthFailure sets the latest auth error in one conditional UpdateItem, unless the
// stored one is newer than n.At - minInterval. It reports whether it wrote; a missing drain
// is not an error and writes nothing.
func (s *Store) RecordAuthFailure(ctx context.Context, id string, n drains.Note, minInterval time.Duration) (bool, error) {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(s.table),
		Key:              key(id),
		UpdateExpression: aws.String("SET #at = :at, #reason = :reason"),
		ConditionExpression: aws.String(
			"attribute_exists(#id) AND (attribute_not_exists(#at) OR #at <= :cutoff)"),
		ExpressionAttributeNames: map[string]string{"#id": attrID, "#at": attrLastAuthErrorAt, "#reason": attrLastAuthReason},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at": ms(n.At), ":reason": str(n.Reason), ":cutoff": ms(n.At.Add(-minInterval)),
		},
	})
	switch {
	case isConditionFailed(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("record auth failure on drain %q: %w", id, err)
	}
	return true, nil
}
