// Package ddb keeps problems in a DynamoDB table: the problems.Store of the deployed stack.
//
// Table schema (fixed; template.yaml creates the same): hash key `pk` (S), no range key;
// TTL attribute `expires_at` (N, unix seconds); global secondary indexes, projection ALL:
// `byScope` (hash `scope` S, range `lastSeen` N, unix ms), `byLastSeen` (hash `kind` S,
// range `lastSeen` N) and `byProblem` (hash `of` S, range `sk` S), the last two read by
// the console (query.go lists the attributes it reads). Three kinds of item:
//
//	problem#<problem id>     id, scope ("<org>/<env>", each part path-escaped so that a "/" in
//	                         an org cannot make two scopes meet), org, env, fingerprint, title,
//	                         culprit, level, count (N), firstSeen and lastSeen (N, unix ms),
//	                         logGroups (SS), sample (S, the problems.Sample as JSON)
//	occurrence#<identity>    problem (S), at (N, unix ms), expires_at (N, unix seconds)
//	hour#<id>#<hour ms>      the problem's count in that hour (query.go)
//
// Occurrence items carry no scope, so the byScope index holds problems only. They expire
// OccurrenceTTL after they are written, long after SQS has given up on a message.
//
// # RecordBatch: one write per problem per batch, counted exactly once
//
// A batch's occurrences are grouped by problem (problems.PlanBatch). One BatchGetItem
// (strongly consistent, 100 problems a request) reads every problem's firstSeen and
// lastSeen; then each problem is written by ONE TransactWriteItems per OccurrencesPerWrite
// new occurrences, different problems in parallel (DefaultParallel). While the read is
// out, each problem's writer drafts the parts of its first transaction that the answer
// cannot change. A transaction holds
//
//   - a Put of occurrence#<identity> if attribute_not_exists(pk), for each occurrence;
//   - one Update of the problem: ADD count n (the transaction's occurrences), ADD the log
//     groups and the affected counters (query.go); SET lastSeen and the newest occurrence's title, culprit, level and sample
//     when the batch's newest time is at or past lastSeen, SET firstSeen when its oldest is
//     before firstSeen; under the condition that the problem is as read (absent, or
//     lastSeen <= / > the batch's newest, firstSeen > / <= its oldest);
//   - one unconditional ADD to the problem's hour item per hour the occurrences fall in, so
//     a transaction carries at most 100 - 1 - hours occurrences.
//
// DynamoDB has no max() or min() in an update expression; reading the times first lets the
// write say which of them moves, so an out-of-order event costs no cancelled transaction.
// Only a concurrent writer that moved the times between the read and the write cancels
// one (ConditionalCheckFailed on the problem): the cancellation carries the item as it is
// now (ALL_OLD) and the next attempt is built from it. Either the whole transaction applies
// or none of it, so
//
//   - the count moves by exactly the number of identities the same transaction stores;
//     occurrences already recorded (a redelivery) fail their condition and cancel the
//     transaction, which is retried without exactly those (they are reported Recorded
//     false); a crash or a lost answer at any point leaves each occurrence counted or not,
//     never half, and SQS redelivery heals the "not";
//   - firstSeen/lastSeen/sample are exact whatever the arrival order and concurrency.
//
// The transactions' JSON is written by the package (wire.go), not by the SDK's serializer:
// the same members, at half its cost, and the actions a draft holds are encoded while the
// problems are read, so that less CPU sits between the read's answer and the write.
//
// TransactionConflict and throttling reasons are retried with jittered backoff within ctx,
// at most maxAttempts times, as are problem conditions that failed; after that the
// occurrences of that transaction fail (the grouper names their messages) and SQS brings
// them back, which changes no count either.
//
// Sample messages are kept up to MaxSampleMessage bytes and MaxSampleFrames frames so a
// problem item stays far below DynamoDB's 400 KB item limit.
package ddb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/pkg/problems"
)

// Limits and lifetimes.
const (
	// OccurrenceTTL is how long an occurrence item (the exactly-once marker) lives: longer
	// than the longest SQS retention (14 days), so no message can come back after its marker
	// is gone.
	OccurrenceTTL = 15 * 24 * time.Hour
	// MaxSampleMessage is the longest sample message kept, in bytes (cut on a rune boundary).
	MaxSampleMessage = 64 << 10
	// MaxSampleFrames is the most sample frames kept.
	MaxSampleFrames = 200
	// ScopeIndex is the global secondary index of problems by scope, newest lastSeen last.
	ScopeIndex = "byScope"
)

