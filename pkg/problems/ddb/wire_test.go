package ddb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/aient/firehose-drain/pkg/problems"
)

// capture is a DynamoDB endpoint that records each request's target, content type and body
// and answers an empty success.
type capture struct {
	mu   sync.Mutex
	reqs []captured
}

type captured struct {
	target, contentType string
	body                []byte
}

func (c *capture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.reqs = append(c.reqs, captured{r.Header.Get("X-Amz-Target"), r.Header.Get("Content-Type"), b})
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_, _ = w.Write([]byte("{}"))
}

func (c *capture) last() captured {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reqs[len(c.reqs)-1]
}

func captureClient(t testing.TB) (*dynamodb.Client, *capture) {
	t.Helper()
	c := &capture{}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return dynamodb.NewFromConfig(aws.Config{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
	}), c
}

// sameRequest sends in through the SDK's serializer and through txProtocol (its actions
// encoded at the call, and encoded before), and fails unless the three requests carry the
// same JSON, target and content type, and txProtocol's body is valid UTF-8.
func sameRequest(t *testing.T, db *dynamodb.Client, c *capture, in *dynamodb.TransactWriteItemsInput) {
	t.Helper()
	in.ClientRequestToken = aws.String("token") // the same in every request
	if _, err := db.TransactWriteItems(t.Context(), in); err != nil {
		t.Fatalf("TransactWriteItems through the SDK: %v", err)
	}
	sdk := c.last()
	var want any
	if err := json.Unmarshal(sdk.body, &want); err != nil {
		t.Fatalf("the SDK's body is not JSON: %v", err)
	}
	pre := make([][]byte, len(in.TransactItems))
	for i := range in.TransactItems {
		var err error
		if pre[i], err = appendAction(nil, &in.TransactItems[i]); err != nil {
			t.Fatalf("appendAction(%d): %v", i, err)
		}
	}
	for _, encoded := range [][][]byte{nil, pre} {
		if _, err := db.TransactWriteItems(t.Context(), in, withEncoded(encoded)); err != nil {
			t.Fatalf("TransactWriteItems through txProtocol: %v", err)
		}
		ours := c.last()
		if ours.target != sdk.target || ours.contentType != sdk.contentType {
			t.Errorf("target %q, content type %q; the SDK's %q, %q", ours.target, ours.contentType, sdk.target, sdk.contentType)
		}
		if !utf8.Valid(ours.body) {
			t.Errorf("body %q is not UTF-8", ours.body)
		}
		var got any
		if err := json.Unmarshal(ours.body, &got); err != nil {
			t.Fatalf("body %q is not JSON: %v", ours.body, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("body\n%s\nthe SDK's\n%s", ours.body, sdk.body)
		}
	}
}

func sv(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func nv(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

// Every action and attribute value the SDK can write is written the same by txProtocol.
func TestTransactBodyAsTheSDKs(t *testing.T) {
	db, c := captureClient(t)
	every := map[string]types.AttributeValue{
		"s": sv("plain"), "n": nv("-1.5e3"), "t": &types.AttributeValueMemberBOOL{Value: true},
		"f": &types.AttributeValueMemberBOOL{}, "null": &types.AttributeValueMemberNULL{Value: true},
		"b": &types.AttributeValueMemberB{Value: []byte{0, 1, 0xff}}, "nilB": &types.AttributeValueMemberB{},
		"ss": &types.AttributeValueMemberSS{Value: []string{"a", "b\"c"}}, "ns": &types.AttributeValueMemberNS{Value: []string{"1", "2"}},
		"bs": &types.AttributeValueMemberBS{Value: [][]byte{{1}, nil, {}}}, "emptyL": &types.AttributeValueMemberL{},
		"l":      &types.AttributeValueMemberL{Value: []types.AttributeValue{sv("x"), &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"in": nv("1")}}}},
		"m":      &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"deep": &types.AttributeValueMemberL{Value: []types.AttributeValue{nv("2")}}}},
		"emptyM": &types.AttributeValueMemberM{},
		"text":   sv("quote \" backslash \\ newline \n tab \t cr \r nul \x00 del \x7f é € 😀 \u2028\u2029 bad \xff\xfe end"),
	}
	table := aws.String("problems")
	for _, c2 := range []struct {
		name string
		in   dynamodb.TransactWriteItemsInput
	}{
		{"every attribute value", dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Put: &types.Put{TableName: table, Item: every}}}}},
		{"every action", dynamodb.TransactWriteItemsInput{
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal, ReturnItemCollectionMetrics: types.ReturnItemCollectionMetricsSize,
			TransactItems: []types.TransactWriteItem{
				{Put: &types.Put{
					TableName: table, Item: map[string]types.AttributeValue{"pk": sv("occurrence#1")},
					ConditionExpression: aws.String("attribute_not_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": "pk"},
					ExpressionAttributeValues:           map[string]types.AttributeValue{":v": nv("1")},
					ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
				}},
				{Update: &types.Update{
					TableName: table, Key: map[string]types.AttributeValue{"pk": sv("problem#a")},
					UpdateExpression:    aws.String("ADD #count :n SET #h.#x = if_not_exists(#h.#x, :z) + :n"),
					ConditionExpression: aws.String("attribute_exists(#pk) AND #lastSeen <= :lastSeen"),
					ExpressionAttributeNames: map[string]string{
						"#count": "count", "#pk": "pk", "#h": "hourly", "#x": "1796158800", "#lastSeen": "lastSeen",
					},
					ExpressionAttributeValues:           map[string]types.AttributeValue{":n": nv("3"), ":z": nv("0"), ":lastSeen": nv("17")},
					ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
				}},
				{Delete: &types.Delete{
					TableName: table, Key: map[string]types.AttributeValue{"pk": sv("notice#1")},
					ConditionExpression: aws.String("#done > :t"), ExpressionAttributeNames: map[string]string{"#done": "done"},
					ExpressionAttributeValues: map[string]types.AttributeValue{":t": nv("5")},
				}},
				{ConditionCheck: &types.ConditionCheck{
					TableName: table, Key: map[string]types.AttributeValue{"pk": sv("drain#d")},
					ConditionExpression: aws.String("attribute_exists(pk)"), ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureNone,
				}},
			},
		}},
		{"empty members written as the SDK writes them", dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String(""), Item: map[string]types.AttributeValue{}, ConditionExpression: aws.String(""), ExpressionAttributeNames: map[string]string{}}},
			{Update: &types.Update{
				TableName: table, UpdateExpression: aws.String(""),
				Key: map[string]types.AttributeValue{}, ExpressionAttributeValues: map[string]types.AttributeValue{},
			}},
			{},
		}}},
		{"two actions in one item", dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{
				Put:    &types.Put{TableName: table, Item: map[string]types.AttributeValue{"pk": sv("a")}},
				Update: &types.Update{TableName: table, Key: map[string]types.AttributeValue{"pk": sv("a")}, UpdateExpression: aws.String("SET x = :x")},
			},
		}}},
		{"no actions", dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{}}},
	} {
		t.Run(c2.name, func(t *testing.T) { sameRequest(t, db, c, &c2.in) })
	}
}

