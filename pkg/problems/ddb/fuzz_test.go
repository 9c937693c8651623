package ddb

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// FuzzUnmarshal feeds problem items with arbitrary attribute contents to the item decoder:
// an error is fine, a panic is not.
func FuzzUnmarshal(f *testing.F) {
	f.Add(`{"logGroup":"/aws/lambda/a","logStream":"s","eventId":"1","timestamp":1,"message":"m","frames":[{"function":"f","line":3,"inApp":true}]}`, "1", "1763700000123", "/aws/lambda/a")
	f.Add(`{"frames":[null,{"line":"x"}]}`, "-0", "1e3", "")
	f.Add(`null`, "99999999999999999999", "-62135596800000", "x")
	f.Add(`{"timestamp":1.5}`, "", "NaN", "\x00")
	f.Fuzz(func(t *testing.T, sample, count, seen, group string) {
		item := map[string]types.AttributeValue{
			attrPK: str("problem#x"), attrID: str("x"), attrSample: str(sample),
			attrCount:     &types.AttributeValueMemberN{Value: count},
			attrFirstSeen: &types.AttributeValueMemberN{Value: seen},
			attrLastSeen:  &types.AttributeValueMemberN{Value: seen},
			attrLogGroups: &types.AttributeValueMemberSS{Value: []string{group}},
		}
		p, err := unmarshal(item)
		if err == nil && p.ID != "x" {
			t.Fatalf("decoded id %q, want x", p.ID)
		}
		_, _ = seenOf(item)
	})
}
