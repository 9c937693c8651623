package awsfake

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aient/firehose-drain/internal/jsonscan"
)

// txAction is what the fake reads of one action of a TransactWriteItems request: the
// action (the first of Put, Update, Delete and ConditionCheck it holds), the "pk" of its
// Key (or of its Item, for a Put), its condition, the expression names that stand for
// "pk", and whether it asks for the item back.
type txAction struct {
	present bool // it holds one of the four actions
	hasKey  bool // that action has a Key or an Item
	pk      string
	cond    string
	pkNames []string // sorted
	allOld  bool
}

// cancels reports whether the action's existence condition fails on the fake's items:
// attribute_not_exists(pk) of an item that exists, or attribute_exists(pk) of one that
// does not. Its pk is named by one of pkNames ("#pk" when none is).
func (a txAction) cancels(exists bool) bool {
	names := a.pkNames
	if len(names) == 0 {
		names = []string{"#pk"}
	}
	for _, n := range names {
		if (exists && strings.Contains(a.cond, "attribute_not_exists("+n+")")) ||
			(!exists && strings.Contains(a.cond, "attribute_exists("+n+")")) {
			return true
		}
	}
	return false
}

// errType is a JSON value of the wrong type for the member it is in.
var errType = errors.New("awsfake: value of the wrong type")

// readTransaction reads the actions of a TransactWriteItems body in one pass over it,
// without decoding the attributes it does not need (the items' values, the update
// expressions): the fake's CPU stays small beside the code a benchmark measures, which it
// shares the cores with. It reads what encoding/json would read into the request's shape
// (member names matched case-insensitively, a repeated member merged into the one before,
// null leaving a string as it is and emptying an action, a key or a map), and rejects what
// encoding/json rejects (malformed JSON, a value of the wrong type); decodeTransaction in
// the tests is that reference.
func readTransaction(body []byte) ([]txAction, error) {
	type raw struct {
		put, update, del, check *rawAction
	}
	var items []raw
	top := func(i int) (int, error) {
		switch body[i] {
		case 'n':
			return jsonscan.Literal(body, i, "null")
		case '{':
		default:
			return 0, fmt.Errorf("%w: request", errType)
		}
		return jsonscan.WalkObject(body, i, 0, func(key []byte, v int) (int, error) {
			if !bytes.EqualFold(key, []byte("TransactItems")) {
				return jsonscan.SkipValue(body, v, 1)
			}
			switch body[v] {
			case 'n':
				items = nil
				return jsonscan.Literal(body, v, "null")
			case '[':
			default:
				return 0, fmt.Errorf("%w: TransactItems", errType)
			}
			// As encoding/json fills a slice: a repeated array is read into the elements
			// of the one before (and of its backing array, past its end), which it merges
			// into; an empty one is a new empty slice.
			n := 0
			end, err := jsonscan.WalkArray(body, v, 1, func(e int) (int, error) {
				if n >= cap(items) {
					items = slices.Grow(items, 1)
				}
				if n >= len(items) {
					items = items[:n+1]
				}
				it := &items[n]
				n++
				switch body[e] {
				case 'n':
					return jsonscan.Literal(body, e, "null")
				case '{':
				default:
					return 0, fmt.Errorf("%w: transact item", errType)
				}
				return jsonscan.WalkObject(body, e, 2, func(key []byte, v int) (int, error) {
					var slot **rawAction
					switch {
					case bytes.EqualFold(key, []byte("Put")):
						slot = &it.put
					case bytes.EqualFold(key, []byte("Update")):
						slot = &it.update
					case bytes.EqualFold(key, []byte("Delete")):
						slot = &it.del
					case bytes.EqualFold(key, []byte("ConditionCheck")):
						slot = &it.check
					default:
						return jsonscan.SkipValue(body, v, 3)
					}
					return readAction(body, v, slot)
				})
			})
			if items = items[:n]; n == 0 {
				items = []raw{}
			}
			return end, err
		})
	}
	i := jsonscan.SkipWS(body, 0)
	if i >= len(body) {
		return nil, &jsonscan.SyntaxError{Offset: i, Msg: "unexpected end of input"}
	}
	end, err := top(i)
	if err != nil {
		return nil, err
	}
	if end = jsonscan.SkipWS(body, end); end != len(body) {
		return nil, &jsonscan.SyntaxError{Offset: end, Msg: "data after the request"}
	}
	out := make([]txAction, len(items))
	for k, it := range items {
		a := it.put
		for _, b := range []*rawAction{it.update, it.del, it.check} {
			if a == nil {
				a = b
			}
		}
		if a == nil {
			continue
		}
		out[k] = txAction{present: true, cond: a.cond, allOld: a.returnValues == "ALL_OLD", pkNames: a.pkNames}
		key := a.key
		if key == nil {
			key = a.item
		}
		if key != nil {
			out[k].hasKey, out[k].pk = true, key.pk
		}
	}
	return out, nil
}