// Attribute names.
const (
	attrPK          = "pk"
	attrExpiresAt   = "expires_at"
	attrScope       = "scope"
	attrID          = "id"
	attrOrg         = "org"
	attrEnv         = "env"
	attrFingerprint = "fingerprint"
	attrTitle       = "title"
	attrCulprit     = "culprit"
	attrLevel       = "level"
	attrCount       = "count"
	attrFirstSeen   = "firstSeen"
	attrLastSeen    = "lastSeen"
	attrLogGroups   = "logGroups"
	attrSample      = "sample"
	attrProblem     = "problem"
	attrAt          = "at"
	// What the console reads (see query.go).
	attrKind      = "kind"
	attrSearch    = "search"
	attrOf        = "of"
	attrSK        = "sk"
	attrAccount   = "account"
	attrRegion    = "region"
	attrLogGroup  = "logGroup"
	attrLogStream = "logStream"
	attrEventID   = "eventId"
	attrRequestID = "requestId"
	attrHour      = "hour"

	problemPrefix    = "problem#"
	occurrencePrefix = "occurrence#"
)

// API is the part of the DynamoDB client the store uses (a *dynamodb.Client, or a
// simulation of DynamoDB in tests).
type API = api

// api is the part of the DynamoDB client the store uses.
type api interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

var _ api = (*dynamodb.Client)(nil)

// Store is a problems.Store over one DynamoDB table.
type Store struct {
	db       api
	table    string
	now      func() time.Time
	parallel int
	wait     func(ctx context.Context, d time.Duration) error
	// cache: WithSeenCache (nil: every batch reads its problems first).
	cache *seenCache
	// prefetched: the reads Prefetch started, by problem id.
	prefetched prefetches
}

// Options tune a Store made by NewFromAPI. Zero values take the defaults.
type Options struct {
	// Now is the clock of occurrence expiry times. Default time.Now.
	Now func() time.Time
	// Parallel is how many problems RecordBatch writes at once. Default DefaultParallel.
	Parallel int
	// Sleep waits d before a retry, or until ctx ends. Default a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// NewFromAPI returns a Store over table through db, tuned by o: for simulations of
// DynamoDB that run on a virtual clock.
func NewFromAPI(db API, table string, o Options) *Store {
	s := &Store{db: db, table: table, now: o.Now, parallel: o.Parallel, wait: o.Sleep}
	if s.now == nil {
		s.now = time.Now
	}
	if s.parallel <= 0 {
		s.parallel = DefaultParallel
	}
	return s
}

var _ problems.Store = (*Store)(nil)

// New returns a Store over table.
func New(client *dynamodb.Client, table string) *Store {
	return &Store{db: client, table: table, now: time.Now, parallel: DefaultParallel}
}

// WithClock sets the clock the lifecycle is decided at (default time.Now) and returns s.
func (s *Store) WithClock(now func() time.Time) *Store {
	s.now = now
	return s
}

// CreateTable creates the problems table with the schema of the package doc (on-demand
// billing), waits until it is active and turns on TTL over expires_at.
func CreateTable(ctx context.Context, client *dynamodb.Client, table string) error {
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrScope), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrLastSeen), AttributeType: types.ScalarAttributeTypeN},
			{AttributeName: aws.String(attrKind), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrOf), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrSK), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(ScopeIndex),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(attrScope), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(attrLastSeen), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}, {
			IndexName: aws.String(LastSeenIndex),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(attrKind), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(attrLastSeen), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}, {
			IndexName: aws.String(ProblemIndex),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(attrOf), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	})
	if err != nil {
		return fmt.Errorf("create problems table %q: %w", table, err)
	}
	w := dynamodb.NewTableExistsWaiter(client)
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 2*time.Minute); err != nil {
		return fmt.Errorf("wait for problems table %q: %w", table, err)
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(attrExpiresAt),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("enable TTL on problems table %q: %w", table, err)
	}
	return nil
}

// Scope is the byScope hash key of an org and env.
func Scope(org, env string) string {
	return url.PathEscape(org) + "/" + url.PathEscape(env)
}

