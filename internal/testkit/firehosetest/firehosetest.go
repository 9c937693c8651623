// Package firehosetest builds Firehose deliveries of CloudWatch Logs for tests: records
// the way CloudWatch writes them (gzip JSON, base64 in the request) and request bodies.
package firehosetest

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
)

// LogEvent is one CloudWatch Logs event of a record.
type LogEvent struct {
	ID              string            `json:"id"`
	Timestamp       int64             `json:"timestamp"`
	Message         string            `json:"message"`
	ExtractedFields map[string]string `json:"extractedFields,omitempty"`
}

// Owner is the account of the records Record builds.
const Owner = "123456789012"

// Record is the base64 data of a gzip CloudWatch Logs DATA_MESSAGE.
func Record(group, stream string, evs ...LogEvent) string {
	if evs == nil {
		evs = []LogEvent{}
	}
	raw, err := json.Marshal(map[string]any{
		"messageType": "DATA_MESSAGE", "owner": Owner, "logGroup": group, "logStream": stream,
		"subscriptionFilters": []string{"aient"}, "logEvents": evs,
	})
	if err != nil {
		panic(err) // only plain values above
	}
	return base64.StdEncoding.EncodeToString(Gzip(raw))
}

// Body is a Firehose request body carrying the given record data.
func Body(requestID string, data ...string) []byte {
	recs := make([]map[string]string, len(data))
	for i, d := range data {
		recs[i] = map[string]string{"data": d}
	}
	b, err := json.Marshal(map[string]any{"requestId": requestID, "timestamp": 1700000000000, "records": recs})
	if err != nil {
		panic(err)
	}
	return b
}

