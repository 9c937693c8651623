package ddb

import (
	"encoding/json"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/pkg/problems"
)

// attrBreadcrumbs holds an occurrence item's breadcrumbs (issue 10 item 5): the JSON of
// the lines of its invocation, written in the occurrence's own conditional put, so a
// redelivery writes nothing and a crash leaves both or neither. The sample's breadcrumbs
// are in the problem's sample attribute.
const attrBreadcrumbs = "breadcrumbs"

// breadcrumbsAttr is the attribute of bs; nil when there are none.
func breadcrumbsAttr(bs []problems.Breadcrumb) types.AttributeValue {
	if len(bs) == 0 {
		return nil
	}
	b, err := json.Marshal(bs)
	if err != nil {
		return nil // plain strings and times: cannot fail
	}
	return str(string(b))
}

// breadcrumbsOf reads the attribute; an absent or unreadable one gives none (the
// occurrence is listed without them rather than not at all).
func breadcrumbsOf(v types.AttributeValue) []problems.Breadcrumb {
	raw := strAttr(v)
	if raw == "" {
		return nil
	}
	var bs []problems.Breadcrumb
	if json.Unmarshal([]byte(raw), &bs) != nil {
		return nil
	}
	return bs
}
