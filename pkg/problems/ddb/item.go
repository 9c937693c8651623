package ddb

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/internal/ddbitem"
	"github.com/aient/firehose-drain/pkg/problems"
)

// unmarshal reads a problem item. A malformed item is an error naming the attribute.
func unmarshal(item map[string]types.AttributeValue) (problems.Problem, error) {
	r := ddbitem.Reader{Item: item}
	p := problems.Problem{
		ID:          r.Str(attrID),
		Org:         r.Str(attrOrg),
		Env:         r.Str(attrEnv),
		Fingerprint: r.Str(attrFingerprint),
		Title:       r.Str(attrTitle),
		Culprit:     r.Str(attrCulprit),
		Level:       r.Str(attrLevel),
		Count:       r.RequiredNum(attrCount),
		FirstSeen:   time.UnixMilli(r.RequiredNum(attrFirstSeen)).UTC(),
		LastSeen:    time.UnixMilli(r.RequiredNum(attrLastSeen)).UTC(),
		LogGroups:   r.StrSet(attrLogGroups),
	}
	if raw := r.Str(attrSample); raw != "" && r.Err() == nil {
		if err := json.Unmarshal([]byte(raw), &p.Sample); err != nil {
			r.Fail(fmt.Errorf("attribute %s: %w", attrSample, err))
		}
	}
	var st seen
	readLifecycle(&r, &st)
	p.Lifecycle = st.lc.life
	if r.Err() != nil {
		return problems.Problem{}, fmt.Errorf("problem item %s: %w", r.Str(attrPK), r.Err())
	}
	return p, nil
}
