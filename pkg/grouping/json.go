package grouping

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"
)

// errObject is what grouping reads of a JSON log line or error object:
// encoding/json matches the keys case-insensitively. Fields whose value may
// be a string or an object or an array are kept raw and read by kind. Within
// one role the earlier field wins.
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
	Message json.RawMessage `json:"message"`
	Msg     json.RawMessage `json:"msg"`
	MT      string          `json:"@mt"`
	M       string          `json:"@m"`
	Event   string          `json:"event"`
	Text    string          `json:"text"`

	// Stacks: a string or an array of frame strings or frame objects.
	Stack             json.RawMessage `json:"stack"`
	StackTrace        json.RawMessage `json:"stackTrace"`
	StackTraceS       json.RawMessage `json:"stack_trace"`
	ExcInfo           json.RawMessage `json:"exc_info"`
	ErrorStackTrace   json.RawMessage `json:"error.stack_trace"`
	ErrorStack        json.RawMessage `json:"error.stack"`
	ExcStackTrace     json.RawMessage `json:"exception.stacktrace"`
	ExcStackTraceS    json.RawMessage `json:"exception.stack_trace"`
	ExtendedStack     json.RawMessage `json:"extendedStackTrace"`
	Backtrace         json.RawMessage `json:"backtrace"`
	Traceback         json.RawMessage `json:"traceback"`
	X                 json.RawMessage `json:"@x"`
	Trace             json.RawMessage `json:"trace"`
	ErrorAnyException json.RawMessage `json:"exception"`
	ErrorAnyError     json.RawMessage `json:"error"`
	ErrorAnyErr       json.RawMessage `json:"err"`
	ErrorAnyThrown    json.RawMessage `json:"thrown"`
	ErrorAnyExc       json.RawMessage `json:"exc"`
	ErrorAnyE         json.RawMessage `json:"e"`

	// Causes: an object.
	Cause          json.RawMessage `json:"cause"`
	Reason         json.RawMessage `json:"reason"`
	InnerException json.RawMessage `json:"innerException"`
	Inner          json.RawMessage `json:"inner"`
	Previous       json.RawMessage `json:"previous"`

	Code json.RawMessage `json:"code"`

	// Container wrappers (Docker's JSON log driver, Fluent Bit, Container
	// Insights): the wrapped line; pod and container names are context only.
	Log json.RawMessage `json:"log"`
	// Step Functions execution history events: {"type":"TaskFailed",
	// "details":{"error","cause"},"execution_arn"}.
	Details      json.RawMessage `json:"details"`
	ExecutionArn string          `json:"execution_arn"`
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
	Label          string          `json:"label"`
	Path           string          `json:"path"`
	Line           json.RawMessage `json:"line"`
	LineNumber     json.RawMessage `json:"lineNumber"`
	Class          string          `json:"class"`
	ClassName      string          `json:"className"`
	DeclaringClass string          `json:"declaringClass"`
	Method         string          `json:"method"`
	MethodName     string          `json:"methodName"`
	Function       string          `json:"function"`
	File           string          `json:"file"`
	FileName       string          `json:"fileName"`
}

// decodeObject decodes the JSON object at the start of s; n is the number of
// bytes it took (trailing text is allowed). Values of the wrong type for a
// field are left out, as encoding/json does, without failing the object.
func decodeObject(s string, o *errObject) (n int, ok bool) {
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

// unmarshalLenient decodes raw into v, keeping what fits when some field has
// the wrong type.
func unmarshalLenient(raw []byte, v any) bool {
	err := json.Unmarshal(raw, v)
	var te *json.UnmarshalTypeError
	return err == nil || errors.As(err, &te)
}

// rawKind is the first byte of a raw value: '"', '{', '[', or 0.
func rawKind(raw json.RawMessage) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	switch c := raw[0]; c {
	case '"', '{', '[':
		return c
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return '0'
	}
	return 0
}

// rawString decodes a raw JSON string ("" when it is not one).
func rawString(raw json.RawMessage) (string, bool) {
	if rawKind(raw) != '"' {
		return "", false
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) >= 2 {
		if inner := raw[1 : len(raw)-1]; bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
			return string(inner), true // encoding/json validated it: no escapes, nothing to decode
		}
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// rawScalar is a raw string's text or a raw number's digits.
func rawScalar(raw json.RawMessage) string {
	switch rawKind(raw) {
	case '"':
		s, _ := rawString(raw)
		return s
	case '0':
		return string(bytes.TrimSpace(raw))
	}
	return ""
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
