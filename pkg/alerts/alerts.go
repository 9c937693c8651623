// Package alerts tells people about problems: it turns the notices the problem stores
// write with each alerting transition (problems.Notice, the outbox) into messages at
// alert destinations — an Amazon SNS topic, a Slack incoming webhook, a generic signed
// webhook — with noise control (a digest when many problems alert at once), retries, and
// a dead letter that shows on the destination.
//
// Delivery is at least once per notice and destination: a notice is marked sent for a
// destination only after the destination accepted it, so a crash between the two sends
// it again later. Every message carries the notice id (X-Aient-Delivery, the SNS message
// attribute aient.id, the FIFO deduplication id) so that a destination can drop the
// duplicate; Slack cannot, and may see a rare repeat after a crash.
//
// Secrets (webhook URLs, signing secrets) live in a SecretStore (Secrets Manager on AWS,
// files in the data dir locally), never in destinations, notices, logs or errors.
package alerts

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aient/firehose-drain/pkg/problems"
)

// Type is a kind of destination. Each has one Sender (the table in senders.go).
type Type string

// The destination types.
const (
	SNS     Type = "sns"
	Slack   Type = "slack"
	Webhook Type = "webhook"
)

// ErrNotFound is returned when no destination has that id.
var ErrNotFound = errors.New("alert destination not found")

// ErrInvalid is returned for a destination that cannot be added as given.
var ErrInvalid = errors.New("invalid alert destination")

