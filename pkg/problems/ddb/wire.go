package ddb

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// The body of a batch's TransactWriteItems is written here rather than by the SDK's
// serializer: it is most of the CPU between a cold batch's read and its write (a request
// of 100 actions cost ~0.9 ms to serialize, ~9 µs an action through the SDK's schema
// serializer), and the actions that do not depend on the read (the occurrences' Puts, the
// hours' Updates) can be encoded before the read is answered (draft). The JSON is what the
// SDK writes, member for member (TestTransactBodyAsTheSDKs holds it to the SDK's own on
// every shape of action and attribute value, FuzzTransactBody on any string); the SDK
// still validates the input, sets the request's method, path and headers, signs and sends
// it.

// actionSize is about the size of a write path's action in JSON (an occurrence's Put or an
// hour's Update ~500 bytes, a problem's Update ~2 KB, a notice's Put ~1 KB), to size the
// buffers they are encoded in.
const actionSize = 2 << 10

// errUnknownShape: a value the encoder does not know (a nil or unknown attribute value);
// the SDK's serializer writes that request instead.
var errUnknownShape = errors.New("ddb: no encoding for this value")

// txProtocol is the client's protocol, with the body of a TransactWriteItems written by
// appendAction: from encoded[i] for the action i when it is not nil (the action's JSON,
// encoded before), else from the action itself.
type txProtocol struct {
	smithyhttp.ClientProtocol

	encoded [][]byte
}

// withEncoded is the per-call option that writes a TransactWriteItems body with
// txProtocol, encoded being its actions' JSON where it is known (nil entries, or a nil
// slice: encoded at the call).
func withEncoded(encoded [][]byte) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		if o.Protocol != nil {
			o.Protocol = &txProtocol{ClientProtocol: o.Protocol, encoded: encoded}
		}
	}
}

// SerializeRequest writes a TransactWriteItems request's body itself, any other request
// (and one it cannot encode) by the SDK's protocol.
func (p *txProtocol) SerializeRequest(ctx context.Context, schema *smithy.OperationSchema, in smithy.Serializable, req *smithyhttp.Request) error {
	tin, ok := in.(*dynamodb.TransactWriteItemsInput)
	if !ok {
		return p.ClientProtocol.SerializeRequest(ctx, schema, in, req) //nolint:wrapcheck // the SDK's own
	}
	body, err := appendTransactBody(nil, tin, p.encoded)
	if err != nil {
		return p.ClientProtocol.SerializeRequest(ctx, schema, in, req) //nolint:wrapcheck // the SDK's own
	}
	// The SDK's protocol sets the method, path and headers (its body, of the input without
	// its actions, is replaced).
	head := *tin
	head.TransactItems = nil
	if err := p.ClientProtocol.SerializeRequest(ctx, schema, &head, req); err != nil {
		return err //nolint:wrapcheck // the SDK's own
	}
	sreq, err := req.SetStream(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("set stream: %w", err)
	}
	*req = *sreq
	return nil
}

// appendTransactBody appends the JSON of in, the actions from encoded where it has them.
func appendTransactBody(dst []byte, in *dynamodb.TransactWriteItemsInput, encoded [][]byte) ([]byte, error) {
	if dst == nil {
		// One allocation for the body, as far as it can be told: the actions encoded
		// before, and about actionSize for each of the others.
		n := 256
		for i := range in.TransactItems {
			if i < len(encoded) && encoded[i] != nil {
				n += len(encoded[i]) + 1
			} else {
				n += actionSize
			}
		}
		dst = make([]byte, 0, n)
	}
	dst = append(dst, '{')
	m := members{dst: dst}
	m.str("ClientRequestToken", in.ClientRequestToken)
	m.enum("ReturnConsumedCapacity", string(in.ReturnConsumedCapacity))
	m.enum("ReturnItemCollectionMetrics", string(in.ReturnItemCollectionMetrics))
	if in.TransactItems != nil {
		m.key("TransactItems")
		m.dst = append(m.dst, '[')
		for i := range in.TransactItems {
			if i > 0 {
				m.dst = append(m.dst, ',')
			}
			if i < len(encoded) && encoded[i] != nil {
				m.dst = append(m.dst, encoded[i]...)
				continue
			}
			var err error
			if m.dst, err = appendAction(m.dst, &in.TransactItems[i]); err != nil {
				return nil, err
			}
		}
		m.dst = append(m.dst, ']')
	}
	return append(m.dst, '}'), nil
}

