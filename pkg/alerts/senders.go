package alerts

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// Sender delivers a document to one type of destination.
type Sender interface {
	Send(ctx context.Context, d Destination, s Secret, doc Document) error
}

// SNSPublisher is the part of the SNS client the SNS sender uses.
type SNSPublisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
}

var _ SNSPublisher = (*sns.Client)(nil)

// Senders is the table of destination types: a new destination is a new entry.
type Senders map[Type]Sender

// NewSenders returns the senders over an HTTP client (nil: one with a 10 s timeout) and
// an SNS client (nil: SNS destinations fail with a clear error).
func NewSenders(hc *http.Client, pub SNSPublisher) Senders {
	if hc == nil {
		hc = &http.Client{Timeout: httpTimeout}
	}
	return Senders{
		SNS:     snsSender{pub: pub},
		Slack:   slackSender{hc: hc},
		Webhook: webhookSender{hc: hc},
	}
}

const httpTimeout = 10 * time.Second

// Headers of the generic webhook.
const (
	HeaderSignature = "X-Aient-Signature"
	HeaderDelivery  = "X-Aient-Delivery"
	HeaderKind      = "X-Aient-Kind"
)

// Sign is the X-Aient-Signature value of body under key: "sha256=" + hex HMAC-SHA256.
func Sign(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

type webhookSender struct{ hc *http.Client }

func (w webhookSender) Send(ctx context.Context, d Destination, s Secret, doc Document) error {
	body, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encode the alert: %w", err)
	}
	h := http.Header{}
	h.Set(HeaderDelivery, doc.ID)
	h.Set(HeaderKind, string(doc.Kind))
	if s.SigningKey != "" {
		h.Set(HeaderSignature, Sign(s.SigningKey, body))
	}
	return post(ctx, w.hc, s.URL, h, body)
}

type slackSender struct{ hc *http.Client }

func (sl slackSender) Send(ctx context.Context, d Destination, s Secret, doc Document) error {
	body, err := json.Marshal(SlackMessage(doc))
	if err != nil {
		return fmt.Errorf("encode the Slack message: %w", err)
	}
	return post(ctx, sl.hc, s.URL, http.Header{}, body)
}

// post sends a JSON body; any 2xx is accepted. Errors never carry the URL (it holds the
// token): only its scheme and host.
func post(ctx context.Context, hc *http.Client, target string, h http.Header, body []byte) error {
	where := Redact(target)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("POST %s: the URL is not valid", where)
	}
	req.Header = h
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "aient-alerts/1")
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error prints the whole URL
		}
		return fmt.Errorf("POST %s: %w", where, redactErr{err, target})
	}
	defer func() { _ = resp.Body.Close() }() // a snippet read for the error: nothing more to learn
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: answered %d %s", where, resp.StatusCode, strings.ToValidUTF8(strings.TrimSpace(string(snippet)), "?"))
	}
	return nil
}

// redactErr is an error whose text has the secret URL taken out (a transport error may
// quote it), still unwrapping to the cause.
type redactErr struct {
	err    error
	secret string
}

func (r redactErr) Error() string {
	msg := r.err.Error()
	if r.secret != "" {
		msg = strings.ReplaceAll(msg, r.secret, Redact(r.secret))
		if u, err := url.Parse(r.secret); err == nil && len(u.Path) > 1 {
			msg = strings.ReplaceAll(msg, u.Path, "/…")
		}
	}
	return msg
}

func (r redactErr) Unwrap() error { return r.err }

type snsSender struct{ pub SNSPublisher }

func (sn snsSender) Send(ctx context.Context, d Destination, _ Secret, doc Document) error {
	if sn.pub == nil {
		return errors.New("no SNS client configured")
	}
	subject, message, err := SNSMessage(doc)
	if err != nil {
		return err
	}
	in := &sns.PublishInput{
		TopicArn:         aws.String(d.TopicARN),
		Subject:          aws.String(subject),
		Message:          aws.String(message),
		MessageStructure: aws.String("json"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"aient.id":   {DataType: aws.String("String"), StringValue: aws.String(doc.ID)},
			"aient.kind": {DataType: aws.String("String"), StringValue: aws.String(string(doc.Kind))},
		},
	}
	if strings.HasSuffix(d.TopicARN, ".fifo") {
		group := "aient"
		if doc.Problem != nil {
			group = doc.Problem.ID
		}
		in.MessageGroupId = aws.String(group)
		in.MessageDeduplicationId = aws.String(doc.ID) // SNS drops a repeat within 5 minutes
	}
	if _, err := sn.pub.Publish(ctx, in); err != nil {
		return fmt.Errorf("publish to %s: %w", d.TopicARN, err)
	}
	return nil
}
