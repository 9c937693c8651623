// Package ddb keeps problems in a DynamoDB table: the problems.Store of the deployed stack.
//
// Table schema (fixed; template.yaml creates the same): hash key `pk` (S), no range key;
// TTL attribute `expires_at` (N, unix seconds); global secondary indexes, projection ALL:
// `byScope` (hash `scope` S, range `lastSeen` N, unix ms), `byLastSeen` (hash `kind` S,
// range `lastSeen` N) and `byProblem` (hash `of` S, range `sk` S), the last two read by
// the console (query.go, which also lists the attributes the console reads). Three kinds of
// item:
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
// # Record: one transaction, counted exactly once
//
// DynamoDB has no max() or min() in an update expression, so Record compares the
// occurrence's time t with the problem's [firstSeen, lastSeen] through the transaction's
// condition instead. The three cases partition every state of the problem:
//
//	newest:  no problem yet, or lastSeen <= t  -> SET lastSeen, sample, level, title, culprit = the
//	                                              occurrence's; firstSeen = if_not_exists(firstSeen, t)
//	inside:  firstSeen <= t < lastSeen         -> times untouched
//	oldest:  t < firstSeen                     -> SET firstSeen = t
//
// and each of them also ADDs 1 to count, to the affected counters and the log group to
// logGroups. Every attempt is ONE TransactWriteItems of three writes: Put
// occurrence#<identity> if attribute_not_exists(pk), the Update of the problem under its
// case's condition, and the unconditional ADD to its hour item. All are applied or none, so
//
//   - the count moves by exactly one in the very transaction that stores the identity: a
//     redelivery finds the occurrence and cancels the whole transaction (Record reports
//     false, nil, and nothing changes); a cancelled attempt writes nothing, so retrying it
//     cannot double-count; there is no window between "counted" and "remembered", so a
//     crash at any point leaves either nothing or everything, and SQS redelivery heals the
//     nothing;
//   - firstSeen/lastSeen/sample are exact whatever the arrival order and concurrency: an
//     attempt only applies while its case holds, and a failed problem condition moves to the
//     case the current item is in (read from the cancellation's ALL_OLD item). lastSeen only
//     grows and firstSeen only shrinks, so a case once ruled out stays ruled out except that
//     "oldest" can turn into "inside": at most four attempts (newest, inside, oldest, inside).
//
// A TransactionConflict (another transaction on the same item) is retried with jittered
// backoff within ctx, a bounded number of times; after that Record returns an error and the
// message goes back to SQS, which changes no count either.
//
// Sample messages are kept up to MaxSampleMessage bytes and MaxSampleFrames frames so a
// problem item stays far below DynamoDB's 400 KB item limit.
package ddb

import (
	"context"
	"encoding/json"
	"errors"
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

	"github.com/aient/firehose-drain/internal/ddbitem"
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
	// maxConflicts is how many TransactionConflict cancellations Record retries.
	maxConflicts = 8
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

// api is the part of the DynamoDB client the store uses.
type api interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ api = (*dynamodb.Client)(nil)

// Store is a problems.Store over one DynamoDB table.
type Store struct {
	db    api
	table string
	now   func() time.Time
}

var _ problems.Store = (*Store)(nil)

// New returns a Store over table.
func New(client *dynamodb.Client, table string) *Store {
	return &Store{db: client, table: table, now: time.Now}
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

// timeCase is where an occurrence's time falls against the problem's [firstSeen, lastSeen].
type timeCase int

const (
	caseNewest timeCase = iota // no problem yet, or lastSeen <= t
	caseInside                 // firstSeen <= t < lastSeen
	caseOldest                 // t < firstSeen
)

func (c timeCase) String() string {
	return [...]string{"newest", "inside", "oldest"}[c]
}

// Record counts the occurrence exactly once per o.Identity, in one transaction per attempt
// (see the package doc). It reports false, nil for an identity already recorded.
func (s *Store) Record(ctx context.Context, o problems.Occurrence) (bool, error) {
	if o.Identity == "" {
		return false, errors.New("record occurrence: empty identity")
	}
	id := problems.ID(o.Org, o.Env, o.Fingerprint)
	sample, err := json.Marshal(trimSample(o.Sample))
	if err != nil {
		return false, fmt.Errorf("record occurrence of problem %s: encode sample: %w", id, err)
	}
	t := o.At.UnixMilli()
	occItem := map[string]types.AttributeValue{
		attrPK:        str(occurrencePrefix + o.Identity),
		attrProblem:   str(id),
		attrAt:        num(t),
		attrExpiresAt: num(s.now().Add(OccurrenceTTL).Unix()),
		// In the byProblem index: a problem's occurrences, newest last.
		attrOf: str(id),
		attrSK: str(occurrenceSK(t, o.Identity)),
	}
	for a, v := range map[string]string{
		attrAccount: o.Sample.Account, attrRegion: o.Sample.Region, attrLogGroup: o.Sample.LogGroup,
		attrLogStream: o.Sample.LogStream, attrEventID: o.Sample.EventID, attrRequestID: o.Sample.RequestID,
	} {
		if v != "" {
			occItem[a] = str(v)
		}
	}
	put := &types.Put{
		TableName:                aws.String(s.table),
		Item:                     occItem,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
	}
	hour := s.hourUpdate(id, t)

	c, moves, conflicts := caseNewest, 0, 0
	for {
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			TransactItems: []types.TransactWriteItem{
				{Put: put},
				{Update: s.problemUpdate(id, o, t, string(sample), c)},
				{Update: hour},
			},
		})
		if err == nil {
			return true, nil
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			return false, fmt.Errorf("record occurrence of problem %s: %w", id, err)
		}
		occ, prob := reason(tce, 0), reason(tce, 1)
		switch {
		case occ.code == "ConditionalCheckFailed":
			return false, nil // a redelivery: the identity is already counted
		case prob.code == "ConditionalCheckFailed":
			// The problem is in another case than c; lastSeen only grows and firstSeen only
			// shrinks, so a well-formed item needs at most three moves.
			if moves++; moves > 3 {
				return false, fmt.Errorf("record occurrence of problem %s: the problem item fits no case (no firstSeen/lastSeen?): %w", id, err)
			}
			c = nextCase(c, t, prob.item)
		case occ.code == "TransactionConflict" || prob.code == "TransactionConflict" || reason(tce, 2).code == "TransactionConflict":
			conflicts++
			if conflicts > maxConflicts {
				return false, fmt.Errorf("record occurrence of problem %s: still conflicting after %d attempts: %w", id, conflicts, err)
			}
			if err := sleep(ctx, backoff(conflicts)); err != nil {
				return false, fmt.Errorf("record occurrence of problem %s: %w", id, err)
			}
		default:
			return false, fmt.Errorf("record occurrence of problem %s (%s case): %w", id, c, err)
		}
	}
}