// appendAction appends the JSON of one action of a TransactWriteItems.
func appendAction(dst []byte, it *types.TransactWriteItem) ([]byte, error) {
	dst = append(dst, '{')
	m := members{dst: dst}
	if c := it.ConditionCheck; c != nil {
		m.action("ConditionCheck", c.ConditionExpression, c.ExpressionAttributeNames, c.ExpressionAttributeValues,
			"Key", c.Key, c.ReturnValuesOnConditionCheckFailure, c.TableName, nil)
	}
	if d := it.Delete; d != nil {
		m.action("Delete", d.ConditionExpression, d.ExpressionAttributeNames, d.ExpressionAttributeValues,
			"Key", d.Key, d.ReturnValuesOnConditionCheckFailure, d.TableName, nil)
	}
	if p := it.Put; p != nil {
		m.action("Put", p.ConditionExpression, p.ExpressionAttributeNames, p.ExpressionAttributeValues,
			"Item", p.Item, p.ReturnValuesOnConditionCheckFailure, p.TableName, nil)
	}
	if u := it.Update; u != nil {
		m.action("Update", u.ConditionExpression, u.ExpressionAttributeNames, u.ExpressionAttributeValues,
			"Key", u.Key, u.ReturnValuesOnConditionCheckFailure, u.TableName, u.UpdateExpression)
	}
	if m.err != nil {
		return nil, m.err
	}
	return append(m.dst, '}'), nil
}

// action appends member kind of a TransactWriteItem: the members the four kinds share, in
// the SDK's order, item being the Key (or a Put's Item) and update an Update's expression.
func (m *members) action(
	kind string, cond *string, names map[string]string, values map[string]types.AttributeValue,
	itemMember string, item map[string]types.AttributeValue,
	rv types.ReturnValuesOnConditionCheckFailure, table, update *string,
) {
	m.key(kind)
	m.open()
	m.str("ConditionExpression", cond)
	m.names(names)
	m.values("ExpressionAttributeValues", values)
	m.values(itemMember, item)
	m.enum("ReturnValuesOnConditionCheckFailure", string(rv))
	m.str("TableName", table)
	m.str("UpdateExpression", update)
	m.close()
}

// members appends the members of a JSON object (after its '{'), the SDK's way: a pointer
// member when it is not nil, a string enum when it is not empty, a map when it is not nil.
// open and close nest an object as the value of the member just keyed.
type members struct {
	dst   []byte
	depth int
	comma [4]bool // per depth: the object has a member already
	err   error
}

func (m *members) key(k string) {
	if m.comma[m.depth] {
		m.dst = append(m.dst, ',')
	}
	m.comma[m.depth] = true
	m.dst = append(appendJSONString(m.dst, k), ':')
}

func (m *members) open() {
	m.dst = append(m.dst, '{')
	m.depth++
	m.comma[m.depth] = false
}

func (m *members) close() {
	m.dst = append(m.dst, '}')
	m.depth--
}

func (m *members) str(k string, v *string) {
	if v != nil {
		m.key(k)
		m.dst = appendJSONString(m.dst, *v)
	}
}

func (m *members) enum(k, v string) {
	if v != "" {
		m.key(k)
		m.dst = appendJSONString(m.dst, v)
	}
}

// names writes the ExpressionAttributeNames member.
func (m *members) names(v map[string]string) {
	if v == nil {
		return
	}
	m.key("ExpressionAttributeNames")
	m.dst = append(m.dst, '{')
	first := true
	for n, attr := range v {
		if !first {
			m.dst = append(m.dst, ',')
		}
		first = false
		m.dst = appendJSONString(m.dst, n)
		m.dst = append(m.dst, ':')
		m.dst = appendJSONString(m.dst, attr)
	}
	m.dst = append(m.dst, '}')
}

