package ddb

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/pkg/problems"
)

var _ problems.AffectedReader = (*Store)(nil)

// Affected reads the problems' items (BatchGetItem, 100 a request) and answers their
// affected counters as Detail does (affectedOf).
func (s *Store) Affected(ctx context.Context, ids []string) (map[string]problems.Affected, error) {
	out := make(map[string]problems.Affected, len(ids))
	seen := map[string]bool{}
	var keys []map[string]types.AttributeValue
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			keys = append(keys, map[string]types.AttributeValue{attrPK: str(problemPrefix + id)})
		}
	}
	for len(keys) > 0 {
		n := min(len(keys), 100)
		res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			s.table: {Keys: keys[:n]},
		}})
		if err != nil {
			return nil, fmt.Errorf("affected counts of %d problems: %w", len(ids), err)
		}
		keys = keys[n:]
		if un, ok := res.UnprocessedKeys[s.table]; ok {
			keys = append(keys, un.Keys...)
		}
		for _, item := range res.Responses[s.table] {
			if pk, ok := item[attrPK].(*types.AttributeValueMemberS); ok {
				out[strings.TrimPrefix(pk.Value, problemPrefix)] = affectedOf(item)
			}
		}
	}
	return out, nil
}
