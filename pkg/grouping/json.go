package grouping

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/aient/firehose-drain/internal/jsonscan"
)

// rawJSON is a member's value as it is in the text: a string, an object, an
// array, a number, a literal.
type rawJSON string

// UnmarshalJSON keeps the value's text, so encoding/json fills a rawJSON as
// the fast decoder does.
func (r *rawJSON) UnmarshalJSON(b []byte) error {
	*r = rawJSON(b)
	return nil
}

// errObject is what grouping reads of a JSON log line or error object, with
// encoding/json's meaning: keys match case-insensitively (as encoding/json
// folds them), a later duplicate key wins, a value of the wrong type is left
// out. Fields whose value may be a string or an object or an array are kept
// raw and read by kind. Within one role the earlier field wins.
//
// The decoder is jsonFast (jsonscan, reading only these members, strings
// sliced from the message); encoding/json decoding into the same struct is
// its reference (FuzzJSONFastPath) and reads what nests deeper than
// jsonscan.MaxDepth.
type errObject struct {
	// The error's type (any level).
	ErrorType      string `json:"errorType"`
	ErrorTypeS     string `json:"error_type"`
	ExceptionName  string `json:"exception_name"`
	ExceptionTypeS string `json:"exception_type"`
	ExceptionType  string `json:"exceptionType"`
	ErrorDotType   string `json:"error.type"`
	ErrorDotKind   string `json:"error.kind"`
	ExcDotType     string `json:"exception.type"`
	ExcClassS      string `json:"exception_class"`
	ExcClass       string `json:"exceptionClass"`
	// The error's type inside a nested error object.
	Type      string `json:"type"`
	Name      string `json:"name"`
	Class     string `json:"class"`
	Kind      string `json:"kind"`
	ClassName string `json:"className"`

	// The error's message (any level).
	ErrorMessage     string `json:"errorMessage"`
	ErrorMessageS    string `json:"error_message"`
	ErrorDotMessage  string `json:"error.message"`
	ExcDotMessage    string `json:"exception.message"`
	ExcMessageS      string `json:"exception_message"`
	LocalizedMessage string `json:"localizedMessage"`
	// The log line's message at the top, the error's message inside.
	Message rawJSON `json:"message"`
	Msg     rawJSON `json:"msg"`
	MT      string  `json:"@mt"`
	M       string  `json:"@m"`
	Event   string  `json:"event"`
	Text    string  `json:"text"`

	// Stacks: a string or an array of frame strings or frame objects.
	Stack             rawJSON `json:"stack"`
	StackTrace        rawJSON `json:"stackTrace"`
	StackTraceS       rawJSON `json:"stack_trace"`
	ExcInfo           rawJSON `json:"exc_info"`
	ErrorStackTrace   rawJSON `json:"error.stack_trace"`
	ErrorStack        rawJSON `json:"error.stack"`
	ExcStackTrace     rawJSON `json:"exception.stacktrace"`
	ExcStackTraceS    rawJSON `json:"exception.stack_trace"`
	ExtendedStack     rawJSON `json:"extendedStackTrace"`
	Backtrace         rawJSON `json:"backtrace"`
	Traceback         rawJSON `json:"traceback"`
	X                 rawJSON `json:"@x"`
	Trace             rawJSON `json:"trace"`
	ErrorAnyException rawJSON `json:"exception"`
	ErrorAnyError     rawJSON `json:"error"`
	ErrorAnyErr       rawJSON `json:"err"`
	ErrorAnyThrown    rawJSON `json:"thrown"`
	ErrorAnyExc       rawJSON `json:"exc"`
	ErrorAnyE         rawJSON `json:"e"`

	// Causes: an object.
	Cause          rawJSON `json:"cause"`
	Reason         rawJSON `json:"reason"`
	InnerException rawJSON `json:"innerException"`
	Inner          rawJSON `json:"inner"`
	Previous       rawJSON `json:"previous"`

	Code rawJSON `json:"code"`

	// Container wrappers (Docker's JSON log driver, Fluent Bit, Container
	// Insights): the wrapped line; pod and container names are context only.
	Log rawJSON `json:"log"`
	// Step Functions execution history events: {"type":"TaskFailed",
	// "details":{"error","cause"},"execution_arn"}.
	Details      rawJSON `json:"details"`
	ExecutionArn string  `json:"execution_arn"`
}

