package ddb

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// IgnoredUpdate is the transaction action that adds n to the ignored counter of drain id
// in table, conditional on the drain existing: the drains' half of a write that marks the
// dropped events' identities elsewhere in the same TransactWriteItems (the problems table's
// RecordIgnored), so the counter moves exactly by the identities marked.
func IgnoredUpdate(table, id string, n int64) *types.Update {
	return &types.Update{
		TableName:                 aws.String(table),
		Key:                       key(id),
		UpdateExpression:          aws.String("ADD #ignored :n"),
		ConditionExpression:       aws.String("attribute_exists(#id)"),
		ExpressionAttributeNames:  map[string]string{"#id": attrID, "#ignored": attrIgnored},
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": num(n)},
	}
}
