package awsfake_test

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/internal/testkit/awsfake"
)

// A transaction is answered by the existence of the items SetItems gave, as DynamoDB
// answers it: a write that assumes a known item new (or an unknown one known) is cancelled,
// with the item when ALL_OLD is asked for, through the real SDK.
func TestTransactionsAnswerByExistence(t *testing.T) {
	fake := awsfake.Start(t, time.Millisecond, 0)
	db := dynamodb.NewFromConfig(fake.Config())
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	known := map[string]types.AttributeValue{"pk": s("problem#a"), "count": &types.AttributeValueMemberN{Value: "7"}}
	fake.SetItems([]map[string]types.AttributeValue{known})
	update := func(pk, cond string) types.TransactWriteItem {
		return types.TransactWriteItem{Update: &types.Update{
			TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": s(pk)},
			UpdateExpression: aws.String("ADD #c :n"), ConditionExpression: aws.String(cond),
			ExpressionAttributeNames:            map[string]string{"#c": "count", "#pk": "pk"},
			ExpressionAttributeValues:           map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: "1"}},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}}
	}
	put := types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String("t"), Item: map[string]types.AttributeValue{"pk": s("occurrence#1")},
		ConditionExpression: aws.String("attribute_not_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": "pk"},
	}}
	for _, c := range []struct {
		name  string
		items []types.TransactWriteItem
		want  []string // reason codes; nil: commits
		item  int      // the reason that carries the known item, -1 none
	}{
		{"known as known commits", []types.TransactWriteItem{put, update("problem#a", "attribute_exists(#pk) AND #c > :n")}, nil, -1},
		{"unknown as new commits", []types.TransactWriteItem{put, update("problem#b", "attribute_not_exists(#pk)")}, nil, -1},
		{"known as new is cancelled with the item", []types.TransactWriteItem{put, update("problem#a", "attribute_not_exists(#pk)")}, []string{"None", "ConditionalCheckFailed"}, 1},
		{"unknown as known is cancelled", []types.TransactWriteItem{update("problem#b", "attribute_exists(#pk)"), put}, []string{"ConditionalCheckFailed", "None"}, -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := db.TransactWriteItems(t.Context(), &dynamodb.TransactWriteItemsInput{TransactItems: c.items})
			if c.want == nil {
				if err != nil {
					t.Fatalf("TransactWriteItems = %v, want it committed", err)
				}
				return
			}
			var tce *types.TransactionCanceledException
			if !errors.As(err, &tce) || len(tce.CancellationReasons) != len(c.want) {
				t.Fatalf("TransactWriteItems = %v, want a cancellation with %d reasons", err, len(c.want))
			}
			for i, r := range tce.CancellationReasons {
				if aws.ToString(r.Code) != c.want[i] {
					t.Errorf("reason %d = %s, want %s", i, aws.ToString(r.Code), c.want[i])
				}
				n, _ := r.Item["count"].(*types.AttributeValueMemberN)
				if (i == c.item) != (n != nil && n.Value == "7") {
					t.Errorf("reason %d carries item %v", i, r.Item)
				}
			}
		})
	}
}

// A read gets the attributes its ProjectionExpression names (through its names; a nested
// path its whole top-level attribute), the whole item without one, nothing for a key
// SetItems did not give.
func TestReadsAreProjected(t *testing.T) {
	fake := awsfake.Start(t, time.Millisecond, 0)
	db := dynamodb.NewFromConfig(fake.Config())
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	fake.SetItems([]map[string]types.AttributeValue{{
		"pk": s("problem#a"), "count": &types.AttributeValueMemberN{Value: "7"}, "sample": s("large"),
		"hourly": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"1": &types.AttributeValueMemberN{Value: "2"}}},
	}})
	keys := []map[string]types.AttributeValue{{"pk": s("problem#a")}, {"pk": s("problem#b")}}
	for _, c := range []struct {
		name, expr string
		names      map[string]string
		want       []string
	}{
		{"names", "#pk, #count", map[string]string{"#pk": "pk", "#count": "count"}, []string{"count", "pk"}},
		{"plain and nested", "pk,hourly.#h", map[string]string{"#h": "1"}, []string{"hourly", "pk"}},
		{"whole item", "", nil, []string{"count", "hourly", "pk", "sample"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ka := types.KeysAndAttributes{Keys: keys, ExpressionAttributeNames: c.names}
			if c.expr != "" {
				ka.ProjectionExpression = aws.String(c.expr)
			}
			out, err := db.BatchGetItem(t.Context(), &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"t": ka}})
			if err != nil {
				t.Fatal(err)
			}
			items := out.Responses["t"]
			if len(items) != 1 {
				t.Fatalf("BatchGetItem found %d items, want problem#a only", len(items))
			}
			got := slices.Sorted(maps.Keys(items[0]))
			if !slices.Equal(got, c.want) {
				t.Errorf("attributes %v, want %v", got, c.want)
			}
			get, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{
				TableName: aws.String("t"), Key: keys[0], ProjectionExpression: ka.ProjectionExpression, ExpressionAttributeNames: c.names,
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Sorted(maps.Keys(get.Item)); !slices.Equal(got, c.want) {
				t.Errorf("GetItem's attributes %v, want %v", got, c.want)
			}
		})
	}
}

// TestAWSFakeProcess is the child process of StartProcess (skipped otherwise).
func TestAWSFakeProcess(t *testing.T) { awsfake.ServeProcess(t) }

// A fake in a child process finds the items SetItems gave it, projected, answers a
// transaction by them, and counts the requests.
func TestProcessItemsAndCounts(t *testing.T) {
	fake := awsfake.StartProcess(t, "TestAWSFakeProcess", time.Millisecond, 0)
	db := dynamodb.NewFromConfig(fake.Config())
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	fake.SetItems(t, []map[string]types.AttributeValue{{"pk": s("problem#a"), "count": &types.AttributeValueMemberN{Value: "7"}, "sample": s("large")}})
	out, err := db.BatchGetItem(t.Context(), &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"t": {
		Keys:                 []map[string]types.AttributeValue{{"pk": s("problem#a")}, {"pk": s("problem#b")}},
		ProjectionExpression: aws.String("pk, #c"), ExpressionAttributeNames: map[string]string{"#c": "count"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if items := out.Responses["t"]; len(items) != 1 || !slices.Equal(slices.Sorted(maps.Keys(items[0])), []string{"count", "pk"}) {
		t.Fatalf("BatchGetItem found %v, want problem#a's pk and count", items)
	}
	_, err = db.TransactWriteItems(t.Context(), &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Put: &types.Put{
		TableName: aws.String("t"), Item: map[string]types.AttributeValue{"pk": s("problem#a")},
		ConditionExpression: aws.String("attribute_not_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": "pk"},
	}}}})
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		t.Fatalf("TransactWriteItems of a known item as new = %v, want it cancelled", err)
	}
	if got := fake.Counts(t); got["DynamoDB.BatchGetItem"] != 1 || got["DynamoDB.TransactWriteItems"] != 1 {
		t.Errorf("Counts = %v, want one BatchGetItem and one TransactWriteItems", got)
	}
	if got := fake.Counts(t); len(got) != 0 {
		t.Errorf("Counts after Counts = %v, want none", got)
	}
}