// Destination is where alerts go, for one org/env or (both empty) for all.
type Destination struct {
	ID   string `json:"id"`
	Type Type   `json:"type"`
	Org  string `json:"org,omitempty"`
	Env  string `json:"env,omitempty"`
	// Target is where it goes as the operator may see it: the topic ARN, or a webhook's
	// scheme and host (never the path or query, which carry the token).
	Target string `json:"target"`
	// TopicARN is the SNS topic (not a secret).
	TopicARN string `json:"topicArn,omitempty"`
	// SecretRef names the destination's secret in the SecretStore ("" for none).
	SecretRef string    `json:"secretRef,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	Status
}

// Matches reports whether the destination takes alerts of problems in org/env.
func (d Destination) Matches(org, env string) bool {
	return (d.Org == "" || d.Org == org) && (d.Env == "" || d.Env == env)
}

// Health is a destination's delivery health.
type Health string

// The healths.
const (
	Healthy  Health = "ok"       // its last delivery succeeded, or it has had none
	Retrying Health = "retrying" // its last delivery failed and will be retried
	Failing  Health = "failing"  // a notice was dead-lettered since its last success
)

// Status is what deliveries to a destination have done.
type Status struct {
	Health       Health    `json:"status"`
	LastSentAt   time.Time `json:"lastSentAt,omitzero"`
	LastError    string    `json:"lastError,omitempty"`
	LastErrorAt  time.Time `json:"lastErrorAt,omitzero"`
	Sent         int64     `json:"sent"`
	DeadLettered int64     `json:"deadLettered"`
}

// Report is the outcome of one delivery attempt to a destination.
type Report struct {
	At time.Time
	// Err is why it failed ("" when it was sent), already free of secrets.
	Err string
	// Dead is true when the attempt was the last: the notices are dead-lettered.
	Dead bool
}

// Apply is the status after r.
func (s Status) Apply(r Report) Status {
	switch {
	case r.Err == "":
		s.Health, s.LastSentAt = Healthy, r.At
		s.Sent++
	case r.Dead:
		s.Health, s.LastError, s.LastErrorAt = Failing, r.Err, r.At
		s.DeadLettered++
	default:
		if s.Health != Failing {
			s.Health = Retrying
		}
		s.LastError, s.LastErrorAt = r.Err, r.At
	}
	return s
}

// Destinations keeps the destinations. Implementations: the embedded store and the
// DynamoDB adapter; alertstest has the contract suite.
type Destinations interface {
	Add(ctx context.Context, d Destination) error
	List(ctx context.Context) ([]Destination, error)
	// Get returns ErrNotFound for an unknown id.
	Get(ctx context.Context, id string) (Destination, error)
	// Remove returns ErrNotFound for an unknown id.
	Remove(ctx context.Context, id string) error
	// Report records a delivery outcome on the destination (Status.Apply); a destination
	// removed meanwhile is not an error.
	Report(ctx context.Context, id string, r Report) error
}

// Secret is a destination's secret part. It never prints.
type Secret struct {
	// URL is the Slack or webhook URL.
	URL string `json:"url,omitempty"`
	// SigningKey signs webhook bodies (X-Aient-Signature).
	SigningKey string `json:"signingKey,omitempty"`
}

// String hides the secret from fmt and logs.
func (Secret) String() string { return "[secret]" }

// GoString hides the secret from %#v.
func (Secret) GoString() string { return "alerts.Secret{[secret]}" }

// SecretStore keeps destination secrets under a name.
type SecretStore interface {
	// PutSecret stores value under a new name derived from id and returns the name.
	PutSecret(ctx context.Context, id string, value Secret) (string, error)
	GetSecret(ctx context.Context, ref string) (Secret, error)
	DeleteSecret(ctx context.Context, ref string) error
}

// Delivery is a notice with what was done with it per destination id.
type Delivery struct {
	Notice problems.Notice
	// Sent are the destinations that accepted it.
	Sent map[string]time.Time
	// Dead are the destinations it was dead-lettered for.
	Dead map[string]bool
	// Attempts are the failed attempts per destination.
	Attempts map[string]int
}

// finished reports whether d needs nothing more for dest.
func (d Delivery) finished(dest string) bool {
	_, sent := d.Sent[dest]
	return sent || d.Dead[dest]
}

// Outbox is the store side of notices: the problem store writes them, the deliverer
// reads and marks them. Implementations: the embedded store and the DynamoDB adapter.
type Outbox interface {
	// Pending returns up to limit notices not done whose next attempt is due at now,
	// oldest first.
	Pending(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// Load returns the deliveries of these notice ids as stored now (unknown ids are
	// left out).
	Load(ctx context.Context, ids []string) ([]Delivery, error)
	// MarkSent records that dest accepted the notice.
	MarkSent(ctx context.Context, id, dest string, at time.Time) error
	// MarkFailed records a failed attempt for dest: attempts is the new count, dead ends
	// the notice's tries for dest, retryAt is when it is due again.
	MarkFailed(ctx context.Context, id, dest string, attempts int, dead bool, retryAt time.Time) error
	// Done records that no destination needs the notice any more.
	Done(ctx context.Context, id string, at time.Time) error
}

// CheckNew validates a destination about to be added with its secret.
func CheckNew(d Destination, s Secret) error {
	if (d.Org == "") != (d.Env == "") {
		return fmt.Errorf("%w: org and env go together", ErrInvalid)
	}
	switch d.Type {
	case SNS:
		if !strings.HasPrefix(d.TopicARN, "arn:") || strings.Count(d.TopicARN, ":") != 5 || !strings.Contains(d.TopicARN, ":sns:") {
			return fmt.Errorf("%w: %q is not an SNS topic ARN", ErrInvalid, d.TopicARN)
		}
		if s.URL != "" || s.SigningKey != "" {
			return fmt.Errorf("%w: an SNS destination takes no URL or secret", ErrInvalid)
		}
	case Slack, Webhook:
		u, err := url.Parse(s.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("%w: the %s URL must be an http(s) URL", ErrInvalid, d.Type)
		}
		if d.Type == Slack && s.SigningKey != "" {
			return fmt.Errorf("%w: a Slack webhook takes no signing secret", ErrInvalid)
		}
	default:
		return fmt.Errorf("%w: unknown type %q (sns, slack or webhook)", ErrInvalid, d.Type)
	}
	return nil
}

// Redact is what of a URL may be shown: its scheme and host.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(unparsable URL)"
	}
	return u.Scheme + "://" + u.Host
}
