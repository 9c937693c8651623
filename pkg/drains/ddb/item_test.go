package ddb

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestMalformedItemsAreErrorsNamingTheAttribute(t *testing.T) {
	good := func() map[string]types.AttributeValue {
		return map[string]types.AttributeValue{
			attrID: str("drn_1"), attrState: str("active"), attrCreatedAt: num(1),
			attrKeys: &types.AttributeValueMemberL{Value: []types.AttributeValue{
				&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{attrDigest: str("ab")}},
			}},
		}
	}
	cases := []struct {
		name  string
		spoil func(map[string]types.AttributeValue)
		want  string
	}{
		{"a time stored as a string", func(m map[string]types.AttributeValue) { m[attrCreatedAt] = str("yesterday") }, attrCreatedAt},
		{"a counter that is not an integer", func(m map[string]types.AttributeValue) { m[attrEvents] = &types.AttributeValueMemberN{Value: "1.5"} }, attrEvents},
		{"keys that are not a list", func(m map[string]types.AttributeValue) { m[attrKeys] = str("ab") }, attrKeys},
		{"a key that is not a map", func(m map[string]types.AttributeValue) {
			m[attrKeys] = &types.AttributeValueMemberL{Value: []types.AttributeValue{str("ab")}}
		}, attrKeys},
		{"a key whose digest is a number", func(m map[string]types.AttributeValue) {
			m[attrKeys] = &types.AttributeValueMemberL{Value: []types.AttributeValue{
				&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{attrDigest: num(3)}},
			}}
		}, attrDigest},
		{"a state that is a number", func(m map[string]types.AttributeValue) { m[attrState] = num(1) }, attrState},
	}
	if _, err := unmarshal(good()); err != nil {
		t.Fatalf("the well-formed item: %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			item := good()
			c.spoil(item)
			_, err := unmarshal(item)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("unmarshal = %v, want an error naming %s", err, c.want)
			}
		})
	}
}
