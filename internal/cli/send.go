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
// URL request event (events/) whose body and headers are sent.
type sendFile struct {
	body    []byte
	headers map[string]string
}

func readSendFile(path string) (sendFile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return sendFile{}, err
	}
	var probe struct {
		RequestID       *string           `json:"requestId"`
		RawPath         *string           `json:"rawPath"`
		Headers         map[string]string `json:"headers"`
		Body            string            `json:"body"`
		IsBase64Encoded bool              `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil || (probe.RawPath == nil && probe.RequestID == nil) {
		// Not an event file: send the bytes as they are (a Firehose body, or a bad one on purpose).
		return sendFile{body: raw, headers: map[string]string{}}, nil
	}
	if probe.RawPath == nil {
		return sendFile{body: raw, headers: map[string]string{}}, nil
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
	return sendFile{body: body, headers: probe.Headers}, nil
}

func (c *command) send(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	endpoint := fs.String("endpoint", "", "the drain's endpoint URL (required)")
	key := fs.String("key", "", "the drain's access key (required; wins over an events/ file's)")
	f := &flags{FlagSet: fs}
	files, err := f.parse(args)
	if err != nil {
		return err
	}
	if *endpoint == "" || len(files) == 0 {
		return usageError("send needs --endpoint URL and at least one FILE")
	}
	client := &http.Client{Timeout: 3 * time.Minute}
	failed := 0
	for _, path := range files {
		sf, err := readSendFile(path)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, *endpoint, bytes.NewReader(sf.body))
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
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			failed++
		}
		fmt.Fprintf(c.stdout, "%s: %d %s\n", path, resp.StatusCode, bytes.TrimSpace(answer))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d deliveries were not accepted (200)", failed, len(files))
	}
	return nil
}
