package ddb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/pkg/alerts"
)

// The digest rule's count (alerts.Rate) is one item per destination per minute in the
// problems table, shared by every alerts-function instance:
//
//	pk "alertrate#<destination>#<minute, unix ms>"   count (N, ADDed)   expires_at (N, TTL: an hour on)
//
// A take is one UpdateItem `ADD count :n` under `attribute_not_exists(count) OR count <=
// :room` (room = limit - n), so concurrent takes never pass the limit together. The item
// has no index keys and is not a notice, so neither the indexes nor the alerts stream see
// it; the alerts function's role already has UpdateItem on the table.
const (
	ratePrefix    = "alertrate#"
	attrCount     = "count"
	attrExpiresAt = "expires_at"
	rateTTL       = time.Hour
)

var _ alerts.Rate = (*Destinations)(nil)

// Take implements alerts.Rate.
func (d *Destinations) Take(ctx context.Context, dest string, minute time.Time, n, limit int) (bool, error) {
	if n > limit {
		return false, nil
	}
	_, err := d.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(d.table),
		Key: map[string]types.AttributeValue{
			attrPK: str(ratePrefix + dest + "#" + strconv.FormatInt(minute.UnixMilli(), 10)),
		},
		UpdateExpression:         aws.String("ADD #count :n SET #exp = :exp"),
		ConditionExpression:      aws.String("attribute_not_exists(#count) OR #count <= :room"),
		ExpressionAttributeNames: map[string]string{"#count": attrCount, "#exp": attrExpiresAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":n": num(int64(n)), ":room": num(int64(limit - n)), ":exp": num(minute.Add(rateTTL).Unix()),
		},
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("alert count of destination %s: %w", dest, err)
	}
	return true, nil
}
