package firehose

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aient/firehose-drain/internal/jsonscan"
)

// URLRequest is the part of a Lambda Function URL event (payload format 2.0) the ingest
// needs.
type URLRequest struct {
	Method  string
	RawPath string
	// Headers has lower-case keys.
	Headers map[string]string
	// Body is base64-decoded when the event said isBase64Encoded.
	Body []byte
}

// ParseURLEvent reads a Function URL event. The body string, the bulk of the event, is
// unescaped once into one new buffer (and base64-decoded when isBase64Encoded); the small
// parts are read by the same single pass. payload is not modified.
func ParseURLEvent(payload []byte) (URLRequest, error) {
	return parseURLEvent(payload, false)
}

// ParseURLEventInPlace is ParseURLEvent without the body copy: the body string is
// unescaped in place, so payload is modified and URLRequest.Body aliases it. Use it when
// the payload bytes are the handler's own (the Lambda runtime reads a fresh buffer per
// invocation); it saves allocating the size of the request.
func ParseURLEventInPlace(payload []byte) (URLRequest, error) {
	return parseURLEvent(payload, true)
}

// The members of the event ParseURLEvent reads; each may appear once. It accepts what
// encoding/json accepts, read into the typed shape of payload format 2.0 (null is a member
// left out; a member of the wrong type or given twice is an error).
func parseURLEvent(b []byte, inPlace bool) (URLRequest, error) {
	var req URLRequest
	i := jsonscan.SkipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return req, errors.New("function URL event is not a JSON object")
	}
	var (
		bodyStart, bodyEnd = -1, -1
		bodyEsc, isBase64  bool
		method, v1Method   string
		seen               uint8
	)
	once := func(bit uint8, name string) error {
		if seen&bit != 0 {
			return errors.New("repeated " + name)
		}
		seen |= bit
		return nil
	}
	end, err := jsonscan.WalkObject(b, i, 0, func(key []byte, v int) (int, error) {
		switch string(key) {
		case "body":
			if err := once(1, "body"); err != nil {
				return 0, err
			}
			switch b[v] {
			case 'n':
				return jsonscan.Literal(b, v, "null") // no body
			case '"':
			default:
				return 0, errors.New("body is not a string")
			}
			end, esc, err := jsonscan.ValidString(b, v)
			if err != nil {
				return 0, err
			}
			bodyStart, bodyEnd, bodyEsc = v+1, end-1, esc
			return end, nil
		case "isBase64Encoded":
			if err := once(2, "isBase64Encoded"); err != nil {
				return 0, err
			}
			switch b[v] {
			case 't':
				isBase64 = true
				return jsonscan.Literal(b, v, "true")
			case 'f':
				return jsonscan.Literal(b, v, "false")
			case 'n':
				return jsonscan.Literal(b, v, "null")
			}
			return 0, errors.New("isBase64Encoded is not a boolean")
		case "rawPath":
			if err := once(4, "rawPath"); err != nil {
				return 0, err
			}
			return stringField(b, v, "rawPath", &req.RawPath)
		case "headers":
			if err := once(8, "headers"); err != nil {
				return 0, err
			}
			switch b[v] {
			case 'n':
				return jsonscan.Literal(b, v, "null")
			case '{':
			default:
				return 0, errors.New("headers is not an object")
			}
			req.Headers = make(map[string]string, 16)
			return jsonscan.WalkObject(b, v, 1, func(k []byte, v int) (int, error) {
				name := strings.ToLower(string(k))
				if _, dup := req.Headers[name]; dup {
					return 0, errors.New("repeated header " + strconv.Quote(name))
				}
				if b[v] == 'n' {
					return jsonscan.Literal(b, v, "null")
				}
				var s string
				end, err := stringField(b, v, "header "+strconv.Quote(name), &s)
				if err == nil {
					req.Headers[name] = s
				}
				return end, err
			})
		case "requestContext":
			if err := once(16, "requestContext"); err != nil {
				return 0, err
			}
			return objectField(b, v, 1, "requestContext", func(k []byte, v int) (int, error) {
				if string(k) != "http" {
					return jsonscan.SkipValue(b, v, 2)
				}
				if err := once(32, "requestContext.http"); err != nil {
					return 0, err
				}
				return objectField(b, v, 2, "requestContext.http", func(k []byte, v int) (int, error) {
					if string(k) != "method" {
						return jsonscan.SkipValue(b, v, 3)
					}
					if err := once(64, "requestContext.http.method"); err != nil {
						return 0, err
					}
					return stringField(b, v, "requestContext.http.method", &method)
				})
			})
		case "httpMethod": // payload format 1.0
			if err := once(128, "httpMethod"); err != nil {
				return 0, err
			}
			return stringField(b, v, "httpMethod", &v1Method)
		}
		return jsonscan.SkipValue(b, v, 1)
	})
	if err != nil {
		return req, fmt.Errorf("function URL event is not valid JSON: %w", err)
	}
	if j := jsonscan.SkipWS(b, end); j < len(b) {
		return req, fmt.Errorf("function URL event is not valid JSON: %w", &jsonscan.SyntaxError{Offset: j, Msg: "text after the object"})
	}
	if method == "" {
		method = v1Method
	}
	req.Method = strings.ToUpper(method)
	if req.Headers == nil {
		req.Headers = map[string]string{}
	}
	if bodyStart < 0 {
		return req, nil
	}
	raw := b[bodyStart:bodyEnd]
	body := raw
	if bodyEsc {
		var dst []byte
		if inPlace {
			dst = raw[:0]
		} else {
			dst = make([]byte, 0, len(raw))
		}
		body, _ = jsonscan.Unescape(dst, raw) // validated by jsonscan.ValidString
	} else if !inPlace {
		body = append([]byte(nil), raw...)
	}
	if isBase64 {
		dec := make([]byte, base64.StdEncoding.DecodedLen(len(body)))
		n, err := base64.StdEncoding.Decode(dec, body)
		if err != nil {
			return req, fmt.Errorf("function URL event body is not base64: %w", err)
		}
		body = dec[:n]
	}
	req.Body = body
	return req, nil
}

// stringField reads a string member into *dst: null leaves it, another type is an error.
func stringField(b []byte, v int, what string, dst *string) (int, error) {
	switch b[v] {
	case 'n':
		return jsonscan.Literal(b, v, "null")
	case '"':
	default:
		return 0, errors.New(what + " is not a string")
	}
	s, end, err := jsonscan.ReadValidString(b, v)
	if err != nil {
		return 0, err
	}
	*dst = string(s)
	return end, nil
}

// objectField walks an object member with fn: null is left out, another type is an error.
func objectField(b []byte, v, depth int, what string, fn func(k []byte, v int) (int, error)) (int, error) {
	switch b[v] {
	case 'n':
		return jsonscan.Literal(b, v, "null")
	case '{':
		return jsonscan.WalkObject(b, v, depth, fn)
	}
	return 0, errors.New(what + " is not an object")
}