type cancelReason struct {
	code string
	item map[string]types.AttributeValue
}

func reason(tce *types.TransactionCanceledException, i int) cancelReason {
	if i >= len(tce.CancellationReasons) {
		return cancelReason{}
	}
	r := tce.CancellationReasons[i]
	return cancelReason{code: aws.ToString(r.Code), item: r.Item}
}

// List returns the problems of an org and env, most recent lastSeen first: a Query of the
// byScope index (eventually consistent, as every index read is). With org and env both
// empty it returns every problem: a Scan of the table, sorted here.
func (s *Store) List(ctx context.Context, org, env string) ([]problems.Problem, error) {
	if org == "" && env == "" {
		return s.listAll(ctx)
	}
	var (
		out   []problems.Problem
		start map[string]types.AttributeValue
	)
	for {
		page, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(s.table),
			IndexName:                 aws.String(ScopeIndex),
			KeyConditionExpression:    aws.String("#scope = :scope"),
			ExpressionAttributeNames:  map[string]string{"#scope": attrScope},
			ExpressionAttributeValues: map[string]types.AttributeValue{":scope": str(Scope(org, env))},
			ScanIndexForward:          aws.Bool(false),
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return nil, fmt.Errorf("list problems of %s/%s: %w", org, env, err)
		}
		for _, item := range page.Items {
			p, err := unmarshal(item)
			if err != nil {
				return nil, fmt.Errorf("list problems of %s/%s: %w", org, env, err)
			}
			p.Hourly = nil // Get has them
			out = append(out, p)
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		start = page.LastEvaluatedKey
	}
}

func (s *Store) listAll(ctx context.Context) ([]problems.Problem, error) {
	var (
		out   []problems.Problem
		start map[string]types.AttributeValue
	)
	for {
		page, err := s.db.Scan(ctx, &dynamodb.ScanInput{
			TableName:                 aws.String(s.table),
			FilterExpression:          aws.String("begins_with(#pk, :prefix)"),
			ExpressionAttributeNames:  map[string]string{"#pk": attrPK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":prefix": str(problemPrefix)},
			ConsistentRead:            aws.Bool(true),
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return nil, fmt.Errorf("list all problems: %w", err)
		}
		for _, item := range page.Items {
			p, err := unmarshal(item)
			if err != nil {
				return nil, fmt.Errorf("list all problems: %w", err)
			}
			p.Hourly = nil // Get has them
			out = append(out, p)
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		start = page.LastEvaluatedKey
	}
	slices.SortStableFunc(out, func(a, b problems.Problem) int {
		if c := b.LastSeen.Compare(a.LastSeen); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Get returns one problem (a strongly consistent read); problems.ErrNotFound when there is none.
func (s *Store) Get(ctx context.Context, id string) (problems.Problem, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            map[string]types.AttributeValue{attrPK: str(problemPrefix + id)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return problems.Problem{}, fmt.Errorf("get problem %s: %w", id, err)
	}
	if out.Item == nil {
		return problems.Problem{}, fmt.Errorf("get problem %s: %w", id, problems.ErrNotFound)
	}
	p, err := unmarshal(out.Item)
	if err != nil {
		return problems.Problem{}, fmt.Errorf("get problem %s: %w", id, err)
	}
	return p, nil
}

// trimSample cuts a sample to the kept limits.
func trimSample(s problems.Sample) problems.Sample {
	if len(s.Message) > MaxSampleMessage {
		cut := MaxSampleMessage
		for cut > 0 && !utf8.RuneStart(s.Message[cut]) {
			cut--
		}
		s.Message = s.Message[:cut]
	}
	if len(s.Frames) > MaxSampleFrames {
		s.Frames = s.Frames[:MaxSampleFrames]
	}
	return s
}

// backoff is the full-jitter wait before conflict retry n (1-based): up to 10ms·2^n, at most 1s.
func backoff(n int) time.Duration {
	ceil := min(10*time.Millisecond<<n, time.Second)
	return rand.N(ceil) + time.Millisecond
}

// sleep waits d, with the Store's Sleep when it has one.
func (s *Store) sleep(ctx context.Context, d time.Duration) error {
	if s.wait != nil {
		return s.wait(ctx, d)
	}
	return sleep(ctx, d)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
