package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/ingest"
	"github.com/aient/firehose-drain/pkg/level"
)

// sendFile is what one FILE of `aient send` holds: a Firehose request body, or a Function
// URL request event (events/) whose method, body and headers are sent.
type sendFile struct {
	method  string
	body    []byte
	headers map[string]string
	// skip says why the file is not sent (an SQS batch is for the grouper, not the endpoint).
	skip string
}

func readSendFile(path string) (sendFile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return sendFile{}, err
	}
	var probe struct {
		RawPath         *string           `json:"rawPath"`
		Headers         map[string]string `json:"headers"`
		Body            string            `json:"body"`
		IsBase64Encoded bool              `json:"isBase64Encoded"`
		RequestContext  struct {
			HTTP struct {
				Method string `json:"method"`
			} `json:"http"`
		} `json:"requestContext"`
	}
	plain := sendFile{method: http.MethodPost, body: raw, headers: map[string]string{}}
	var keys map[string]json.RawMessage // exact keys: encoding/json matches fields case-insensitively
	if err := json.Unmarshal(raw, &keys); err != nil || json.Unmarshal(raw, &probe) != nil {
		// Not a JSON object: send the bytes as they are (a bad body on purpose).
		return plain, nil
	}
	_, isEvent := keys["rawPath"]
	if _, isSQS := keys["Records"]; isSQS && !isEvent {
		return sendFile{skip: "an SQS event for the grouper (sam local invoke GrouperFunction), not a Firehose delivery"}, nil
	}
	if !isEvent {
		return plain, nil // a Firehose request body
	}
	body := []byte(probe.Body)
	if probe.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(probe.Body); err != nil {
			return sendFile{}, fmt.Errorf("%s: body is not base64: %w", path, err)
		}
	}
	if probe.Headers == nil {
		probe.Headers = map[string]string{}
	}
	method := strings.ToUpper(probe.RequestContext.HTTP.Method)
	if method == "" {
		method = http.MethodPost
	}
	return sendFile{method: method, body: body, headers: probe.Headers}, nil
}

