package ddb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/pkg/problems"
)

// scripted answers BatchGetItem from a fixed problem state and TransactWriteItems from a
// script, and remembers what each transaction sent. Its other methods are not used by
// RecordBatch.
type scripted struct {
	api
	// items are the problem items BatchGetItem returns; unprocessed is how many times it
	// answers with every key unprocessed first; getErr fails it.
	items       []map[string]types.AttributeValue
	unprocessed int
	getErr      error
	gets        int

	answers []error
	sent    []sentTxn
}

type sentTxn struct {
	puts  int
	count string // the :n the problem update adds
	cond  string
}

func (s *scripted) BatchGetItem(_ context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	s.gets++
	if s.getErr != nil {
		return nil, s.getErr
	}
	if s.unprocessed > 0 {
		s.unprocessed--
		return &dynamodb.BatchGetItemOutput{UnprocessedKeys: in.RequestItems}, nil
	}
	var table string
	for t := range in.RequestItems {
		table = t
	}
	return &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{table: s.items}}, nil
}

func (s *scripted) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	// The occurrence puts, the problem's update (the first Update), its hour items'
	// updates, and the lifecycle's notice put when the write alerts; the lifecycle's own
	// condition (last, in parentheses) is not what these cases are about.
	var (
		puts int
		prob *types.Update
	)
	for _, it := range in.TransactItems {
		switch {
		case it.Put != nil && strings.HasPrefix(stringAttr(it.Put.Item[attrPK]), occurrencePrefix):
			puts++
		case it.Update != nil && prob == nil:
			prob = it.Update
		}
	}
	n, _ := prob.ExpressionAttributeValues[":n"].(*types.AttributeValueMemberN)
	cond, _, _ := strings.Cut(aws.ToString(prob.ConditionExpression), " AND (")
	s.sent = append(s.sent, sentTxn{puts: puts, count: n.Value, cond: cond})
	if len(s.answers) == 0 {
		return nil, errors.New("script exhausted")
	}
	err := s.answers[0]
	s.answers = s.answers[1:]
	return &dynamodb.TransactWriteItemsOutput{}, err
}

// cancelled is a cancellation with one reason per occurrence put (occs) and the problem's.
func cancelled(occs []string, prob string, old map[string]types.AttributeValue) error {
	var rs []types.CancellationReason
	for _, c := range occs {
		rs = append(rs, types.CancellationReason{Code: aws.String(c)})
	}
	rs = append(rs, types.CancellationReason{Code: aws.String(prob), Item: old})
	return &types.TransactionCanceledException{Message: aws.String("Transaction cancelled"), CancellationReasons: rs}
}

func problemItem(first, last int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(problemPrefix + problems.ID("o", "e", "f")), attrFirstSeen: num(first), attrLastSeen: num(last)}
}

const (
	condNew         = "attribute_not_exists(#pk)"
	condNewest      = "attribute_exists(#pk) AND #lastSeen <= :lastSeen AND #firstSeen <= :first"
	condNewestOlder = "attribute_exists(#pk) AND #lastSeen <= :lastSeen AND #firstSeen > :firstSeen"
	condInside      = "attribute_exists(#pk) AND #lastSeen > :last AND #firstSeen <= :first"
	condOldest      = "attribute_exists(#pk) AND #lastSeen > :last AND #firstSeen > :firstSeen"
)

// occAt is an occurrence of one problem at ms.
func occAt(id string, ms int64) problems.Occurrence {
	return problems.Occurrence{Identity: id, Org: "o", Env: "e", Fingerprint: "f", At: time.UnixMilli(ms)}
}

// threeOccurrences is the batch the scripted-transaction tests record (out of time order),
// and the cancellation reasons of a transaction none of whose occurrences existed.
func threeOccurrences() ([]problems.Occurrence, []string) {
	return []problems.Occurrence{occAt("id-1", 5000), occAt("id-2", 6000), occAt("id-3", 4000)}, []string{"None", "None", "None"}
}