// Gzip compresses b.
func Gzip(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// ErrorEvent is the i-th occurrence of a structured Node.js error (the product's
// recommended shape): every occurrence is the same bug, with its own id and time.
func ErrorEvent(i int) LogEvent {
	return LogEvent{
		ID:        fmt.Sprintf("37563910511486759624444503250502373204917139759160%06d", i),
		Timestamp: 1700000000000 + int64(i),
		Message: fmt.Sprintf(`{"level":"ERROR","message":"charge failed for order %d","error":"PaymentError",`+
			`"stack":"PaymentError: charge failed for order %d\n    at charge (/var/task/src/pay.js:%d:5)\n    at handler (/var/task/src/index.js:12:3)\n    at Runtime.handleOnceNonStreaming (file:///var/runtime/index.mjs:1173:29)"}`, i, i, 10+i%7),
	}
}

// OtherErrorEvent is the i-th occurrence of a second, different bug (a Python KeyError).
func OtherErrorEvent(i int) LogEvent {
	return LogEvent{
		ID:        fmt.Sprintf("37563910511486759624444503250502373204917139759170%06d", i),
		Timestamp: 1700000000000 + int64(i),
		Message: fmt.Sprintf("[ERROR] KeyError: 'customer_%d'\nTraceback (most recent call last):\n"+
			"  File \"/var/task/app/handler.py\", line %d, in lambda_handler\n    return lookup(event)\n"+
			"  File \"/var/task/app/customers.py\", line 8, in lookup\n    return CUSTOMERS[event['id']]", i, 20+i%5),
	}
}

// InfoEvent is an informational Lambda text line.
func InfoEvent(i int) LogEvent {
	return LogEvent{
		ID:        fmt.Sprintf("37563910511486759624444503250502373204917139759180%06d", i),
		Timestamp: 1700000000000 + int64(i),
		Message:   fmt.Sprintf("2023-11-14T22:13:20.000Z\tc0ffee00-0000-4000-8000-000000000000\tINFO\tcharged order %d\n", i),
	}
}

// Interleaved is a delivery whose Lambda log stream interleaves two invocations (request
// ids ReqA and ReqB), each ending in an error of its own bug, in the Lambda text format;
// a second stream of the same function logs lines with ReqA's id that are not the
// invocation's (another stream). CrumbsA and CrumbsB are the lines before each error in
// its own invocation, oldest first.
func Interleaved(requestID string) (body []byte, crumbsA, crumbsB []string) {
	line := func(req, lvl, msg string) string {
		return "2026-11-21T12:00:00.000Z\t" + req + "\t" + lvl + "\t" + msg + "\n"
	}
	msgs := []string{
		"START RequestId: " + ReqA + " Version: $LATEST\n",
		line(ReqA, "INFO", "loading cart 17"),
		"START RequestId: " + ReqB + " Version: $LATEST\n",
		line(ReqB, "INFO", "loading invoice 9"),
		line(ReqA, "WARN", "cart 17 is large"),
		line(ReqB, "INFO", "rendering invoice 9"),
		line(ReqA, "ERROR", `Invoke Error {"errorType":"TypeError","errorMessage":"cart.items is undefined","stack":["TypeError: cart.items is undefined","    at total (/var/task/cart.js:7:9)"]}`),
		line(ReqB, "ERROR", `Invoke Error {"errorType":"RangeError","errorMessage":"page out of range","stack":["RangeError: page out of range","    at render (/var/task/invoice.js:3:1)"]}`),
	}
	evs := make([]LogEvent, len(msgs))
	for i, m := range msgs {
		evs[i] = LogEvent{ID: fmt.Sprintf("3756391051148675962444450325050237320491713975%010d", 9000+i), Timestamp: 1700000000000 + int64(i)*10, Message: m}
	}
	other := []LogEvent{{ID: "37563910511486759624444503250502373204917139759999999", Timestamp: 1699999999000, Message: line(ReqA, "INFO", "OTHER STREAM line")}}
	body = Body(requestID,
		Record("/aws/lambda/shop", "2026/11/21/[$LATEST]other", other...),
		Record("/aws/lambda/shop", "2026/11/21/[$LATEST]mine", evs...))
	trim := func(s string) string { return s[:len(s)-1] }
	return body, []string{trim(msgs[0]), trim(msgs[1]), trim(msgs[4])}, []string{trim(msgs[2]), trim(msgs[3]), trim(msgs[5])}
}

// The request ids of Interleaved.
const (
	ReqA = "aaaaaaaa-1111-4222-8333-444455556666"
	ReqB = "bbbbbbbb-1111-4222-8333-444455556666"
)

// LambdaDeliveryRequestID is the Firehose request id of LambdaDelivery's body.
const LambdaDeliveryRequestID = "6f2e3d10-0000-4000-8000-000000000001"

// LambdaDelivery builds a Firehose body of about size bytes, the same for every call: the
// log lines of Lambda invocations (START, END and REPORT platform lines; text and JSON
// application lines at INFO and WARN; ~5 % error-class lines, each a Node.js error with its
// stack), 150-500 events a record, one log stream per record across eight functions. The
// benchmarks of the OTLP export and of the whole ingest handler run over it.
func LambdaDelivery(size int) (body []byte, events int) {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"order", "payment", "user", "cart", "session", "invoice", "lookup", "cache"}
	var data []string
	total := 100
	seq := 0
	ts := int64(1763640000000)
	for total < size {
		var evs []LogEvent
		add := func(msg string) {
			seq++
			ts += int64(r.IntN(5))
			evs = append(evs, LogEvent{ID: fmt.Sprintf("%d%032d", ts, seq), Timestamp: ts, Message: msg})
		}
		for len(evs) < 150+r.IntN(350) {
			req := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xfff, r.Uint32()&0xfff, r.Uint64()&0xffffffffffff)
			add("START RequestId: " + req + " Version: $LATEST\n")
			for k := 2 + r.IntN(6); k > 0; k-- {
				stamp := time.UnixMilli(ts).UTC().Format("2006-01-02T15:04:05.000Z")
				switch x := r.IntN(100); {
				case x < 5:
					add(fmt.Sprintf("%s\t%s\tERROR\tInvoke Error \t{\"errorType\":\"TypeError\",\"errorMessage\":\"Cannot read properties of undefined (reading '%s')\",\"stack\":[\"TypeError: Cannot read properties of undefined (reading '%s')\",\"    at handler (/var/task/src/%s.js:%d:%d)\",\"    at Runtime.handleOnceNonStreaming (file:///var/runtime/index.mjs:1173:29)\"]}\n",
						stamp, req, words[r.IntN(8)], words[r.IntN(8)], words[r.IntN(8)], r.IntN(200), r.IntN(80)))
				case x < 50:
					add(fmt.Sprintf("%s\t%s\tINFO\t%s %s processed in %d ms (items=%d)\n", stamp, req, words[r.IntN(8)], words[r.IntN(8)], r.IntN(900), r.IntN(50)))
				case x < 60:
					add(fmt.Sprintf("%s\t%s\tWARN\tretrying %s after error: timeout after %d ms\n", stamp, req, words[r.IntN(8)], r.IntN(3000)))
				default:
					add(fmt.Sprintf("{\"level\":\"info\",\"time\":%d,\"requestId\":\"%s\",\"msg\":\"%s %s\",\"durationMs\":%d,\"status\":%d,\"path\":\"/api/%s/%d\"}\n", ts, req, words[r.IntN(8)], words[r.IntN(8)], r.IntN(900), 200+r.IntN(5)*100, words[r.IntN(8)], r.IntN(100000)))
				}
			}
			add("END RequestId: " + req + "\n")
			add(fmt.Sprintf("REPORT RequestId: %s\tDuration: %d.%02d ms\tBilled Duration: %d ms\tMemory Size: 512 MB\tMax Memory Used: %d MB\t\n", req, r.IntN(900), r.IntN(100), r.IntN(900)+1, 80+r.IntN(100)))
		}
		rec := Record(fmt.Sprintf("/aws/lambda/service-%d", r.IntN(8)), fmt.Sprintf("2026/11/20/[$LATEST]%016x%016x", r.Uint64(), r.Uint64()), evs...)
		data = append(data, rec)
		events += len(evs)
		total += len(rec) + 12
	}
	return Body(LambdaDeliveryRequestID, data...), events
}
