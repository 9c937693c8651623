package ddb

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/pkg/problems"
)

// unmarshal reads a problem item. A malformed item is an error naming the attribute.
func unmarshal(item map[string]types.AttributeValue) (problems.Problem, error) {
	r := reader{item: item}
	p := problems.Problem{
		ID:          r.str(attrID),
		Org:         r.str(attrOrg),
		Env:         r.str(attrEnv),
		Fingerprint: r.str(attrFingerprint),
		Title:       r.str(attrTitle),
		Culprit:     r.str(attrCulprit),
		Level:       r.str(attrLevel),
		Count:       r.num(attrCount),
		FirstSeen:   time.UnixMilli(r.num(attrFirstSeen)).UTC(),
		LastSeen:    time.UnixMilli(r.num(attrLastSeen)).UTC(),
		LogGroups:   r.strSet(attrLogGroups),
	}
	if raw := r.str(attrSample); raw != "" && r.err == nil {
		if err := json.Unmarshal([]byte(raw), &p.Sample); err != nil {
			r.err = fmt.Errorf("attribute %s: %w", attrSample, err)
		}
	}
	if r.err != nil {
		return problems.Problem{}, fmt.Errorf("problem item %s: %w", r.str(attrPK), r.err)
	}
	return p, nil
}

// reader reads typed attributes and keeps the first error.
type reader struct {
	item map[string]types.AttributeValue
	err  error
}

func (r *reader) fail(name string, av types.AttributeValue, want string) {
	if r.err == nil {
		r.err = fmt.Errorf("attribute %s is %T, want %s", name, av, want)
	}
}

func (r *reader) str(name string) string {
	av, ok := r.item[name]
	if !ok {
		return ""
	}
	s, ok := av.(*types.AttributeValueMemberS)
	if !ok {
		r.fail(name, av, "a string")
		return ""
	}
	return s.Value
}

func (r *reader) num(name string) int64 {
	av, ok := r.item[name]
	if !ok {
		if r.err == nil {
			r.err = fmt.Errorf("attribute %s is missing", name)
		}
		return 0
	}
	n, ok := av.(*types.AttributeValueMemberN)
	if !ok {
		r.fail(name, av, "a number")
		return 0
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("attribute %s: %w", name, err)
	}
	return v
}

// strSet reads a string set, sorted; an absent attribute is an empty set.
func (r *reader) strSet(name string) []string {
	av, ok := r.item[name]
	if !ok {
		return nil
	}
	ss, ok := av.(*types.AttributeValueMemberSS)
	if !ok {
		r.fail(name, av, "a string set")
		return nil
	}
	return slices.Sorted(slices.Values(ss.Value))
}
