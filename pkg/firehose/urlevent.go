package firehose

import (
	"encoding/base64"
	"errors"
	"fmt"
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

func parseURLEvent(b []byte, inPlace bool) (URLRequest, error) {
	var req URLRequest
	i := jsonscan.SkipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return req, errors.New("function URL event is not a JSON object")
	}
	var (
		bodyStart, bodyEnd = -1, -1
		bodyEsc, isBase64  bool
		method             string
	)
	end, err := walkObject(b, i, 0, func(key []byte, v int) (int, error) {
		switch string(key) {
		case "body":
			if b[v] != '"' {
				return jsonscan.SkipValue(b, v, 0) // null: no body
			}
			end, esc, ok := jsonscan.ScanLongString(b, v)
			if !ok {
				return 0, &jsonscan.SyntaxError{Offset: v, Msg: "unterminated body string"}
			}
			bodyStart, bodyEnd, bodyEsc = v+1, end-1, esc
			return end, nil
		case "isBase64Encoded":
			if b[v] == 't' {
				isBase64 = true
			}
			return jsonscan.SkipValue(b, v, 0)
		case "rawPath":
			return stringField(b, v, &req.RawPath)
		case "headers":
			if b[v] != '{' {
				return jsonscan.SkipValue(b, v, 0)
			}
			req.Headers = make(map[string]string, 16)
			return walkObject(b, v, 1, func(k []byte, v int) (int, error) {
				var s string
				end, err := stringField(b, v, &s)
				if err == nil && b[v] == '"' {
					req.Headers[strings.ToLower(string(k))] = s
				}
				return end, err
			})
		case "requestContext":
			if b[v] != '{' {
				return jsonscan.SkipValue(b, v, 0)
			}
			return walkObject(b, v, 1, func(k []byte, v int) (int, error) {
				if string(k) != "http" || b[v] != '{' {
					return jsonscan.SkipValue(b, v, 2)
				}
				return walkObject(b, v, 2, func(k []byte, v int) (int, error) {
					if string(k) == "method" {
						return stringField(b, v, &method)
					}
					return jsonscan.SkipValue(b, v, 3)
				})
			})
		case "httpMethod": // payload format 1.0
			if method == "" {
				return stringField(b, v, &method)
			}
		}
		return jsonscan.SkipValue(b, v, 0)
	})
	if err != nil {
		return req, fmt.Errorf("function URL event is not valid JSON: %w", err)
	}
	if j := jsonscan.SkipWS(b, end); j < len(b) {
		return req, fmt.Errorf("function URL event is not valid JSON: %w", &jsonscan.SyntaxError{Offset: j, Msg: "text after the object"})
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
		var ok bool
		if body, ok = jsonscan.Unescape(dst, raw); !ok {
			return req, errors.New("function URL event body has a bad string escape")
		}
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

// stringField reads a string value into *dst; other value types are skipped.
func stringField(b []byte, v int, dst *string) (int, error) {
	if b[v] != '"' {
		return jsonscan.SkipValue(b, v, 1)
	}
	s, end, err := readString(b, v)
	if err != nil {
		return 0, err
	}
	*dst = string(s)
	return end, nil
}
