package deploytest

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/internal/testkit/awstest"
	dedupddb "github.com/aient/firehose-drain/pkg/dedup/ddb"
	drainsddb "github.com/aient/firehose-drain/pkg/drains/ddb"
	problemsddb "github.com/aient/firehose-drain/pkg/problems/ddb"
)

// tableShape is what a store's code depends on in a table: keys, attribute types, indexes
// and the TTL attribute, in the template's JSON vocabulary so the two compare directly.
type tableShape struct {
	Keys  []any
	Attrs []any
	GSIs  []any
	TTL   string
}

func sortByJSON(l []any) []any {
	sort.Slice(l, func(i, j int) bool { return fmt.Sprint(l[i]) < fmt.Sprint(l[j]) })
	return l
}

func keySchema(ks []types.KeySchemaElement) []any {
	out := make([]any, 0, len(ks))
	for _, k := range ks {
		out = append(out, map[string]any{"AttributeName": aws.ToString(k.AttributeName), "KeyType": string(k.KeyType)})
	}
	return out
}

func describeShape(ctx context.Context, t *testing.T, db *dynamodb.Client, table string) tableShape {
	t.Helper()
	d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatalf("DescribeTable %s: %v", table, err)
	}
	var s tableShape
	s.Keys = keySchema(d.Table.KeySchema)
	for _, a := range d.Table.AttributeDefinitions {
		s.Attrs = append(s.Attrs, map[string]any{"AttributeName": aws.ToString(a.AttributeName), "AttributeType": string(a.AttributeType)})
	}
	sortByJSON(s.Attrs)
	for _, g := range d.Table.GlobalSecondaryIndexes {
		s.GSIs = append(s.GSIs, map[string]any{
			"IndexName":  aws.ToString(g.IndexName),
			"KeySchema":  keySchema(g.KeySchema),
			"Projection": map[string]any{"ProjectionType": string(g.Projection.ProjectionType)},
		})
	}
	sortByJSON(s.GSIs)
	ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatalf("DescribeTimeToLive %s: %v", table, err)
	}
	if d := ttl.TimeToLiveDescription; d != nil && (d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		s.TTL = aws.ToString(d.AttributeName)
	}
	return s
}

func templateShape(t *testing.T, c cfn, name string) tableShape {
	t.Helper()
	p := c.resource(t, name, "AWS::DynamoDB::Table").Properties
	var s tableShape
	s.Keys, _ = p["KeySchema"].([]any)
	attrs, _ := p["AttributeDefinitions"].([]any)
	s.Attrs = sortByJSON(append([]any(nil), attrs...))
	gsis, _ := p["GlobalSecondaryIndexes"].([]any)
	s.GSIs = sortByJSON(append([]any(nil), gsis...))
	if ttl, ok := p["TimeToLiveSpecification"].(map[string]any); ok && ttl["Enabled"] == true {
		s.TTL, _ = ttl["AttributeName"].(string)
	}
	return s
}

// TestTemplateTablesAreTheStoresTables creates each table the way its store's CreateTable
// does (on moto) and compares it with the template's: the deployed tables must have the
// keys, attribute types, index and TTL the code was tested against.
func TestTemplateTablesAreTheStoresTables(t *testing.T) {
	c := samTransform(t)
	m := awstest.Start(t)
	db := dynamodb.NewFromConfig(m.Config())
	ctx := t.Context()
	cases := []struct {
		resource string
		create   func(context.Context, *dynamodb.Client, string) error
	}{
		{"DrainsTable", drainsddb.CreateTable},
		{"ClaimsTable", dedupddb.CreateTable},
		{"ProblemsTable", problemsddb.CreateTable},
	}
	for _, tc := range cases {
		t.Run(tc.resource, func(t *testing.T) {
			name := "deploytest-" + tc.resource
			if err := tc.create(ctx, db, name); err != nil {
				t.Fatalf("the store's CreateTable: %v", err)
			}
			got, want := describeShape(ctx, t, db, name), templateShape(t, c, tc.resource)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("the store creates\n  %+v\nthe template declares\n  %+v", got, want)
			}
		})
	}
}