// sfnDetails is a Step Functions event's details.
type sfnDetails struct {
	Error string `json:"error"`
	Cause string `json:"cause"`
}

// frameObject is one frame of a JSON stack: aws-lambda-go {path, line,
// label}, log4j2 {class, method, file, line}, Jackson's StackTraceElement
// {className, methodName, fileName, lineNumber}, PHP {class, function, file, line}.
type frameObject struct {
	Label          string  `json:"label"`
	Path           string  `json:"path"`
	Line           rawJSON `json:"line"`
	LineNumber     rawJSON `json:"lineNumber"`
	Class          string  `json:"class"`
	ClassName      string  `json:"className"`
	DeclaringClass string  `json:"declaringClass"`
	Method         string  `json:"method"`
	MethodName     string  `json:"methodName"`
	Function       string  `json:"function"`
	File           string  `json:"file"`
	FileName       string  `json:"fileName"`
}

// decodeObject decodes the JSON value at the start of s (after whitespace)
// into o; n is the index after it (trailing text is allowed). A value other
// than an object leaves o empty, as encoding/json does; ok is false when s
// does not start with a valid JSON value (o is then empty).
func decodeObject(s string, o *errObject) (n int, ok bool) {
	n, err := decodeFast(s, errObjectSchema, unsafe.Pointer(o), false)
	if jsonscan.TooDeep(err) {
		// Through a copy: o itself is never handed to encoding/json, so it
		// does not escape and stays on the caller's stack (it is 1 KiB).
		h := new(errObject)
		n, ok = decodeObjectStd(s, h)
		*o = *h
		return n, ok
	}
	if err != nil {
		*o = errObject{}
		return n, false
	}
	return n, true
}

// unmarshalLenient decodes the JSON text raw (one value, whitespace around
// it) into v, one of the decoded structs, keeping what fits when some member
// has the wrong type, as json.Unmarshal does; false when raw is not JSON.
func unmarshalLenient[T decoded](raw string, v *T) bool {
	_, err := decodeFast(raw, schemaOf[T](), unsafe.Pointer(v), true)
	if jsonscan.TooDeep(err) {
		h := new(T) // through a copy, as in decodeObject: v does not escape
		ok := unmarshalStd(raw, h)
		*v = *h
		return ok
	}
	if err != nil {
		var zero T
		*v = zero
		return false
	}
	return true
}

// decoded are the structs the fast decoder fills.
type decoded interface {
	errObject | frameObject | sfnDetails | platformRecord
}

// decodeObjectStd is decodeObject with encoding/json: the reference of the
// fast decoder, and the decoder of what nests deeper than jsonscan.MaxDepth.
func decodeObjectStd(s string, o *errObject) (n int, ok bool) {
	if t := strings.TrimRight(s, " \t\r\n"); strings.HasSuffix(t, "}") {
		// Usually the whole message is the object: one Unmarshal, no decoder buffer.
		err := json.Unmarshal([]byte(t), o)
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case err == nil || errors.As(err, &te):
			return len(t), true
		case !errors.As(err, &se):
			return len(t), false
		}
		*o = errObject{} // trailing text after the object: let the decoder find its end
	}
	dec := json.NewDecoder(strings.NewReader(s))
	err := dec.Decode(o)
	var te *json.UnmarshalTypeError
	if err != nil && !errors.As(err, &te) {
		return int(dec.InputOffset()), false
	}
	return int(dec.InputOffset()), true
}

// unmarshalStd is unmarshalLenient with encoding/json.
func unmarshalStd(raw string, v any) bool {
	err := json.Unmarshal([]byte(raw), v)
	var te *json.UnmarshalTypeError
	return err == nil || errors.As(err, &te)
}