func TestRecordBatchWrites(t *testing.T) {
	three, none := threeOccurrences()
	cases := []struct {
		name    string
		db      scripted
		occs    []problems.Occurrence
		want    []problems.Result // Err: only whether there is one
		wantErr string
		sent    []sentTxn
	}{
		{
			name: "a new problem is one transaction carrying the count",
			db:   scripted{answers: []error{nil}}, occs: three,
			want: []problems.Result{{Recorded: true}, {Recorded: true}, {Recorded: true}},
			sent: []sentTxn{{3, "3", condNew}},
		},
		{
			name: "occurrences inside the read times need no time condition to move",
			db:   scripted{items: []map[string]types.AttributeValue{problemItem(1000, 9000)}, answers: []error{nil}}, occs: three,
			want: []problems.Result{{Recorded: true}, {Recorded: true}, {Recorded: true}},
			sent: []sentTxn{{3, "3", condInside}},
		},
		{
			name: "a batch older than firstSeen moves firstSeen only",
			db:   scripted{items: []map[string]types.AttributeValue{problemItem(4500, 9000)}, answers: []error{nil}}, occs: three,
			want: []problems.Result{{Recorded: true}, {Recorded: true}, {Recorded: true}},
			sent: []sentTxn{{3, "3", condOldest}},
		},
		{
			name: "a batch past both ends moves both",
			db:   scripted{items: []map[string]types.AttributeValue{problemItem(4500, 5500)}, answers: []error{nil}}, occs: three,
			want: []problems.Result{{Recorded: true}, {Recorded: true}, {Recorded: true}},
			sent: []sentTxn{{3, "3", condNewestOlder}},
		},
		{
			name: "a batch at or past lastSeen is the newest",
			db:   scripted{items: []map[string]types.AttributeValue{problemItem(1000, 6000)}, answers: []error{nil}}, occs: three,
			want: []problems.Result{{Recorded: true}, {Recorded: true}, {Recorded: true}},
			sent: []sentTxn{{3, "3", condNewest}},
		},
		{
			name: "unprocessed keys are read again",
			db:   scripted{unprocessed: 2, items: []map[string]types.AttributeValue{problemItem(1000, 9000)}, answers: []error{nil}}, occs: three,
			want: []problems.Result{{Recorded: true}, {Recorded: true}, {Recorded: true}},
			sent: []sentTxn{{3, "3", condInside}},
		},
		{
			name: "a failed read is a guess the cancellation corrects",
			db: scripted{getErr: errors.New("throttled"), answers: []error{
				cancelled(none, "ConditionalCheckFailed", problemItem(1000, 9000)), nil,
			}}, occs: three,
			want: []problems.Result{{Recorded: true}, {Recorded: true}, {Recorded: true}},
			sent: []sentTxn{{3, "3", condNew}, {3, "3", condInside}},
		},
		{
			name: "a redelivered batch is one cancelled transaction and nothing recorded",
			db: scripted{items: []map[string]types.AttributeValue{problemItem(1000, 9000)}, answers: []error{
				cancelled([]string{"ConditionalCheckFailed", "ConditionalCheckFailed", "ConditionalCheckFailed"}, "None", nil),
			}}, occs: three,
			want: []problems.Result{{}, {}, {}},
			sent: []sentTxn{{3, "3", condInside}},
		},
		{
			name: "a partly redelivered batch is retried without exactly the recorded ones",
			db: scripted{items: []map[string]types.AttributeValue{problemItem(1000, 9000)}, answers: []error{
				cancelled([]string{"None", "ConditionalCheckFailed", "None"}, "None", nil), nil,
			}}, occs: three,
			want: []problems.Result{{Recorded: true}, {}, {Recorded: true}},
			sent: []sentTxn{{3, "3", condInside}, {2, "2", condInside}},
		},
		{
			name: "a problem a concurrent writer moved is written as it now is",
			db: scripted{items: []map[string]types.AttributeValue{problemItem(1000, 5500)}, answers: []error{
				cancelled(none, "ConditionalCheckFailed", problemItem(1000, 7000)), nil,
			}}, occs: three,
			want: []problems.Result{{Recorded: true}, {Recorded: true}, {Recorded: true}},
			sent: []sentTxn{{3, "3", condNewest}, {3, "3", condInside}},
		},
		{
			name: "conflicts are retried as they were",
			db: scripted{answers: []error{
				cancelled(none, "TransactionConflict", nil), cancelled([]string{"TransactionConflict", "None", "None"}, "None", nil), nil,
			}}, occs: three,
			want: []problems.Result{{Recorded: true}, {Recorded: true}, {Recorded: true}},
			sent: []sentTxn{{3, "3", condNew}, {3, "3", condNew}, {3, "3", condNew}},
		},
		{
			name: "a problem item without times is an error, not a loop",
			db: scripted{answers: []error{
				cancelled(none, "ConditionalCheckFailed", map[string]types.AttributeValue{attrPK: str("problem#x")}),
			}}, occs: three,
			want: []problems.Result{{Err: errors.New("")}, {Err: errors.New("")}, {Err: errors.New("")}}, wantErr: "no firstSeen",
			sent: []sentTxn{{3, "3", condNew}},
		},
		{
			name: "another cancellation reason fails the transaction's occurrences",
			db:   scripted{answers: []error{cancelled(none, "ValidationError", nil)}}, occs: three,
			want: []problems.Result{{Err: errors.New("")}, {Err: errors.New("")}, {Err: errors.New("")}}, wantErr: "ValidationError",
			sent: []sentTxn{{3, "3", condNew}},
		},
		{
			name: "a plain error fails the transaction's occurrences",
			db:   scripted{answers: []error{errors.New("connection reset")}}, occs: three,
			want: []problems.Result{{Err: errors.New("")}, {Err: errors.New("")}, {Err: errors.New("")}}, wantErr: "connection reset",
			sent: []sentTxn{{3, "3", condNew}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := c.db
			s := &Store{db: &db, table: "t", now: time.Now, parallel: 1}
			got := s.RecordBatch(t.Context(), c.occs)
			for i, r := range got {
				if r.Recorded != c.want[i].Recorded || (r.Err != nil) != (c.want[i].Err != nil) {
					t.Errorf("result %d = %+v, want %+v", i, r, c.want[i])
				}
				if r.Err != nil && !strings.Contains(r.Err.Error(), c.wantErr) {
					t.Errorf("result %d: %v, want an error containing %q", i, r.Err, c.wantErr)
				}
			}
			if fmt.Sprint(db.sent) != fmt.Sprint(c.sent) {
				t.Errorf("transactions sent:\n  %v\nwant\n  %v", db.sent, c.sent)
			}
			if db.gets == 0 {
				t.Error("the problem's times were not read first")
			}
		})
	}
}