// nextCase is the case to try after the problem's condition failed under c. With the item
// as it was (ALL_OLD) the case is read off it; without it the cases are walked in the order
// the monotone times allow.
func nextCase(c timeCase, t int64, old map[string]types.AttributeValue) timeCase {
	if old != nil {
		r := ddbitem.Reader{Item: old}
		first, last := r.RequiredNum(attrFirstSeen), r.RequiredNum(attrLastSeen)
		if r.Err() == nil {
			switch {
			case last <= t:
				return caseNewest
			case first <= t:
				return caseInside
			default:
				return caseOldest
			}
		}
	}
	if c == caseInside {
		return caseOldest
	}
	return caseInside
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

// problemUpdate is the conditional update of the problem item for case c.
func (s *Store) problemUpdate(id string, o problems.Occurrence, t int64, sample string, c timeCase) *types.Update {
	names := map[string]string{"#count": attrCount}
	values := map[string]types.AttributeValue{":one": num(1), ":t": num(t)}
	add := []string{"#count :one"}
	if o.Sample.LogGroup != "" {
		names["#logGroups"] = attrLogGroups
		values[":group"] = &types.AttributeValueMemberSS{Value: []string{o.Sample.LogGroup}}
		add = append(add, "#logGroups :group")
	}
	// Counts by account, region and log group: one top-level attribute each (see query.go).
	for i, a := range [...]struct{ kind, value string }{
		{affectedAccount, o.Sample.Account}, {affectedRegion, o.Sample.Region}, {affectedLogGroup, o.Sample.LogGroup},
	} {
		if a.value != "" {
			n := fmt.Sprintf("#aff%d", i)
			names[n] = affectedAttr(a.kind, a.value)
			add = append(add, n+" :one")
		}
	}
	var set []string
	var cond string
	switch c {
	case caseNewest:
		for n, a := range map[string]string{
			"#pk": attrPK, "#lastSeen": attrLastSeen, "#firstSeen": attrFirstSeen, "#id": attrID,
			"#scope": attrScope, "#org": attrOrg, "#env": attrEnv, "#fingerprint": attrFingerprint,
			"#title": attrTitle, "#culprit": attrCulprit, "#level": attrLevel, "#sample": attrSample,
			"#kind": attrKind, "#search": attrSearch,
		} {
			names[n] = a
		}
		values[":id"], values[":scope"] = str(id), str(Scope(o.Org, o.Env))
		values[":org"], values[":env"], values[":fingerprint"] = str(o.Org), str(o.Env), str(o.Fingerprint)
		values[":title"], values[":culprit"], values[":level"] = str(o.Title), str(o.Culprit), str(o.Level)
		values[":sample"] = str(sample)
		values[":kind"], values[":search"] = str(kindProblem), str(searchText(o.Title, o.Culprit, o.Sample.Message))
		set = []string{
			"#kind = :kind", "#search = :search",
			"#lastSeen = :t", "#firstSeen = if_not_exists(#firstSeen, :t)",
			"#id = :id", "#scope = :scope", "#org = :org", "#env = :env", "#fingerprint = :fingerprint",
			"#title = :title", "#culprit = :culprit", "#level = :level", "#sample = :sample",
		}
		cond = "attribute_not_exists(#pk) OR #lastSeen <= :t"
	case caseInside:
		names["#firstSeen"], names["#lastSeen"] = attrFirstSeen, attrLastSeen
		cond = "#firstSeen <= :t AND #lastSeen > :t"
	case caseOldest:
		names["#firstSeen"] = attrFirstSeen
		set = []string{"#firstSeen = :t"}
		cond = "#firstSeen > :t"
	}
	expr := "ADD " + strings.Join(add, ", ")
	if len(set) > 0 {
		expr += " SET " + strings.Join(set, ", ")
	}
	return &types.Update{
		TableName:                           aws.String(s.table),
		Key:                                 map[string]types.AttributeValue{attrPK: str(problemPrefix + id)},
		UpdateExpression:                    aws.String(expr),
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
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