// rawAction is one action as readTransaction reads it.
type rawAction struct {
	item, key    *rawKey
	cond         string
	returnValues string
	pkNames      []string // the names ExpressionAttributeNames maps to "pk", sorted
}

type rawKey struct{ pk string }

// readAction reads the action at body[i] into *slot (a repeated action merges into it).
func readAction(body []byte, i int, slot **rawAction) (int, error) {
	switch body[i] {
	case 'n':
		*slot = nil
		return jsonscan.Literal(body, i, "null")
	case '{':
	default:
		return 0, fmt.Errorf("%w: action", errType)
	}
	if *slot == nil {
		*slot = &rawAction{}
	}
	a := *slot
	return jsonscan.WalkObject(body, i, 3, func(key []byte, v int) (int, error) {
		switch {
		case bytes.EqualFold(key, []byte("Item")):
			return readKey(body, v, &a.item)
		case bytes.EqualFold(key, []byte("Key")):
			return readKey(body, v, &a.key)
		case bytes.EqualFold(key, []byte("ConditionExpression")):
			return readString(body, v, &a.cond)
		case bytes.EqualFold(key, []byte("ReturnValuesOnConditionCheckFailure")):
			return readString(body, v, &a.returnValues)
		case bytes.EqualFold(key, []byte("ExpressionAttributeNames")):
			return readNames(body, v, &a.pkNames)
		}
		return jsonscan.SkipValue(body, v, 4)
	})
}

// readKey reads the "pk" of the item or key at body[i] into *slot, skipping its other
// attributes.
func readKey(body []byte, i int, slot **rawKey) (int, error) {
	switch body[i] {
	case 'n':
		*slot = nil
		return jsonscan.Literal(body, i, "null")
	case '{':
	default:
		return 0, fmt.Errorf("%w: key", errType)
	}
	if *slot == nil {
		*slot = &rawKey{}
	}
	k := *slot
	return jsonscan.WalkObject(body, i, 4, func(key []byte, v int) (int, error) {
		if !bytes.EqualFold(key, []byte("pk")) {
			return jsonscan.SkipValue(body, v, 5)
		}
		switch body[v] {
		case 'n':
			return jsonscan.Literal(body, v, "null")
		case '{':
		default:
			return 0, fmt.Errorf("%w: pk", errType)
		}
		return jsonscan.WalkObject(body, v, 5, func(key []byte, v int) (int, error) {
			if !bytes.EqualFold(key, []byte("S")) {
				return jsonscan.SkipValue(body, v, 6)
			}
			return readString(body, v, &k.pk)
		})
	})
}

// readString reads the string at body[i] into *dst (null leaves it as it is).
func readString(body []byte, i int, dst *string) (int, error) {
	switch body[i] {
	case 'n':
		return jsonscan.Literal(body, i, "null")
	case '"':
	default:
		return 0, fmt.Errorf("%w: string", errType)
	}
	s, end, err := jsonscan.ReadValidString(body, i)
	if err != nil {
		return 0, err //nolint:wrapcheck // the handler answers 400 with it
	}
	*dst = jsonscan.ValidText(string(s))
	return end, nil
}

// readNames reads the map of expression names at body[i], keeping in *pk the names that
// stand for "pk" (a repeated map merges into the one before; null empties it).
func readNames(body []byte, i int, pk *[]string) (int, error) {
	switch body[i] {
	case 'n':
		*pk = nil
		return jsonscan.Literal(body, i, "null")
	case '{':
	default:
		return 0, fmt.Errorf("%w: names", errType)
	}
	return jsonscan.WalkObject(body, i, 4, func(key []byte, v int) (int, error) {
		name := jsonscan.ValidText(string(key))
		var attr string
		end, err := readString(body, v, &attr)
		if err != nil {
			return 0, err
		}
		// The last value of a name is the one it has.
		*pk = slices.DeleteFunc(*pk, func(n string) bool { return n == name })
		if attr == "pk" {
			*pk = append(*pk, name)
			slices.Sort(*pk)
		}
		return end, nil
	})
}