func TestMoreOccurrencesThanOneTransactionCarries(t *testing.T) {
	var occs []problems.Occurrence
	for i := range OccurrencesPerWrite + 5 {
		occs = append(occs, problems.Occurrence{Identity: fmt.Sprint("id-", i), Org: "o", Env: "e", Fingerprint: "f", At: time.UnixMilli(int64(1000 + i))})
	}
	db := &scripted{answers: []error{nil, nil}}
	s := &Store{db: db, table: "t", now: time.Now, parallel: 1}
	for i, r := range s.RecordBatch(t.Context(), occs) {
		if !r.Recorded || r.Err != nil {
			t.Fatalf("result %d = %+v", i, r)
		}
	}
	// All in one hour: each transaction also carries that hour's item.
	first := maxTransactItems - problemItems - 1
	want := []sentTxn{{first, fmt.Sprint(first), condNew}, {OccurrencesPerWrite + 5 - first, fmt.Sprint(OccurrencesPerWrite + 5 - first), condNewest}}
	if fmt.Sprint(db.sent) != fmt.Sprint(want) {
		t.Errorf("transactions sent %v, want %v (the second built on what the first wrote)", db.sent, want)
	}
}

func TestRecordGivesUpOnEndlessConflicts(t *testing.T) {
	var answers []error
	for range maxAttempts + 1 {
		answers = append(answers, cancelled([]string{"None"}, "TransactionConflict", nil))
	}
	db := &scripted{answers: answers}
	s := &Store{db: db, table: "t", now: time.Now, parallel: 1}
	fresh, err := s.Record(t.Context(), problems.Occurrence{Identity: "id-1", At: time.UnixMilli(1)})
	if fresh || err == nil || !strings.Contains(err.Error(), "still cancelled") {
		t.Fatalf("Record = (%v, %v), want (false, a conflict error)", fresh, err)
	}
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		t.Errorf("err = %v, want it to wrap the SDK's TransactionCanceledException", err)
	}
	if len(db.sent) != maxAttempts {
		t.Errorf("attempts = %d, want %d", len(db.sent), maxAttempts)
	}
}

func TestRecordStopsWaitingWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	db := &scripted{answers: []error{cancelled([]string{"None"}, "TransactionConflict", nil)}}
	s := &Store{db: &cancelOnWrite{scripted: db, cancel: cancel}, table: "t", now: time.Now, parallel: 1}
	if _, err := s.Record(ctx, problems.Occurrence{Identity: "id-1"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Record = %v, want context.Canceled", err)
	}
}

// cancelOnWrite ends the context as its transaction answers.
type cancelOnWrite struct {
	*scripted
	cancel context.CancelFunc
}

