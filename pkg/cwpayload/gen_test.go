package cwpayload

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/klauspost/compress/gzip"
)

// generated is a realistic Firehose request built from a fixed seed.
type generated struct {
	urlEvent []byte   // the Lambda Function URL event (payload 2.0) carrying the body
	body     []byte   // the Firehose request body
	records  [][]byte // the base64 data of each record
	payloads [][]byte // each record's inflated CloudWatch document
	inflated int64    // sum of len(payloads)
	events   int      // log events in all records
	errors   int      // error-class log events
}

type genEvent struct {
	ID        string `json:"id"`
	Timestamp int64  `json:"timestamp"`
	Message   string `json:"message"`
}

type genDoc struct {
	MessageType         string     `json:"messageType"`
	Owner               string     `json:"owner"`
	LogGroup            string     `json:"logGroup"`
	LogStream           string     `json:"logStream"`
	SubscriptionFilters []string   `json:"subscriptionFilters"`
	LogEvents           []genEvent `json:"logEvents"`
}

func uuid(r *rand.Rand) string {
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xfff, r.Uint32()&0x3fff|0x8000, r.Uint64()&0xffffffffffff)
}

var genWords = []string{"order", "payment", "user", "cart", "session", "invoice", "lookup", "cache", "queue", "batch", "retry", "upstream", "token", "profile", "report"}

// errorMessage returns one multi-line error event in the style of a Lambda runtime.
func errorMessage(r *rand.Rand, ts time.Time, req string) string {
	stamp := ts.UTC().Format("2006-01-02T15:04:05.000Z")
	switch r.IntN(3) {
	case 0: // Node Invoke Error
		return fmt.Sprintf("%s\t%s\tERROR\tInvoke Error \t{\"errorType\":\"TypeError\",\"errorMessage\":\"Cannot read properties of undefined (reading '%s')\",\"stack\":[\"TypeError: Cannot read properties of undefined (reading '%s')\",\"    at handler (/var/task/src/%s.js:%d:%d)\",\"    at process (/var/task/src/lib/%s.js:%d:%d)\",\"    at Runtime.handleOnceNonStreaming (file:///var/runtime/index.mjs:1173:29)\"]}\n",
			stamp, req, genWords[r.IntN(len(genWords))], genWords[r.IntN(len(genWords))], genWords[r.IntN(len(genWords))], r.IntN(200), r.IntN(80), genWords[r.IntN(len(genWords))], r.IntN(200), r.IntN(80))
	case 1: // Python
		return fmt.Sprintf("[ERROR] KeyError: '%s'\nTraceback (most recent call last):\n  File \"/var/task/app.py\", line %d, in handler\n    return process(event['%s'])\n  File \"/var/task/lib/%s.py\", line %d, in process\n    value = record['%s']\n",
			genWords[r.IntN(len(genWords))], r.IntN(300), genWords[r.IntN(len(genWords))], genWords[r.IntN(len(genWords))], r.IntN(300), genWords[r.IntN(len(genWords))])
	default: // Java
		return fmt.Sprintf("%s %s ERROR com.example.%s.Handler - request failed\njava.lang.IllegalStateException: %s %d not found\n\tat com.example.%s.Service.load(Service.java:%d)\n\tat com.example.%s.Handler.handleRequest(Handler.java:%d)\n\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)\n\tat java.base/java.lang.reflect.Method.invoke(Method.java:580)\n",
			stamp, req, genWords[r.IntN(len(genWords))], genWords[r.IntN(len(genWords))], r.IntN(100000), genWords[r.IntN(len(genWords))], r.IntN(400), genWords[r.IntN(len(genWords))], r.IntN(400))
	}
}