func (m *members) values(k string, v map[string]types.AttributeValue) {
	if v == nil {
		return
	}
	m.key(k)
	var err error
	if m.dst, err = appendAttributeMap(m.dst, v); err != nil && m.err == nil {
		m.err = err
	}
}

func appendAttributeMap(dst []byte, v map[string]types.AttributeValue) ([]byte, error) {
	dst = append(dst, '{')
	first := true
	for k, av := range v {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendJSONString(dst, k)
		dst = append(dst, ':')
		var err error
		if dst, err = appendAttributeValue(dst, av); err != nil {
			return nil, err
		}
	}
	return append(dst, '}'), nil
}

// appendAttributeValue appends an attribute value, the union as DynamoDB's JSON has it:
// {"S":"..."}, {"N":"..."}, {"M":{...}}, ...
func appendAttributeValue(dst []byte, av types.AttributeValue) ([]byte, error) {
	var err error
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		dst = appendJSONString(append(dst, `{"S":`...), v.Value)
	case *types.AttributeValueMemberN:
		dst = appendJSONString(append(dst, `{"N":`...), v.Value)
	case *types.AttributeValueMemberBOOL:
		dst = appendBool(append(dst, `{"BOOL":`...), v.Value)
	case *types.AttributeValueMemberNULL:
		dst = appendBool(append(dst, `{"NULL":`...), v.Value)
	case *types.AttributeValueMemberB:
		dst = appendBlob(append(dst, `{"B":`...), v.Value)
	case *types.AttributeValueMemberSS:
		dst = appendStrings(append(dst, `{"SS":`...), v.Value)
	case *types.AttributeValueMemberNS:
		dst = appendStrings(append(dst, `{"NS":`...), v.Value)
	case *types.AttributeValueMemberBS:
		dst = append(dst, `{"BS":[`...)
		for i, b := range v.Value {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendBlob(dst, b)
		}
		dst = append(dst, ']')
	case *types.AttributeValueMemberL:
		dst = append(dst, `{"L":[`...)
		for i, e := range v.Value {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendAttributeValue(dst, e); err != nil {
				return nil, err
			}
		}
		dst = append(dst, ']')
	case *types.AttributeValueMemberM:
		dst = append(dst, `{"M":`...)
		if dst, err = appendAttributeMap(dst, v.Value); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: %T", errUnknownShape, av)
	}
	return append(dst, '}'), nil
}

func appendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}

// appendBlob appends b in base64, null for a nil b (as the SDK writes it).
func appendBlob(dst, b []byte) []byte {
	if b == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

func appendStrings(dst []byte, v []string) []byte {
	dst = append(dst, '[')
	for i, s := range v {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, s)
	}
	return append(dst, ']')
}

// jsonSafe[c]: byte c stands for itself in a JSON string as the SDK writes one (ASCII but
// control bytes, DEL, '"' and '\\').
var jsonSafe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != 0x7f
	}
	return t
}()

// appendJSONString appends s as a JSON string the way the SDK's serializer does: '"' and
// '\\' escaped, \n \r \t, other control bytes and DEL as \u00XX, U+2028 and U+2029 as
// escapes, and each byte that is not UTF-8 as U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	i := 0
	for i < len(s) && jsonSafe[s[i]] {
		i++
	}
	if i == len(s) { // the usual string: nothing to escape
		return append(append(dst, s...), '"')
	}
	return appendEscaped(dst, s, i)
}

// appendEscaped appends s, escaped from i on (s[:i] needs no escape), and the closing quote.
func appendEscaped(dst []byte, s string, i int) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i < len(s) {
		b := s[i]
		if jsonSafe[b] {
			i++
			continue
		}
		if b < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xf])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			dst = append(append(dst, s[start:i]...), "\ufffd"...)
		case c == '\u2028' || c == '\u2029':
			dst = append(append(dst, s[start:i]...), '\\', 'u', '2', '0', '2', hex[c&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