// SendResult is what `aient send --json` prints for each input (a FILE, or the --message
// delivery): the endpoint's answer, or why nothing was sent.
type SendResult struct {
	Input  string `json:"input"`
	Status int    `json:"status,omitempty"`
	// Answer is the endpoint's body (Firehose's JSON answer).
	Answer string `json:"answer,omitempty"`
	// Note says what send made of the input (a CloudWatch document it wrapped, a message
	// that is not error-class).
	Note    string `json:"note,omitempty"`
	Skipped string `json:"skipped,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Defaults of `aient send --message`.
const (
	sendLogGroup  = "/aws/lambda/aient-send"
	sendOwner     = "123456789012"
	sendSourceARN = "arn:aws:firehose:us-east-1:" + sendOwner + ":deliverystream/aient-send"
	maxSendCount  = 10000
)

func (c *command) send(ctx context.Context, args []string) error {
	f := c.newFlags("send", true)
	endpoint := f.String("endpoint", "", "the drain's endpoint URL, <base>/aws/firehose/<drainId> (required)")
	key := f.String("key", "", "optional: the drain's access key (wins over an events/ file's own)")
	message := f.String("message", "", `a log line to deliver instead of FILEs, e.g. "ERROR something broke"`)
	logGroup := f.String("log-group", sendLogGroup, "--message: the CloudWatch log group it comes from")
	count := f.Int("count", 1, "--message: how many log events of it to send (fresh event ids, one record)")
	files, err := f.parse(args)
	if err != nil {
		return err
	}
	switch {
	case *endpoint == "":
		return usageError("send needs --endpoint URL (aient drains create prints it)")
	case *message == "" && len(files) == 0:
		return usageError("send needs --message TEXT or at least one FILE")
	case *message != "" && len(files) > 0:
		return usageError("send takes --message or FILEs, not both")
	case *count < 1 || *count > maxSendCount:
		return usageError("--count must be 1..%d", maxSendCount)
	}
	if err := checkEndpoint(*endpoint); err != nil {
		return err
	}
	var inputs []sendInput
	if *message != "" {
		sf, note, err := messageDelivery(*message, *logGroup, *count, time.Now())
		if err != nil {
			return err
		}
		inputs = append(inputs, sendInput{name: "--message", file: sf, note: note})
	}
	for _, path := range files {
		sf, note, err := readInput(path)
		inputs = append(inputs, sendInput{name: path, file: sf, note: note, err: err})
	}

	client := &http.Client{Timeout: 3 * time.Minute}
	var results []SendResult
	failed, sent := 0, 0
	for _, in := range inputs {
		r := SendResult{Input: in.name, Note: in.note, Skipped: in.file.skip}
		switch {
		case in.err != nil:
			r.Error, failed, sent = in.err.Error(), failed+1, sent+1
		case in.file.skip != "":
		default:
			sent++
			r.Status, r.Answer, err = post(ctx, client, *endpoint, *key, in.file)
			if err != nil {
				r.Error = err.Error()
			}
			if r.Status != http.StatusOK {
				failed++
			}
		}
		results = append(results, r)
		if !f.json {
			printSendResult(c.stdout, r)
		}
	}
	if f.json {
		if err := c.printJSON(results); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d inputs were not accepted (200)", failed, sent)
	}
	return nil
}

type sendInput struct {
	name string
	file sendFile
	note string
	err  error
}

func printSendResult(w io.Writer, r SendResult) {
	switch {
	case r.Skipped != "":
		fmt.Fprintf(w, "%s: skipped: %s\n", r.Input, r.Skipped)
	case r.Status == 0:
		fmt.Fprintf(w, "%s: not sent: %s\n", r.Input, r.Error)
	default:
		fmt.Fprintf(w, "%s: %d %s\n", r.Input, r.Status, r.Answer)
	}
	if r.Note != "" {
		fmt.Fprintf(w, "  note: %s\n", r.Note)
	}
}

// checkEndpoint refuses an endpoint that is not a drain's: a base URL (the local server's,
// the stack's FunctionUrl) gets the path explained rather than a 404.
func checkEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError("--endpoint %q is not an http(s) URL", endpoint)
	}
	id, ok := strings.CutPrefix(u.EscapedPath(), ingest.PathPrefix)
	if !ok || !drains.ValidID(id) {
		base := strings.TrimRight((&url.URL{Scheme: u.Scheme, Host: u.Host}).String(), "/")
		return usageError("--endpoint %s is not a drain's endpoint: Firehose delivers to <base>%s<drainId>, e.g. %s%sdrn_… "+
			"(`aient drains create` prints it; `aient drains list` shows the ids)", endpoint, ingest.PathPrefix, base, ingest.PathPrefix)
	}
	return nil
}

// readInput reads FILE as sendFile does, and wraps a bare CloudWatch Logs document (what a
// subscription filter produces, without Firehose's request around it) in a Firehose
// request, as the delivery stream would.
func readInput(path string) (sendFile, string, error) {
	sf, err := readSendFile(path)
	if err != nil || sf.skip != "" {
		return sf, "", err
	}
	var keys map[string]json.RawMessage
	if json.Unmarshal(sf.body, &keys) != nil {
		return sf, "", nil
	}
	_, events := keys["logEvents"]
	_, kind := keys["messageType"]
	_, records := keys["records"]
	if records || (!events && !kind) {
		return sf, "", nil
	}
	body, reqID, err := firehoseBody(sf.body, time.Now())
	if err != nil {
		return sendFile{}, "", fmt.Errorf("%s: %w", path, err)
	}
	wrapped := sendFile{method: http.MethodPost, body: body, headers: map[string]string{
		"x-amz-firehose-request-id": reqID, "x-amz-firehose-source-arn": sendSourceARN,
	}}
	return wrapped, "a CloudWatch Logs document, not a Firehose request: sent as the one record of a Firehose request (gzip, base64), as a delivery stream would; its event ids are kept, so sending it again counts nothing twice", nil
}

// messageDelivery is a Firehose request carrying count log events of message in one
// CloudWatch Logs document of logGroup, each with a fresh event id.
func messageDelivery(message, logGroup string, count int, now time.Time) (sendFile, string, error) {
	type logEvent struct {
		ID        string `json:"id"`
		Timestamp int64  `json:"timestamp"`
		Message   string `json:"message"`
	}
	doc := struct {
		MessageType         string     `json:"messageType"`
		Owner               string     `json:"owner"`
		LogGroup            string     `json:"logGroup"`
		LogStream           string     `json:"logStream"`
		SubscriptionFilters []string   `json:"subscriptionFilters"`
		LogEvents           []logEvent `json:"logEvents"`
	}{
		MessageType: "DATA_MESSAGE", Owner: sendOwner, LogGroup: logGroup,
		LogStream:           now.UTC().Format("2006/01/02") + "/[$LATEST]" + randomHex(16),
		SubscriptionFilters: []string{"aient-send"},
	}
	for i := range count {
		id, err := eventID()
		if err != nil {
			return sendFile{}, "", err
		}
		doc.LogEvents = append(doc.LogEvents, logEvent{ID: id, Timestamp: now.UnixMilli() + int64(i), Message: message})
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return sendFile{}, "", err
	}
	body, reqID, err := firehoseBody(raw, now)
	if err != nil {
		return sendFile{}, "", err
	}
	note := ""
	if !level.Of([]byte(message)).IsErrorClass() {
		note = "the message is not error-class, so it makes no problem (counted as an event only): start it with ERROR, " +
			`or send JSON such as {"level":"error","message":"..."}`
	}
	return sendFile{method: http.MethodPost, body: body, headers: map[string]string{
		"x-amz-firehose-request-id": reqID, "x-amz-firehose-source-arn": sendSourceARN,
	}}, note, nil
}

// firehoseBody is a Firehose request body of one record holding doc (gzip, base64).
func firehoseBody(doc []byte, now time.Time) (body []byte, requestID string, err error) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(doc); err != nil {
		return nil, "", err
	}
	if err := zw.Close(); err != nil {
		return nil, "", err
	}
	requestID = uuid()
	body, err = json.Marshal(map[string]any{
		"requestId": requestID, "timestamp": now.UnixMilli(),
		"records": []map[string]string{{"data": base64.StdEncoding.EncodeToString(gz.Bytes())}},
	})
	return body, requestID, err
}

// eventID is a fresh CloudWatch-like event id: 56 random decimal digits.
func eventID() (string, error) {
	var b [56]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("event id: %w", err)
	}
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b[:]), nil
}

func randomHex(n int) string {
	b := make([]byte, n/2)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

func uuid() string {
	h := randomHex(32)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
}

// post sends one input and answers the status and the answer's body.
func post(ctx context.Context, client *http.Client, endpoint, key string, sf sendFile) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, sf.method, endpoint, bytes.NewReader(sf.body))
	if err != nil {
		return 0, "", fmt.Errorf("endpoint %q: %w", endpoint, err)
	}
	for k, v := range sf.headers {
		if strings.HasPrefix(k, "x-amz-firehose-") || k == "content-encoding" || k == "content-type" {
			req.Header.Set(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Firehose-Protocol-Version", "1.0")
	if req.Header.Get("X-Amz-Firehose-Request-Id") == "" {
		var b struct {
			RequestID string `json:"requestId"`
		}
		if json.Unmarshal(sf.body, &b) == nil && b.RequestID != "" {
			req.Header.Set("X-Amz-Firehose-Request-Id", b.RequestID)
		}
	}
	if key != "" {
		req.Header.Set("X-Amz-Firehose-Access-Key", key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close() // read to the end or to the cap: nothing more to learn from it
	return resp.StatusCode, string(bytes.TrimSpace(answer)), nil
}
