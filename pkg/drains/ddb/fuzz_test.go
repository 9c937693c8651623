package ddb

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// FuzzUnmarshal feeds drain items with arbitrary attribute contents to the item decoder:
// an error is fine, a panic is not.
func FuzzUnmarshal(f *testing.F) {
	f.Add("drn_1", "1763700000123", "3", "ab", true)
	f.Add("", "-62135596800000", "-0", "", false)
	f.Add("x", "1e3", "99999999999999999999", "\x00", true)
	f.Fuzz(func(t *testing.T, id, at, count, digest string, keyAsMap bool) {
		key := types.AttributeValue(str(digest))
		if keyAsMap {
			key = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
				attrDigest: str(digest), attrValidUntil: &types.AttributeValueMemberN{Value: at},
			}}
		}
		item := map[string]types.AttributeValue{
			attrID: str(id), attrCreatedAt: &types.AttributeValueMemberN{Value: at},
			attrEvents:          &types.AttributeValueMemberN{Value: count},
			attrLastAuthErrorAt: &types.AttributeValueMemberN{Value: at},
			attrKeys:            &types.AttributeValueMemberL{Value: []types.AttributeValue{key}},
		}
		d, err := unmarshal(item)
		if err == nil && (d.ID != id || len(d.Keys) != 1 || d.LastAuthError == nil) {
			t.Fatalf("decoded %+v from a well-typed item", d)
		}
	})
}