func (c *cancelOnWrite) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	defer c.cancel()
	return c.scripted.TransactWriteItems(ctx, in, opts...)
}

func TestRecordRefusesAnEmptyIdentity(t *testing.T) {
	s := &Store{db: &scripted{}, table: "t", now: time.Now, parallel: 1}
	if fresh, err := s.Record(t.Context(), problems.Occurrence{}); !errors.Is(err, problems.ErrEmptyIdentity) || fresh {
		t.Fatalf("Record without identity = (%v, %v), want (false, ErrEmptyIdentity)", fresh, err)
	}
}

func TestMalformedProblemItemsAreErrors(t *testing.T) {
	good := func() map[string]types.AttributeValue {
		return map[string]types.AttributeValue{
			attrPK: str("problem#x"), attrID: str("x"), attrCount: num(1),
			attrFirstSeen: num(1), attrLastSeen: num(2), attrSample: str(`{"message":"m"}`),
			attrLogGroups: &types.AttributeValueMemberSS{Value: []string{"b", "a"}},
		}
	}
	p, err := unmarshal(good())
	if err != nil {
		t.Fatalf("the well-formed item: %v", err)
	}
	if strings.Join(p.LogGroups, ",") != "a,b" || p.Sample.Message != "m" {
		t.Fatalf("the well-formed item read as %+v", p)
	}
	cases := map[string]func(map[string]types.AttributeValue){
		attrCount:     func(m map[string]types.AttributeValue) { m[attrCount] = str("one") },
		attrLastSeen:  func(m map[string]types.AttributeValue) { delete(m, attrLastSeen) },
		attrSample:    func(m map[string]types.AttributeValue) { m[attrSample] = str("{not json") },
		attrLogGroups: func(m map[string]types.AttributeValue) { m[attrLogGroups] = str("a") },
		attrTitle:     func(m map[string]types.AttributeValue) { m[attrTitle] = num(1) },
	}
	for attr, spoil := range cases {
		item := good()
		spoil(item)
		if _, err := unmarshal(item); err == nil || !strings.Contains(err.Error(), attr) {
			t.Errorf("spoiled %s: unmarshal = %v, want an error naming it", attr, err)
		}
	}
}

// A transaction carries one hour item per hour its occurrences fall in: occurrences each in
// an hour of its own fill a transaction with half as many.
func TestChunksLeaveRoomForTheHourItems(t *testing.T) {
	var spread, packed []problems.Occurrence
	for i := range 150 {
		spread = append(spread, problems.Occurrence{At: time.UnixMilli(int64(i) * 3_600_000)})
		packed = append(packed, problems.Occurrence{At: time.UnixMilli(int64(i))})
	}
	for _, c := range []struct {
		name string
		occs []problems.Occurrence
		want []int
	}{
		{"one hour each", spread, []int{49, 98, 147, 150}},
		{"all in one hour", packed, []int{97, 150}}, // 97 puts, 1 hour item, the problem and a notice
	} {
		var ends []int
		for start := 0; start < len(c.occs); {
			end := chunkEnd(c.occs, start)
			hours := map[int64]bool{}
			for _, o := range c.occs[start:end] {
				hours[hourOf(o.At.UnixMilli())] = true
			}
			if n := end - start + len(hours) + problemItems; n > maxTransactItems {
				t.Fatalf("%s: a transaction of %d items", c.name, n)
			}
			ends = append(ends, end)
			start = end
		}
		if fmt.Sprint(ends) != fmt.Sprint(c.want) {
			t.Errorf("%s: chunks end at %v, want %v", c.name, ends, c.want)
		}
	}
}

// stringAttr is the value of a string attribute; "" for any other kind.
func stringAttr(v types.AttributeValue) string {
	s, _ := v.(*types.AttributeValueMemberS)
	if s == nil {
		return ""
	}
	return s.Value
}

// occurrenceSK is fmt's "o#%013d#%s", built by hand on the write path.
func TestOccurrenceSKIsTheFormat(t *testing.T) {
	for _, at := range []int64{0, 1, 42, 1_763_700_000_123, 9_999_999_999_999, 10_000_000_000_000, -1, -1_763_700_000_123} {
		if got, want := occurrenceSK(at, "id#x"), fmt.Sprintf("o#%013d#%s", at, "id#x"); got != want {
			t.Errorf("occurrenceSK(%d) = %q, want %q", at, got, want)
		}
	}
}
