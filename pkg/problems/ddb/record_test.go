package ddb

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/pkg/problems"
)

// scripted answers TransactWriteItems from a script and remembers each problem condition
// it was sent. Its other methods are not used by Record.
type scripted struct {
	api
	answers []error
	conds   []string
}

func (s *scripted) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	s.conds = append(s.conds, aws.ToString(in.TransactItems[1].Update.ConditionExpression))
	if len(s.answers) == 0 {
		return nil, errors.New("script exhausted")
	}
	err := s.answers[0]
	s.answers = s.answers[1:]
	return &dynamodb.TransactWriteItemsOutput{}, err
}

func cancelled(occ, prob string, old map[string]types.AttributeValue) error {
	return &types.TransactionCanceledException{
		Message: aws.String("Transaction cancelled"),
		CancellationReasons: []types.CancellationReason{
			{Code: aws.String(occ)},
			{Code: aws.String(prob), Item: old},
		},
	}
}

func seen(first, last int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrFirstSeen: num(first), attrLastSeen: num(last)}
}

const (
	condNewest = "attribute_not_exists(#pk) OR #lastSeen <= :t"
	condInside = "#firstSeen <= :t AND #lastSeen > :t"
	condOldest = "#firstSeen > :t"
)

func TestRecordAttempts(t *testing.T) {
	at := time.UnixMilli(5000)
	occ := problems.Occurrence{Identity: "id-1", Org: "o", Env: "e", Fingerprint: "f", At: at}
	cases := []struct {
		name      string
		answers   []error
		wantFresh bool
		wantErr   string
		wantConds []string
	}{
		{
			name: "the newest occurrence is one transaction", answers: []error{nil},
			wantFresh: true, wantConds: []string{condNewest},
		},
		{
			name:      "a redelivery is false without an error",
			answers:   []error{cancelled("ConditionalCheckFailed", "None", nil)},
			wantConds: []string{condNewest},
		},
		{
			name:      "a redelivery that also misses the problem case is still a redelivery",
			answers:   []error{cancelled("ConditionalCheckFailed", "ConditionalCheckFailed", seen(1, 9000))},
			wantConds: []string{condNewest},
		},
		{
			name:      "an occurrence inside the seen range moves to the inside case read off the old item",
			answers:   []error{cancelled("None", "ConditionalCheckFailed", seen(1000, 9000)), nil},
			wantFresh: true, wantConds: []string{condNewest, condInside},
		},
		{
			name:      "an occurrence older than firstSeen moves straight to the oldest case",
			answers:   []error{cancelled("None", "ConditionalCheckFailed", seen(7000, 9000)), nil},
			wantFresh: true, wantConds: []string{condNewest, condOldest},
		},
		{
			name: "without the old item the cases are walked newest, inside, oldest, inside",
			answers: []error{
				cancelled("None", "ConditionalCheckFailed", nil),
				cancelled("None", "ConditionalCheckFailed", nil),
				cancelled("None", "ConditionalCheckFailed", nil),
				nil,
			},
			wantFresh: true, wantConds: []string{condNewest, condInside, condOldest, condInside},
		},
		{
			name: "conflicts are retried in the same case",
			answers: []error{
				cancelled("None", "TransactionConflict", nil),
				cancelled("TransactionConflict", "None", nil),
				nil,
			},
			wantFresh: true, wantConds: []string{condNewest, condNewest, condNewest},
		},
		{
			name: "a problem item that fits no case is an error, not a loop",
			answers: []error{
				cancelled("None", "ConditionalCheckFailed", map[string]types.AttributeValue{}),
				cancelled("None", "ConditionalCheckFailed", map[string]types.AttributeValue{}),
				cancelled("None", "ConditionalCheckFailed", map[string]types.AttributeValue{}),
				cancelled("None", "ConditionalCheckFailed", map[string]types.AttributeValue{}),
			},
			wantErr: "fits no case", wantConds: []string{condNewest, condInside, condOldest, condInside},
		},
		{
			name:    "another cancellation reason is an error",
			answers: []error{cancelled("None", "ValidationError", nil)},
			wantErr: "newest case", wantConds: []string{condNewest},
		},
		{
			name:    "a plain error is an error",
			answers: []error{errors.New("connection reset")},
			wantErr: "connection reset", wantConds: []string{condNewest},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := &scripted{answers: c.answers}
			s := &Store{db: db, table: "t", now: func() time.Time { return at }}
			fresh, err := s.Record(t.Context(), occ)
			if fresh != c.wantFresh {
				t.Errorf("fresh = %v, want %v", fresh, c.wantFresh)
			}
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("err = %v, want nil", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("err = %v, want one containing %q", err, c.wantErr)
			}
			if strings.Join(db.conds, " | ") != strings.Join(c.wantConds, " | ") {
				t.Errorf("conditions sent:\n  %q\nwant\n  %q", db.conds, c.wantConds)
			}
		})
	}
}

func TestRecordGivesUpOnEndlessConflicts(t *testing.T) {
	var answers []error
	for range maxConflicts + 1 {
		answers = append(answers, cancelled("None", "TransactionConflict", nil))
	}
	db := &scripted{answers: answers}
	s := &Store{db: db, table: "t", now: time.Now}
	fresh, err := s.Record(t.Context(), problems.Occurrence{Identity: "id-1", At: time.UnixMilli(1)})
	if fresh || err == nil || !strings.Contains(err.Error(), "conflicting") {
		t.Fatalf("Record = (%v, %v), want (false, a conflict error)", fresh, err)
	}
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		t.Errorf("err = %v, want it to wrap the SDK's TransactionCanceledException", err)
	}
	if len(db.conds) != maxConflicts+1 {
		t.Errorf("attempts = %d, want %d", len(db.conds), maxConflicts+1)
	}
}

func TestRecordStopsWaitingWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	db := &scripted{answers: []error{cancelled("None", "TransactionConflict", nil)}}
	s := &Store{db: db, table: "t", now: time.Now}
	if _, err := s.Record(ctx, problems.Occurrence{Identity: "id-1"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Record = %v, want context.Canceled", err)
	}
}

func TestRecordRefusesAnEmptyIdentity(t *testing.T) {
	s := &Store{db: &scripted{}, table: "t", now: time.Now}
	if fresh, err := s.Record(t.Context(), problems.Occurrence{}); err == nil || fresh {
		t.Fatalf("Record without identity = (%v, %v), want (false, an error)", fresh, err)
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
