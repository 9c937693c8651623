package awstest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The server's moto runs with both of motopatch's fixes (the installed moto still looks as
// they expect), and transactions stay all-or-nothing with the one backup per table: a
// cancelled transaction over two tables leaves both as they were, a committed one lands.
func TestMotoPatchKeepsTransactionsAtomic(t *testing.T) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		if os.Getenv(RequireEnv) != "" {
			t.Fatal(err)
		}
		t.Skip("moto_server not found")
	}
	srv, err := startServer(bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.stop)
	m := srv.open(t, "")
	db := dynamodb.NewFromConfig(m.Config())
	ctx := t.Context()
	for _, name := range []string{"one", "two"} {
		if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:            aws.String(name),
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
			BillingMode:          types.BillingModePayPerRequest,
		}); err != nil {
			t.Fatal(err)
		}
	}
	put := func(table, pk, v string) types.TransactWriteItem {
		return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: pk}, "v": &types.AttributeValueMemberS{Value: v},
		}}}
	}
	items := func(table string) []string {
		out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range out.Items {
			pk, _ := it["pk"].(*types.AttributeValueMemberS)
			v, _ := it["v"].(*types.AttributeValueMemberS)
			if pk == nil || v == nil {
				t.Fatalf("%s: item %v", table, it)
			}
			got = append(got, pk.Value+"="+v.Value)
		}
		slices.Sort(got)
		return got
	}

	if _, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		put("one", "a", "1"), put("one", "b", "1"), put("two", "a", "1"),
	}}); err != nil {
		t.Fatal(err)
	}
	// Writes to both tables, then an item whose condition fails: nothing of it may stay.
	_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		put("one", "c", "2"), put("two", "a", "2"), put("two", "x", "2"),
		{Update: &types.Update{
			TableName: aws.String("one"), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "b"}},
			UpdateExpression:          aws.String("SET v = :v"),
			ConditionExpression:       aws.String("attribute_not_exists(pk)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberS{Value: "2"}},
		}},
	}})
	var cancelled *types.TransactionCanceledException
	if !errors.As(err, &cancelled) {
		t.Fatalf("transaction with a failing condition: %v, want TransactionCanceledException", err)
	}
	if got, want := items("one"), []string{"a=1", "b=1"}; !slices.Equal(got, want) {
		t.Errorf("table one after the cancelled transaction = %v, want %v", got, want)
	}
	if got, want := items("two"), []string{"a=1"}; !slices.Equal(got, want) {
		t.Errorf("table two after the cancelled transaction = %v, want %v", got, want)
	}
	if _, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		put("one", "c", "3"), put("two", "a", "3"),
	}}); err != nil {
		t.Fatal(err)
	}
	if got, want := items("one"), []string{"a=1", "b=1", "c=3"}; !slices.Equal(got, want) {
		t.Errorf("table one after the last transaction = %v, want %v", got, want)
	}
	if got, want := items("two"), []string{"a=3"}; !slices.Equal(got, want) {
		t.Errorf("table two after the last transaction = %v, want %v", got, want)
	}

	if srv.patchDir == "" {
		t.Logf("%s set: moto as installed", UnpatchedEnv)
		return
	}
	b, err := os.ReadFile(filepath.Join(srv.patchDir, patchApplied))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	applied := strings.Fields(string(b))
	slices.Sort(applied)
	if want := []string{"list_of_moto_modules", "transact_write_items"}; !slices.Equal(applied, want) {
		t.Errorf("motopatch applied %v to the installed moto, want %v: moto changed; update motopatch/sitecustomize.py (or drop a fix moto made itself)", applied, want)
	}
}
