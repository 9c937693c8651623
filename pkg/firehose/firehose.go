// Package firehose reads and writes the Amazon Data Firehose HTTP endpoint wire format
// ("HTTP endpoint delivery request and response specifications"), as it arrives through a
// Lambda Function URL (payload format 2.0) or plain HTTP.
package firehose

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/aient/firehose-drain/internal/jsonscan"
	"github.com/aient/firehose-drain/pkg/event"
)

// Protocol limits.
const (
	// MaxAccessKeyBytes is the longest X-Amz-Firehose-Access-Key Firehose sends.
	MaxAccessKeyBytes = 4096
	// MaxRecords is the most records one request may carry.
	MaxRecords = 10000
	// MaxCommonAttributes is the most common attributes one request may carry.
	MaxCommonAttributes = 50
)

// Header names, lower-case as Function URLs deliver them.
const (
	HeaderRequestID        = "x-amz-firehose-request-id"
	HeaderAccessKey        = "x-amz-firehose-access-key"
	HeaderSourceARN        = "x-amz-firehose-source-arn"
	HeaderCommonAttributes = "x-amz-firehose-common-attributes"
	HeaderProtocolVersion  = "x-amz-firehose-protocol-version"
	HeaderContentEncoding  = "content-encoding"
)

// Body is a Firehose request body.
type Body struct {
	RequestID string
	// Timestamp is the request's time, milliseconds since the epoch.
	Timestamp int64
	// Records holds the base64 text of each record's data. It aliases the parsed bytes
	// unless the JSON string held escapes.
	Records [][]byte
}

// ParseBody reads a Firehose request body. It accepts what encoding/json accepts, read
// into the typed shape {"requestId": string, "timestamp": number, "records": [{"data":
// string}]} (null is a member left out; a member of the wrong type or given twice is an
// error). Its errors say what is wrong, for the errorMessage of a 400 answer: not JSON,
// requestId missing, records missing or not an array or empty, a record without data, more
// than MaxRecords records. When the body is JSON but invalid, the returned Body still
// holds the requestId if there was one, so the answer can carry it.
func ParseBody(b []byte) (Body, error) {
	var body Body
	i := jsonscan.SkipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return body, errors.New("body is not JSON: not an object")
	}
	var (
		seen       map[string]bool
		sawRecords bool
		semantic   error // the first shape error; parsing goes on to find requestId
	)
	setErr := func(err error) {
		if semantic == nil {
			semantic = err
		}
	}
	end, err := jsonscan.WalkObject(b, i, 0, func(key []byte, v int) (int, error) {
		switch string(key) {
		case "requestId", "timestamp", "records":
			if seen[string(key)] {
				setErr(errors.New("repeated " + string(key)))
			}
			if seen == nil {
				seen = map[string]bool{}
			}
			seen[string(key)] = true
		default:
			return jsonscan.SkipValue(b, v, 1)
		}
		switch string(key) {
		case "requestId":
			if b[v] != '"' {
				if b[v] != 'n' {
					setErr(errors.New("requestId is not a string"))
				}
				return jsonscan.SkipValue(b, v, 1)
			}
			s, end, err := jsonscan.ReadValidString(b, v)
			if err != nil {
				return 0, err
			}
			body.RequestID = string(s)
			return end, nil
		case "timestamp":
			end, err := jsonscan.SkipValue(b, v, 1)
			if err != nil {
				return 0, err
			}
			if c := b[v]; c != '-' && (c < '0' || c > '9') {
				if c != 'n' {
					setErr(errors.New("timestamp is not a number"))
				}
				return end, nil
			}
			body.Timestamp = Int64(json.Number(b[v:end]))
			return end, nil
		default: // records
			body.Records = body.Records[:0]
			switch b[v] {
			case '[':
				sawRecords = true
				return parseRecords(b, v, &body, setErr)
			case 'n':
			default:
				setErr(errors.New("records is not an array"))
			}
			return jsonscan.SkipValue(b, v, 1)
		}
	})
	if err != nil {
		return body, fmt.Errorf("body is not JSON: %w", err)
	}
	if j := jsonscan.SkipWS(b, end); j < len(b) {
		return body, fmt.Errorf("body is not JSON: %w", &jsonscan.SyntaxError{Offset: j, Msg: "text after the object"})
	}
	switch {
	case body.RequestID == "" && semantic == nil:
		return body, errors.New("requestId missing")
	case semantic != nil:
		return body, semantic
	case !sawRecords:
		return body, errors.New("records missing")
	case len(body.Records) == 0:
		return body, errors.New("records is empty")
	}
	return body, nil
}

// Int64 is a JSON number as an int64: exactly when it is an integer in range, else the
// float truncated toward zero; 0 when it is out of range.
func Int64(n json.Number) int64 {
	if v, err := n.Int64(); err == nil {
		return v
	}
	if f, err := n.Float64(); err == nil && f >= math.MinInt64 && f < math.MaxInt64 {
		return int64(f)
	}
	return 0
}