// The fast decoder: a schema per struct, built once from its json tags by
// reflection, says for each member name (folded as encoding/json folds it)
// the field's kind and offset.

type fieldKind uint8

const (
	kindString fieldKind = iota // string: a JSON string, decoded
	kindRaw                     // rawJSON: any value's text
	kindInt                     // int: a JSON integer that fits
	kindStruct                  // a nested struct: a JSON object, merged into it
)

type jsonField struct {
	kind fieldKind
	off  uintptr
	sub  *jsonSchema
}

type jsonSchema struct {
	byName map[string]jsonField // by folded name
	maxKey int                  // the longest folded name, in bytes
}

var (
	errObjectSchema      = newSchema(reflect.TypeFor[errObject]())
	frameObjectSchema    = newSchema(reflect.TypeFor[frameObject]())
	sfnDetailsSchema     = newSchema(reflect.TypeFor[sfnDetails]())
	platformRecordSchema = newSchema(reflect.TypeFor[platformRecord]())
)

func schemaOf[T decoded]() *jsonSchema {
	var v T
	switch any(v).(type) {
	case errObject:
		return errObjectSchema
	case frameObject:
		return frameObjectSchema
	case sfnDetails:
		return sfnDetailsSchema
	}
	return platformRecordSchema
}

// newSchema reads a struct's json tags. Every field has a plain name tag
// and one of the kinds; no two names fold alike (encoding/json would then
// prefer the exact one).
func newSchema(t reflect.Type) *jsonSchema {
	sc := &jsonSchema{byName: make(map[string]jsonField, t.NumField())}
	for i := range t.NumField() {
		sf := t.Field(i)
		name := sf.Tag.Get("json")
		if name == "" || strings.Contains(name, ",") {
			panic(fmt.Sprintf("grouping: field %s.%s: a json tag with only a name is needed", t.Name(), sf.Name))
		}
		f := jsonField{off: sf.Offset}
		switch {
		case sf.Type == reflect.TypeFor[rawJSON]():
			f.kind = kindRaw
		case sf.Type.Kind() == reflect.String:
			f.kind = kindString
		case sf.Type.Kind() == reflect.Int:
			f.kind = kindInt
		case sf.Type.Kind() == reflect.Struct:
			f.kind, f.sub = kindStruct, newSchema(sf.Type)
		default:
			panic(fmt.Sprintf("grouping: field %s.%s: kind %s is not decoded", t.Name(), sf.Name, sf.Type.Kind()))
		}
		key := string(appendFolded(nil, []byte(name)))
		if _, dup := sc.byName[key]; dup {
			panic(fmt.Sprintf("grouping: field %s.%s: its name folds like another's", t.Name(), sf.Name))
		}
		sc.byName[key] = f
		sc.maxKey = max(sc.maxKey, len(key))
	}
	return sc
}

// appendFolded appends name folded as encoding/json folds member names:
// ASCII letters upper case, other runes the smallest of their case folding
// orbit (so "ſ" is "S" and the Kelvin sign "K").
func appendFolded(out, name []byte) []byte {
	for i := 0; i < len(name); {
		if c := name[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(name[i:])
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				r = r2
				break
			}
			r = r2
		}
		out = utf8.AppendRune(out, r)
		i += n
	}
	return out
}

// decodeFast decodes the JSON value at the start of s (after whitespace) into
// the struct at p; whole requires nothing but whitespace after it. It returns
// the index after the value. On an error the struct may be partly filled.
func decodeFast(s string, sc *jsonSchema, p unsafe.Pointer, whole bool) (int, error) {
	d := jsonFast{s: s, b: unsafe.Slice(unsafe.StringData(s), len(s))}
	i := jsonscan.SkipWS(d.b, 0)
	if i >= len(d.b) {
		return i, &jsonscan.SyntaxError{Offset: i, Msg: "unexpected end of input"}
	}
	var end int
	var err error
	if d.b[i] == '{' {
		end, err = d.object(i, sc, p, 0)
	} else {
		end, err = jsonscan.SkipValue(d.b, i, 0) // not an object: a type error, the struct stays empty
	}
	if err != nil {
		return end, err
	}
	if whole {
		if j := jsonscan.SkipWS(d.b, end); j < len(d.b) {
			return j, &jsonscan.SyntaxError{Offset: j, Msg: "text after the value"}
		}
	}
	return end, nil
}

