package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
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

func (c *command) send(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	endpoint := fs.String("endpoint", "", "the drain's endpoint URL (required)")
	key := fs.String("key", "", "the drain's access key (wins over an events/ file's own)")
	f := &flags{FlagSet: fs, out: c.stdout}
	files, err := f.parse(args)
	if err != nil {
		return err
	}
	if *endpoint == "" || len(files) == 0 {
		return usageError("send needs --endpoint URL and at least one FILE")
	}
	client := &http.Client{Timeout: 3 * time.Minute}
	failed, sent := 0, 0
	for _, path := range files {
		sf, err := readSendFile(path)
		if err != nil {
			return err
		}
		if sf.skip != "" {
			fmt.Fprintf(c.stdout, "%s: skipped: %s\n", path, sf.skip)
			continue
		}
		sent++
		req, err := http.NewRequestWithContext(ctx, sf.method, *endpoint, bytes.NewReader(sf.body))
		if err != nil {
			return fmt.Errorf("endpoint %q: %w", *endpoint, err)
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
		if *key != "" {
			req.Header.Set("X-Amz-Firehose-Access-Key", *key)
		}
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close() // read to the end or to the cap: nothing more to learn from it
		if resp.StatusCode != http.StatusOK {
			failed++
		}
		fmt.Fprintf(c.stdout, "%s: %d %s\n", path, resp.StatusCode, bytes.TrimSpace(answer))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d deliveries were not accepted (200)", failed, sent)
	}
	return nil
}