// A value txProtocol cannot encode (a nil attribute value, an unknown member) is left to
// the SDK's serializer: the request is what the SDK alone sends (one attribute, so that
// map order cannot tell them apart).
func TestTransactBodyLeavesTheUnknownToTheSDK(t *testing.T) {
	if _, err := appendAction(nil, &types.TransactWriteItem{Put: &types.Put{Item: map[string]types.AttributeValue{"x": nil}}}); err == nil {
		t.Fatal("appendAction encoded a nil attribute value")
	}
	db, c := captureClient(t)
	in := &dynamodb.TransactWriteItemsInput{ClientRequestToken: aws.String("t"), TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("t"), Item: map[string]types.AttributeValue{"odd": &types.UnknownUnionMember{Tag: "X"}}}},
	}}
	if _, err := db.TransactWriteItems(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	sdk := c.last().body
	if _, err := db.TransactWriteItems(t.Context(), in, withEncoded(nil)); err != nil {
		t.Fatal(err)
	}
	if ours := c.last().body; string(ours) != string(sdk) {
		t.Fatalf("body %s, the SDK's %s", ours, sdk)
	}
}

// The encoder knows every member of the shapes it writes: a member the SDK adds fails here
// (teach appendTransactBody and appendAction, and the table above, the new member).
func TestTransactBodyKnowsEveryMember(t *testing.T) {
	for _, c := range []struct {
		v    any
		want []string
	}{
		{dynamodb.TransactWriteItemsInput{}, []string{"ClientRequestToken", "ReturnConsumedCapacity", "ReturnItemCollectionMetrics", "TransactItems"}},
		{types.TransactWriteItem{}, []string{"ConditionCheck", "Delete", "Put", "Update"}},
		{types.ConditionCheck{}, []string{"ConditionExpression", "ExpressionAttributeNames", "ExpressionAttributeValues", "Key", "ReturnValuesOnConditionCheckFailure", "TableName"}},
		{types.Delete{}, []string{"ConditionExpression", "ExpressionAttributeNames", "ExpressionAttributeValues", "Key", "ReturnValuesOnConditionCheckFailure", "TableName"}},
		{types.Put{}, []string{"ConditionExpression", "ExpressionAttributeNames", "ExpressionAttributeValues", "Item", "ReturnValuesOnConditionCheckFailure", "TableName"}},
		{types.Update{}, []string{"ConditionExpression", "ExpressionAttributeNames", "ExpressionAttributeValues", "Key", "ReturnValuesOnConditionCheckFailure", "TableName", "UpdateExpression"}},
	} {
		rt := reflect.TypeOf(c.v)
		var got []string
		for i := range rt.NumField() {
			if f := rt.Field(i); f.IsExported() {
				got = append(got, f.Name)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s has members %v, the encoder writes %v", rt, got, c.want)
		}
	}
}

// FuzzTransactBody holds txProtocol's body to the SDK's on any strings in any place.
func FuzzTransactBody(f *testing.F) {
	f.Add("problem#a", "attribute_exists(#pk)", "#pk", "pk", "value")
	f.Add("\xff\x00\"\\", "\u2028", "é", "\x7f", "\U0001F600\n\t\r")
	db, c := captureClient(f)
	f.Fuzz(func(t *testing.T, key, cond, name, attr, value string) {
		in := &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{
				TableName: aws.String(attr), Item: map[string]types.AttributeValue{"pk": sv(key), name: sv(value)},
				ConditionExpression: aws.String(cond), ExpressionAttributeNames: map[string]string{name: attr},
			}},
			{Update: &types.Update{
				TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": sv(key)}, UpdateExpression: aws.String(cond),
				ExpressionAttributeValues: map[string]types.AttributeValue{
					name: &types.AttributeValueMemberSS{Value: []string{value, key}},
					":m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{value: nv(attr)}},
				},
			}},
		}}
		sameRequest(t, db, c, in)
	})
}