// jsonFast reads s through b, a read-only view of it: the strings it
// returns are substrings of s whenever no escape or invalid UTF-8 has to be
// replaced.
type jsonFast struct {
	s string
	b []byte
}

// object decodes the object at b[i] == '{' into the struct at p, validating
// every member as encoding/json does, and returns the index after it.
func (d *jsonFast) object(i int, sc *jsonSchema, p unsafe.Pointer, depth int) (int, error) {
	if depth > jsonscan.MaxDepth {
		return 0, &jsonscan.SyntaxError{Offset: i, Msg: "nested too deeply"}
	}
	var keyBuf, foldBuf [48]byte
	i++
	for first := true; ; first = false {
		var done bool
		var err error
		if i, done, err = jsonscan.Member(d.b, i, first, '}', "object"); err != nil || done {
			return i, err
		}
		start, end, esc, v, err := jsonscan.Key(d.b, i)
		if err != nil {
			return 0, err
		}
		key := d.b[start:end]
		if esc {
			key, _ = jsonscan.Unescape(keyBuf[:0], key) // validated by Key
		}
		f, ok := sc.field(key, foldBuf[:0])
		if !ok {
			if i, err = jsonscan.SkipValue(d.b, v, depth+1); err != nil {
				return 0, err
			}
			continue
		}
		if i, err = d.value(v, f, unsafe.Add(p, f.off), depth+1); err != nil {
			return 0, err
		}
	}
}

// field finds the schema's field of a member name.
func (sc *jsonSchema) field(key, buf []byte) (jsonField, bool) {
	if len(key) > 4*sc.maxKey { // a folded rune takes at least a quarter of the bytes it came from
		return jsonField{}, false
	}
	folded := appendFolded(buf, key)
	if len(folded) > sc.maxKey {
		return jsonField{}, false
	}
	f, ok := sc.byName[string(folded)]
	return f, ok
}

// value decodes the value at b[i] into the field at p of kind f.kind; a
// value of another type is validated and passed over (encoding/json reports
// it as an UnmarshalTypeError and goes on), null leaves the field as it is.
func (d *jsonFast) value(i int, f jsonField, p unsafe.Pointer, depth int) (int, error) {
	c := d.b[i]
	if c == 'n' {
		if f.kind == kindRaw {
			end, err := jsonscan.Literal(d.b, i, "null")
			if err == nil {
				*(*rawJSON)(p) = rawJSON(d.s[i:end])
			}
			return end, err
		}
		return jsonscan.Literal(d.b, i, "null")
	}
	switch {
	case f.kind == kindRaw:
		end, err := jsonscan.SkipValue(d.b, i, depth)
		if err == nil {
			*(*rawJSON)(p) = rawJSON(d.s[i:end])
		}
		return end, err
	case f.kind == kindString && c == '"':
		end, esc, err := jsonscan.ValidString(d.b, i)
		if err == nil {
			*(*string)(p) = d.str(i, end, esc)
		}
		return end, err
	case f.kind == kindInt && (c == '-' || '0' <= c && c <= '9'):
		end, err := jsonscan.Number(d.b, i)
		if err == nil {
			if n, perr := strconv.ParseInt(d.s[i:end], 10, 64); perr == nil {
				*(*int)(p) = int(n)
			}
		}
		return end, err
	case f.kind == kindStruct && c == '{':
		return d.object(i, f.sub, p, depth)
	}
	return jsonscan.SkipValue(d.b, i, depth)
}

