package awsfake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/internal/jsonscan"
)

// decodeTransaction is the reference of readTransaction: the request's shape decoded by
// encoding/json (the fake's decoding before readTransaction), the same actions derived.
func decodeTransaction(body []byte) ([]txAction, error) {
	type key struct {
		PK struct{ S string } `json:"pk"`
	}
	type action struct {
		Item, Key                           *key
		ConditionExpression                 string
		ExpressionAttributeNames            map[string]string
		ReturnValuesOnConditionCheckFailure string
	}
	var in struct {
		TransactItems []struct {
			Put, Update, Delete, ConditionCheck *action
		}
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, err
	}
	out := make([]txAction, len(in.TransactItems))
	for i, it := range in.TransactItems {
		a := it.Put
		for _, b := range []*action{it.Update, it.Delete, it.ConditionCheck} {
			if a == nil {
				a = b
			}
		}
		if a == nil {
			continue
		}
		var names []string
		for n, attr := range a.ExpressionAttributeNames {
			if attr == "pk" {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		out[i] = txAction{present: true, cond: a.ConditionExpression, allOld: a.ReturnValuesOnConditionCheckFailure == "ALL_OLD", pkNames: names}
		k := a.Key
		if k == nil {
			k = a.Item
		}
		if k != nil {
			out[i].hasKey, out[i].pk = true, k.PK.S
		}
	}
	return out, nil
}

// sdkBodies are TransactWriteItems bodies as the SDK sends them.
func sdkBodies(t testing.TB) [][]byte {
	t.Helper()
	var (
		mu     sync.Mutex
		bodies [][]byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write([]byte("{}"))
	}))
	defer srv.Close()
	db := dynamodb.NewFromConfig(aws.Config{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
	})
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	for _, items := range [][]types.TransactWriteItem{
		{
			{Put: &types.Put{
				TableName: aws.String("t"),
				Item: map[string]types.AttributeValue{
					"pk": s("occurrence#1"), "at": n("5"), "sample": s("with \"quotes\" and \\u00e9 \u00e9"),
					"crumbs": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"pk": s("inner")}}}},
				},
				ConditionExpression: aws.String("attribute_not_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": "pk"},
			}},
			{Update: &types.Update{
				TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": s("problem#a")},
				UpdateExpression:                    aws.String("ADD #c :n SET #h.#x = :n"),
				ConditionExpression:                 aws.String("attribute_exists(#k) AND #c > :n"),
				ExpressionAttributeNames:            map[string]string{"#c": "count", "#k": "pk", "#h": "hourly", "#x": "123"},
				ExpressionAttributeValues:           map[string]types.AttributeValue{":n": n("1")},
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			}},
			{Delete: &types.Delete{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": s("notice#1")}}},
			{ConditionCheck: &types.ConditionCheck{
				TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": s("drain#d")},
				ConditionExpression: aws.String("attribute_exists(pk)"),
			}},
		},
	} {
		if _, err := db.TransactWriteItems(t.Context(), &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
			t.Fatalf("TransactWriteItems: %v", err)
		}
	}
	return bodies
}

// readTransaction reads what encoding/json reads of the SDK's requests and of hand-made
// ones: merged repeats, nulls, case, escapes, and the errors.
func TestReadTransactionAsEncodingJSON(t *testing.T) {
	bodies := sdkBodies(t)
	if len(bodies) == 0 {
		t.Fatal("no request captured")
	}
	got, err := readTransaction(bodies[0])
	if err != nil {
		t.Fatalf("readTransaction(SDK body) = %v", err)
	}
	want := []txAction{
		{present: true, hasKey: true, pk: "occurrence#1", cond: "attribute_not_exists(#pk)", pkNames: []string{"#pk"}},
		{present: true, hasKey: true, pk: "problem#a", cond: "attribute_exists(#k) AND #c > :n", pkNames: []string{"#k"}, allOld: true},
		{present: true, hasKey: true, pk: "notice#1"},
		{present: true, hasKey: true, pk: "drain#d", cond: "attribute_exists(pk)"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("readTransaction(SDK body) =\n%+v\nwant\n%+v", got, want)
	}
	for _, body := range append(bodies, handMade...) {
		agree(t, body)
	}
}

// handMade are requests the SDK does not send, that encoding/json reads in its own way.
var handMade = [][]byte{
	[]byte(`null`),
	[]byte(` {"transactitems": [null, {}, {"put": null}, {"PUT": {"item": {"PK": {"s": "a"}}}}]} `),
	[]byte(`{"TransactItems": [{"Put": {"Item": {"pk": {"S": "a"}}}, "Put": {"ConditionExpression": "c"}}]}`),
	[]byte(`{"TransactItems": [{"Put": {"Item": {"pk": {"S": "a"}}}, "Put": null, "Update": {"Key": null}}]}`),
	[]byte(`{"TransactItems": [{"Update": {"ExpressionAttributeNames": {"#a": "pk", "#b": "pk"}, "ExpressionAttributeNames": {"#a": "x"}}}]}`),
	[]byte(`{"TransactItems": [{"Update": {"ExpressionAttributeNames": {"#a": "pk"}, "ExpressionAttributeNames": null}}]}`),
	[]byte(`{"TransactItems": [{"Update": {"Key": {"pk": {"S": "\u00e9\ud800x\"", "N": 5}}, "ConditionExpression": null}}]}`),
	[]byte(`{"TransactItems": [{"Update": {"Key": {"pk": {"S": "` + "\xff" + `"}}}}], "TransactItems": [{}]}`),
	[]byte(`{"\u0054ransactItems": [{"Put": {"Item": {"pk": {"S": "x"}}}}]}`),
	[]byte(`{"TransactItems": [{"Put": {"Item": {"pk": {"S": 5}}}}]}`),
	[]byte(`{"TransactItems": [{"Put": "x"}]}`),
	[]byte(`{"TransactItems": {}}`),
	[]byte(`{"TransactItems": [{"Put": {"ConditionExpression": "c"}}]} x`),
	[]byte(`{"TransactItems": [{"Put": {"ConditionExpression": "c"}]}`),
	[]byte(`[]`),
	[]byte(``),
}

// agree fails when readTransaction and decodeTransaction read body differently.
func agree(t *testing.T, body []byte) {
	t.Helper()
	got, err := readTransaction(body)
	want, wantErr := decodeTransaction(body)
	if jsonscan.TooDeep(err) {
		return // encoding/json allows deeper nesting: the fake answers 400, as for malformed JSON
	}
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("readTransaction(%q) error %v, encoding/json's %v", body, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("readTransaction(%q) =\n%+v\nencoding/json reads\n%+v", body, got, want)
	}
}

// FuzzReadTransaction holds readTransaction to encoding/json's reading of the request's
// shape (decodeTransaction).
func FuzzReadTransaction(f *testing.F) {
	for _, b := range append(sdkBodies(f), handMade...) {
		f.Add(b)
	}
	f.Fuzz(agree)
}
