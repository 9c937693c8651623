// Package ddbitem reads typed attributes out of DynamoDB items for the store adapters,
// keeping the first error so that a malformed item is one clear error, never a panic.
package ddbitem

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Reader reads attributes of one item. Absent attributes read as zero values unless the
// method says otherwise; an attribute of the wrong type is an error.
type Reader struct {
	Item map[string]types.AttributeValue
	err  error
}

// Err is the first error met.
func (r *Reader) Err() error { return r.err }

// Fail records err unless an error was recorded before.
func (r *Reader) Fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *Reader) wrongType(name string, av types.AttributeValue, want string) {
	r.Fail(fmt.Errorf("attribute %s is %T, want %s", name, av, want))
}

// Str reads a string.
func (r *Reader) Str(name string) string {
	av, ok := r.Item[name]
	if !ok {
		return ""
	}
	s, ok := av.(*types.AttributeValueMemberS)
	if !ok {
		r.wrongType(name, av, "a string")
		return ""
	}
	return s.Value
}

// Num reads an integer.
func (r *Reader) Num(name string) int64 {
	av, ok := r.Item[name]
	if !ok {
		return 0
	}
	n, ok := av.(*types.AttributeValueMemberN)
	if !ok {
		r.wrongType(name, av, "a number")
		return 0
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		r.Fail(fmt.Errorf("attribute %s: %w", name, err))
	}
	return v
}

// RequiredNum reads an integer that must be present.
func (r *Reader) RequiredNum(name string) int64 {
	if _, ok := r.Item[name]; !ok {
		r.Fail(fmt.Errorf("attribute %s is missing", name))
		return 0
	}
	return r.Num(name)
}

// Time reads unix milliseconds; an absent attribute is the zero time.
func (r *Reader) Time(name string) time.Time {
	if _, ok := r.Item[name]; !ok {
		return time.Time{}
	}
	return time.UnixMilli(r.Num(name)).UTC()
}

// StrSet reads a string set, sorted.
func (r *Reader) StrSet(name string) []string {
	av, ok := r.Item[name]
	if !ok {
		return nil
	}
	ss, ok := av.(*types.AttributeValueMemberSS)
	if !ok {
		r.wrongType(name, av, "a string set")
		return nil
	}
	return slices.Sorted(slices.Values(ss.Value))
}