// parseRecords reads the records array at b[i] == '['.
func parseRecords(b []byte, i int, body *Body, setErr func(error)) (int, error) {
	n := 0
	return jsonscan.WalkArray(b, i, 1, func(v int) (int, error) {
		idx := n
		n++
		if n == MaxRecords+1 {
			setErr(fmt.Errorf("more than %d records", MaxRecords))
		}
		if b[v] != '{' {
			setErr(fmt.Errorf("record %d is not an object", idx))
			return jsonscan.SkipValue(b, v, 2)
		}
		var data []byte
		found := false
		end, err := jsonscan.WalkObject(b, v, 2, func(key []byte, v int) (int, error) {
			if string(key) != "data" {
				return jsonscan.SkipValue(b, v, 3)
			}
			switch {
			case found:
				setErr(fmt.Errorf("record %d: repeated data", idx))
			case b[v] == 'n':
				return jsonscan.SkipValue(b, v, 3) // null: no data
			case b[v] != '"':
				setErr(fmt.Errorf("record %d: data is not a string", idx))
				return jsonscan.SkipValue(b, v, 3)
			}
			s, end, err := jsonscan.ReadValidString(b, v)
			if err != nil {
				return 0, err
			}
			data, found = s, true
			return end, nil
		})
		if err != nil {
			return 0, err
		}
		if !found {
			setErr(fmt.Errorf("record %d has no data", idx))
		}
		if n <= MaxRecords {
			body.Records = append(body.Records, data)
		}
		return end, nil
	})
}

// response is the answer Firehose requires.
type response struct {
	RequestID    string `json:"requestId"`
	Timestamp    int64  `json:"timestamp"`
	ErrorMessage string `json:"errorMessage,omitempty"`
}

// ResponseBody returns the answer Firehose requires:
// {"requestId": ..., "timestamp": <now, ms, a number>, "errorMessage"?: ...}.
func ResponseBody(requestID string, now time.Time, errorMessage string) []byte {
	b, err := json.Marshal(response{RequestID: requestID, Timestamp: now.UnixMilli(), ErrorMessage: errorMessage})
	if err != nil {
		// Marshalling two strings and an int cannot fail; keep the answer conforming anyway.
		return fmt.Appendf(nil, `{"requestId":"","timestamp":%d}`, now.UnixMilli())
	}
	return b
}

// ParseSourceARN returns the region and account of a delivery stream ARN
// (arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME); both are empty when arn is not one
// or its region is not AWS region syntax (event.ValidRegion: the region ends up in console
// links), and the account is empty when it is not twelve digits.
func ParseSourceARN(arn string) (region, account string) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "firehose" || !strings.HasPrefix(parts[5], "deliverystream/") ||
		!event.ValidRegion(parts[3]) {
		return "", ""
	}
	if len(parts[4]) != 12 || strings.Trim(parts[4], "0123456789") != "" {
		return parts[3], ""
	}
	return parts[3], parts[4]
}

// ParseCommonAttributes reads X-Amz-Firehose-Common-Attributes
// ({"commonAttributes":{k:v}}). An empty header gives a nil map.
func ParseCommonAttributes(h string) (map[string]string, error) {
	if strings.TrimSpace(h) == "" {
		return nil, nil
	}
	var v struct {
		CommonAttributes map[string]string `json:"commonAttributes"`
	}
	if err := json.Unmarshal([]byte(h), &v); err != nil {
		return nil, fmt.Errorf("common attributes header: %w", err)
	}
	if v.CommonAttributes == nil {
		return nil, errors.New("common attributes header: no commonAttributes object")
	}
	if len(v.CommonAttributes) > MaxCommonAttributes {
		return nil, fmt.Errorf("common attributes header: %d attributes, at most %d", len(v.CommonAttributes), MaxCommonAttributes)
	}
	return v.CommonAttributes, nil
}

// DecodeContent returns the request body inflated when it is gzip — by magic bytes
// (1f 8b), whatever Content-Encoding says — capped at maxInflated bytes. A body that is
// not gzip is returned as it is, also when Content-Encoding says gzip. Past the cap it
// returns an error (the caller answers 400, never 413).
func DecodeContent(body []byte, contentEncoding string, maxInflated int64) ([]byte, error) {
	if len(body) < 2 || body[0] != 0x1f || body[1] != 0x8b {
		return body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("request body (content-encoding %q) is not valid gzip: %w", contentEncoding, err)
	}
	out := make([]byte, 0, min(int64(len(body))*8, maxInflated)+1)
	w := &limitWriter{buf: out, limit: maxInflated}
	if _, err := zr.WriteTo(w); err != nil {
		if errors.Is(err, errInflateCap) {
			return nil, fmt.Errorf("request body inflates past the %d-byte cap", maxInflated)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("request body is truncated gzip: %w", err)
		}
		return nil, fmt.Errorf("request body is not valid gzip: %w", err)
	}
	return w.buf, nil
}

var errInflateCap = errors.New("inflated past the cap")

type limitWriter struct {
	buf   []byte
	limit int64
}

func (w *limitWriter) Write(p []byte) (int, error) {
	if int64(len(w.buf))+int64(len(p)) > w.limit {
		return 0, errInflateCap
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}