// generateRequest builds a request whose body is about bodySize bytes: records of one
// CloudWatch document each (Lambda platform lines, text and JSON app logs, ~5% multi-line
// errors), gzip-compressed and base64-encoded, wrapped in a Function URL event.
func generateRequest(seed uint64, bodySize int) generated {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var g generated
	ts := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	size := 100
	seq := 0
	for size < bodySize {
		doc := genDoc{
			MessageType: "DATA_MESSAGE", Owner: "366620023056",
			LogGroup:            fmt.Sprintf("/aws/lambda/service-%d", r.IntN(8)),
			LogStream:           fmt.Sprintf("2026/11/20/[$LATEST]%016x%016x", r.Uint64(), r.Uint64()),
			SubscriptionFilters: []string{"aient-errors"},
		}
		n := 150 + r.IntN(350)
		for len(doc.LogEvents) < n {
			req := uuid(r)
			add := func(msg string) {
				ts = ts.Add(time.Duration(r.IntN(5000)) * time.Microsecond)
				seq++
				doc.LogEvents = append(doc.LogEvents, genEvent{
					ID:        fmt.Sprintf("%d%032d", ts.UnixMilli(), seq),
					Timestamp: ts.UnixMilli(), Message: msg,
				})
			}
			add(fmt.Sprintf("START RequestId: %s Version: $LATEST\n", req))
			for k := 2 + r.IntN(6); k > 0; k-- {
				stamp := ts.UTC().Format("2006-01-02T15:04:05.000Z")
				switch x := r.IntN(100); {
				case x < 6:
					add(errorMessage(r, ts, req))
					g.errors++
				case x < 50:
					add(fmt.Sprintf("%s\t%s\tINFO\t%s %s processed in %d ms (items=%d)\n", stamp, req, genWords[r.IntN(len(genWords))], genWords[r.IntN(len(genWords))], r.IntN(900), r.IntN(50)))
				case x < 60:
					add(fmt.Sprintf("%s\t%s\tWARN\tretrying %s after error: timeout after %d ms\n", stamp, req, genWords[r.IntN(len(genWords))], r.IntN(3000)))
				default:
					add(fmt.Sprintf("{\"level\":\"info\",\"time\":%d,\"requestId\":\"%s\",\"msg\":\"%s %s\",\"durationMs\":%d,\"status\":%d,\"path\":\"/api/%s/%d\"}\n", ts.UnixMilli(), req, genWords[r.IntN(len(genWords))], genWords[r.IntN(len(genWords))], r.IntN(900), 200+r.IntN(5)*100, genWords[r.IntN(len(genWords))], r.IntN(100000)))
				}
			}
			add(fmt.Sprintf("END RequestId: %s\n", req))
			add(fmt.Sprintf("REPORT RequestId: %s\tDuration: %d.%02d ms\tBilled Duration: %d ms\tMemory Size: 512 MB\tMax Memory Used: %d MB\t\n", req, r.IntN(900), r.IntN(100), r.IntN(900)+1, 80+r.IntN(100)))
		}
		payload, err := json.Marshal(doc)
		if err != nil {
			panic(err)
		}
		var buf bytes.Buffer
		w, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
		_, _ = w.Write(payload) // into a bytes.Buffer: never fails
		_ = w.Close()
		rec := []byte(base64.StdEncoding.EncodeToString(buf.Bytes()))
		g.records = append(g.records, rec)
		g.payloads = append(g.payloads, payload)
		g.inflated += int64(len(payload))
		g.events += len(doc.LogEvents)
		size += len(rec) + 12
	}
	type rec struct {
		Data string `json:"data"`
	}
	body := struct {
		RequestID string `json:"requestId"`
		Timestamp int64  `json:"timestamp"`
		Records   []rec  `json:"records"`
	}{RequestID: "6f2e3d10-0000-4000-8000-000000000001", Timestamp: ts.UnixMilli()}
	for _, d := range g.records {
		body.Records = append(body.Records, rec{string(d)})
	}
	g.body, _ = json.Marshal(body)
	ev := map[string]any{
		"version": "2.0", "routeKey": "$default", "rawPath": "/aws/firehose/drn_bench", "rawQueryString": "",
		"headers": map[string]string{
			"content-type": "application/json", "x-amz-firehose-protocol-version": "1.0",
			"x-amz-firehose-request-id": "6f2e3d10-0000-4000-8000-000000000001",
			"x-amz-firehose-source-arn": "arn:aws:firehose:us-east-2:366620023056:deliverystream/aient",
			"x-amz-firehose-access-key": "k3y",
			"host":                      "abc.lambda-url.us-east-2.on.aws",
		},
		"requestContext": map[string]any{
			"accountId": "anonymous", "apiId": "abc", "domainName": "abc.lambda-url.us-east-2.on.aws",
			"http":      map[string]string{"method": "POST", "path": "/aws/firehose/drn_bench", "protocol": "HTTP/1.1", "sourceIp": "3.1.2.3", "userAgent": "Amazon Kinesis Data Firehose Agent/1.0"},
			"requestId": "r", "routeKey": "$default", "stage": "$default", "time": "20/Nov/2026:12:00:00 +0000", "timeEpoch": 1,
		},
		"body": string(g.body), "isBase64Encoded": false,
	}
	g.urlEvent, _ = json.Marshal(ev)
	return g
}