// str is the validated JSON string b[i:end] decoded as encoding/json
// decodes it: escapes replaced, each byte of invalid UTF-8 as U+FFFD.
func (d *jsonFast) str(i, end int, esc bool) string {
	inner := d.s[i+1 : end-1]
	if !esc {
		if utf8.ValidString(inner) {
			return inner
		}
		return string(jsonscan.AppendValid(make([]byte, 0, len(inner)+8), d.b[i+1:end-1]))
	}
	u, _ := jsonscan.Unescape(make([]byte, 0, len(inner)), d.b[i+1:end-1]) // validated
	if utf8.Valid(u) {
		return unsafe.String(unsafe.SliceData(u), len(u)) // u is not written again
	}
	return string(jsonscan.AppendValid(make([]byte, 0, len(u)+8), u))
}

// rawKind is the first byte of a raw value: '"', '{', '[', '0' for a number,
// or 0.
func rawKind(raw rawJSON) byte {
	i := 0
	for i < len(raw) && jsonscan.IsSpace(raw[i]) {
		i++
	}
	if i == len(raw) {
		return 0
	}
	switch c := raw[i]; c {
	case '"', '{', '[':
		return c
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return '0'
	}
	return 0
}

// rawString decodes a raw JSON string ("" when it is not one).
func rawString(raw rawJSON) (string, bool) {
	s := strings.TrimSpace(string(raw))
	if len(s) < 2 || s[0] != '"' {
		return "", false
	}
	d := jsonFast{s: s, b: unsafe.Slice(unsafe.StringData(s), len(s))}
	end, esc, err := jsonscan.ValidString(d.b, 0)
	if err != nil || end != len(s) {
		return "", false
	}
	return d.str(0, end, esc), true
}

// rawScalar is a raw string's text or a raw number's digits.
func rawScalar(raw rawJSON) string {
	switch rawKind(raw) {
	case '"':
		s, _ := rawString(raw)
		return s
	case '0':
		return strings.TrimSpace(string(raw))
	}
	return ""
}

// rawArray calls fn with each element of a raw JSON array, until fn returns
// false; false when raw is not an array.
func rawArray(raw rawJSON, fn func(item rawJSON) bool) bool {
	return rawArrayStrings(raw, func(item rawJSON, _ string, _ bool) bool { return fn(item) })
}

// rawArrayStrings is rawArray that hands fn a string element decoded too
// (str, isStr): the validation that finds its end decodes it, where
// rawString(item) would validate it a second time.
func rawArrayStrings(raw rawJSON, fn func(item rawJSON, str string, isStr bool) bool) bool {
	s := strings.TrimSpace(string(raw))
	if len(s) == 0 || s[0] != '[' {
		return false
	}
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	i, n := 1, 0 // n: the elements handed to fn
	for first := true; ; first = false {
		var done bool
		var err error
		if i, done, err = jsonscan.Member(b, i, first, ']', "array"); err != nil {
			return false
		} else if done {
			return true
		}
		var end int
		var str string
		isStr := b[i] == '"'
		if isStr {
			var esc bool
			if end, esc, err = jsonscan.ValidString(b, i); err == nil {
				d := jsonFast{s: s, b: b}
				str = d.str(i, end, esc)
			}
		} else {
			end, err = jsonscan.SkipValue(b, i, 1)
		}
		if jsonscan.TooDeep(err) {
			return rawArrayStd(s, n, func(item rawJSON) bool {
				str, isStr := rawString(item)
				return fn(item, str, isStr)
			})
		}
		if err != nil {
			return false
		}
		if !fn(rawJSON(s[i:end]), str, isStr) {
			return true
		}
		i, n = end, n+1
	}
}

// rawArrayStd is rawArray with encoding/json, from the element skip on (an
// array nested deeper than jsonscan.MaxDepth).
func rawArrayStd(s string, skip int, fn func(item rawJSON) bool) bool {
	var items []rawJSON
	if json.Unmarshal([]byte(s), &items) != nil {
		return false
	}
	for _, it := range items[min(skip, len(items)):] {
		if !fn(it) {
			break
		}
	}
	return true
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