// errStop ends a request after it is serialized (stopAfterSerialize).
var errStop = errors.New("stop after serialize")

// stopAfterSerialize ends every request of the client at the build step: a benchmark of the
// SDK's work up to a request's body.
func stopAfterSerialize(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Build.Add(middleware.BuildMiddlewareFunc("stop", func(context.Context, middleware.BuildInput, middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
			return middleware.BuildOutput{}, middleware.Metadata{}, errStop
		}), middleware.Before)
	})
	o.RetryMaxAttempts = 1
}

// BenchmarkTransactBody is the SDK's work up to the body of a batch's transaction of 98
// actions (14 problems of 5 occurrences: their Puts, Updates and hour Updates), through
// the SDK's serializer, through txProtocol, and through txProtocol with the Puts and hour
// Updates encoded before (as a draft has them):
//
//	go test -run '^$' -bench TransactBody -count 6 -cpu 1 ./pkg/problems/ddb/
func BenchmarkTransactBody(b *testing.B) {
	s := NewFromAPI(nil, "problems", Options{})
	now := time.Now()
	var (
		items   []types.TransactWriteItem
		encoded [][]byte
	)
	for p := range 14 {
		occs := make([]problems.Occurrence, 5)
		for i := range occs {
			occs[i] = problems.Occurrence{
				Identity: fmt.Sprintf("%056d", p*5+i), Org: "acme", Env: "prod", Fingerprint: fmt.Sprintf("v2:%032d", p),
				Title: "TypeError: Cannot read properties of undefined (reading 'id')", Culprit: "chargeCard (pay.js)", Level: "error",
				At: now.Add(-time.Duration(i) * time.Second),
				Sample: problems.Sample{
					Account: "123456789012", Region: "eu-west-1", LogGroup: "/aws/lambda/checkout", LogStream: "2026/11/21/[$LATEST]0123456789abcdef",
					EventID: fmt.Sprintf("%056d", p*5+i), Message: "TypeError: Cannot read properties of undefined (reading 'id')\n    at chargeCard (/var/task/src/pay.js:42:17)",
				},
			}
		}
		id := problems.ID("acme", "prod", occs[0].Fingerprint)
		d := s.draft(id, occs, now)
		lp, err := s.lifecyclePart(b.Context(), id, occs, d.agg, seen{}, now, func(f func()) { f() })
		if err != nil {
			b.Fatal(err)
		}
		its, enc, err := s.transaction(id, d, seen{}, lp)
		if err != nil {
			b.Fatal(err)
		}
		items, encoded = append(items, its...), append(encoded, enc...)
	}
	db, _ := captureClient(b)
	in := &dynamodb.TransactWriteItemsInput{TransactItems: items}
	for _, v := range []struct {
		name string
		opts []func(*dynamodb.Options)
	}{
		{"sdk", []func(*dynamodb.Options){stopAfterSerialize}},
		{"txProtocol", []func(*dynamodb.Options){stopAfterSerialize, withEncoded(nil)}},
		{"txProtocol-drafted", []func(*dynamodb.Options){stopAfterSerialize, withEncoded(encoded)}},
	} {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := db.TransactWriteItems(b.Context(), in, v.opts...); !errors.Is(err, errStop) {
					b.Fatal(err)
				}
			}
		})
	}
}
