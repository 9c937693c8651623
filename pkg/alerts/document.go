package alerts

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aient/firehose-drain/pkg/problems"
)

// Kind is what an alert document is about.
type Kind string

// The kinds of alert documents: one per alerting transition, a test, and a digest.
const (
	KindNew        Kind = "new"
	KindRegressed  Kind = "regressed"
	KindEscalating Kind = "escalating"
	KindTest       Kind = "test"
	KindDigest     Kind = "digest"
)

// Document is the alert as the generic webhook receives it (its JSON is documented in the
// README and stable) and the SNS message's "default" body. Every other rendering is made
// from it.
type Document struct {
	Kind Kind `json:"kind"`
	// ID is the delivery's idempotency key: the notice id, or for a digest a hash of its
	// notice ids.
	ID     string    `json:"id"`
	SentAt time.Time `json:"sentAt"`
	// Problem is the problem alerted about (every kind but digest).
	Problem *Subject `json:"problem,omitempty"`
	// Problems are a digest's problems, each with its own kind.
	Problems []Subject `json:"problems,omitempty"`
}

// Subject is a problem as an alert carries it: the problem's JSON (as `problems show
// --json` prints it, without the hourly buckets) and what a person needs to act.
type Subject struct {
	problems.Problem
	// Kind is the transition (in a digest; at the top level otherwise).
	Kind Kind `json:"kind,omitempty"`
	// URL is the problem in the console.
	URL           string   `json:"url"`
	CountLastHour int64    `json:"countLastHour"`
	TopFrames     []string `json:"topFrames"`
	Accounts      []string `json:"accounts"`
	Regions       []string `json:"regions"`
	// Functions are the Lambda function names of the log groups (/aws/lambda/NAME).
	Functions []string    `json:"functions"`
	Sample    SampleEvent `json:"sample"`
}

// SampleEvent is the problem's sample with its time, request id and CloudWatch link.
type SampleEvent struct {
	problems.Sample
	Time          time.Time `json:"time"`
	RequestID     string    `json:"requestId,omitempty"`
	CloudWatchURL string    `json:"cloudwatchUrl,omitempty"`
}

// sampleExtras are the fields SampleEvent adds to the sample's own JSON.
type sampleExtras struct {
	Time          time.Time `json:"time"`
	RequestID     string    `json:"requestId,omitempty"`
	CloudWatchURL string    `json:"cloudwatchUrl,omitempty"`
}

// MarshalJSON writes the sample as problems.Sample writes itself, with the event's time,
// request id and CloudWatch link beside it. Without it the embedded Sample's MarshalJSON
// would be promoted and write the sample alone.
func (e SampleEvent) MarshalJSON() ([]byte, error) {
	sample := e.Sample
	sample.RequestID = "" // the event's own, which prefers it, is written once below
	base, err := json.Marshal(sample)
	if err != nil {
		return nil, err
	}
	more, err := json.Marshal(sampleExtras{Time: e.Time, RequestID: e.RequestID, CloudWatchURL: e.CloudWatchURL})
	if err != nil {
		return nil, err
	}
	if len(base) <= 2 { // {}
		return more, nil
	}
	return append(append(base[:len(base)-1:len(base)-1], ','), more[1:]...), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *SampleEvent) UnmarshalJSON(b []byte) error {
	var extras sampleExtras
	if err := json.Unmarshal(b, &e.Sample); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &extras); err != nil {
		return err
	}
	e.Time, e.RequestID, e.CloudWatchURL = extras.Time, extras.RequestID, extras.CloudWatchURL
	return nil
}

// maxTopFrames is how many in-app frames an alert shows.
const maxTopFrames = 5

// maxMessage is how much of the sample message an alert keeps.
const maxMessage = 1500

// An alert carries the last maxBreadcrumbs lines of the sample's invocation, each cut to
// maxBreadcrumbMessage bytes.
const (
	maxBreadcrumbs       = 5
	maxBreadcrumbMessage = 300
)

// lastBreadcrumbs are the newest maxBreadcrumbs of bs, their messages cut (a copy).
func lastBreadcrumbs(bs []problems.Breadcrumb) []problems.Breadcrumb {
	if len(bs) == 0 {
		return nil
	}
	out := slices.Clone(bs[max(0, len(bs)-maxBreadcrumbs):])
	for i := range out {
		out[i].Message = cut(strings.TrimRight(out[i].Message, "\r\n"), maxBreadcrumbMessage)
	}
	return out
}

// SubjectOf is the alert's view of a notice's problem; consoleURL is the console's base.
func SubjectOf(n problems.Notice, consoleURL string) Subject {
	p := n.Problem
	p.Hourly = nil
	s := Subject{
		Problem:       p,
		URL:           strings.TrimRight(consoleURL, "/") + "/problems/" + url.PathEscape(p.ID),
		CountLastHour: n.CountLastHour,
		TopFrames:     []string{},
		Accounts:      nonEmpty(p.Sample.Account),
		Regions:       nonEmpty(p.Sample.Region),
		Functions:     []string{},
	}
	for _, f := range p.Sample.Frames {
		if f.InApp && len(s.TopFrames) < maxTopFrames {
			s.TopFrames = append(s.TopFrames, f.String())
		}
	}
	for _, g := range p.LogGroups {
		if name, ok := functionOf(g); ok && !slices.Contains(s.Functions, name) {
			s.Functions = append(s.Functions, name)
		}
	}
	sample := p.Sample
	sample.Message = cut(sample.Message, maxMessage)
	sample.Breadcrumbs = lastBreadcrumbs(p.Sample.Breadcrumbs)
	s.Sample = SampleEvent{
		Sample:        sample,
		Time:          time.UnixMilli(sample.Timestamp).UTC(),
		RequestID:     cmp.Or(p.Sample.RequestID, RequestID(p.Sample.Message)),
		CloudWatchURL: CloudWatchURL(p.Sample),
	}
	return s
}

// functionOf is the Lambda function name of a log group (/aws/lambda/NAME).
func functionOf(group string) (string, bool) {
	name, ok := strings.CutPrefix(group, "/aws/lambda/")
	return name, ok && name != ""
}

func nonEmpty(v string) []string {
	if v == "" {
		return []string{}
	}
	return []string{v}
}

// DocumentOf is the document of one notice.
func DocumentOf(n problems.Notice, consoleURL string, now time.Time) Document {
	s := SubjectOf(n, consoleURL)
	return Document{Kind: Kind(n.Transition), ID: n.ID, SentAt: now.UTC(), Problem: &s}
}

// DigestOf is one document listing the notices (at least one).
func DigestOf(ns []problems.Notice, consoleURL string, now time.Time) Document {
	h := sha256.New()
	d := Document{Kind: KindDigest, SentAt: now.UTC()}
	for _, n := range ns {
		s := SubjectOf(n, consoleURL)
		s.Kind = Kind(n.Transition)
		s.Sample.Message = cut(s.Sample.Message, 300)
		s.Sample.Breadcrumbs = nil // a digest lists problems; each one's page has its logs
		d.Problems = append(d.Problems, s)
		h.Write([]byte(n.ID))
		h.Write([]byte{0})
	}
	d.ID = "digest-" + hex.EncodeToString(h.Sum(nil)[:16])
	return d
}

// requestIDs are where a request id shows in a Lambda log line: the runtime's text
// prefix (time TAB id TAB LEVEL), Python's "[LEVEL]\ttime\tid", the JSON field.
var requestIDs = []*regexp.Regexp{
	regexp.MustCompile(`^\S+\t([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\t`),
	regexp.MustCompile(`^\[[A-Z]+\]\t\S+\t([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\t`),
	regexp.MustCompile(`"(?:requestId|request_id|aws_request_id|awsRequestId)"\s*:\s*"([0-9A-Za-z-]{8,64})"`),
	regexp.MustCompile(`RequestId: ([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})`),
}

// RequestID is the Lambda request id a log message carries, or "".
func RequestID(message string) string {
	head := message[:min(len(message), 4096)]
	for _, re := range requestIDs {
		if m := re.FindStringSubmatch(head); m != nil {
			return m[1]
		}
	}
	return ""
}

// CloudWatchURL links a sample to its log stream in the CloudWatch console, starting at
// the event's time; "" when the region is unknown.
func CloudWatchURL(s problems.Sample) string {
	if s.Region == "" || s.LogGroup == "" {
		return ""
	}
	enc := func(v string) string { // the console's own escaping of path parts: % becomes $25
		return strings.ReplaceAll(url.QueryEscape(url.QueryEscape(v)), "%", "$")
	}
	return fmt.Sprintf("https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#logsV2:log-groups/log-group/%s/log-events/%s$3Fstart$3D%d",
		url.QueryEscape(s.Region), url.QueryEscape(s.Region), enc(s.LogGroup), enc(s.LogStream), s.Timestamp)
}

// cut shortens s to at most n bytes on a rune boundary, marking the cut with "…".
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	n -= len("…")
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:max(n, 0)] + "…"
}

// SampleNotice is the notice `aient alerts test` sends: a made-up problem that shows
// every field.
func SampleNotice(now time.Time) problems.Notice {
	ts := now.Add(-time.Minute).UTC().Truncate(time.Millisecond)
	p := problems.Problem{
		ID: "test-alert", Org: "acme", Env: "prod", Fingerprint: "v1:test",
		Title:   "TypeError: Cannot read properties of undefined (reading 'id')",
		Culprit: "chargeCard (src/payments.js)", Level: "error", Count: 42,
		FirstSeen: ts.Add(-time.Hour), LastSeen: ts, LogGroups: []string{"/aws/lambda/checkout"},
		Sample: problems.Sample{
			Account: "123456789012", Region: "eu-west-1", LogGroup: "/aws/lambda/checkout",
			LogStream: "2026/12/01/[$LATEST]0123456789abcdef", EventID: "0", Timestamp: ts.UnixMilli(),
			Message: ts.Format(time.RFC3339Nano) + "\t6f1c1b2a-3d4e-4f50-8a9b-0c1d2e3f4a5b\tERROR\tTypeError: Cannot read properties of undefined (reading 'id')\n    at chargeCard (/var/task/src/payments.js:42:17)",
			Frames: []problems.Frame{
				{Function: "chargeCard", Module: "src/payments", File: "/var/task/src/payments.js", Line: 42, Column: 17, InApp: true},
				{Function: "processTicksAndRejections", File: "node:internal/process/task_queues", Line: 95, Column: 5},
			},
			Breadcrumbs: []problems.Breadcrumb{
				{Time: ts.Add(-40 * time.Millisecond), Message: "START RequestId: 6f1c1b2a-3d4e-4f50-8a9b-0c1d2e3f4a5b Version: $LATEST"},
				{Time: ts.Add(-25 * time.Millisecond), Level: "info", Message: ts.Add(-25*time.Millisecond).Format(time.RFC3339Nano) + "\t6f1c1b2a-3d4e-4f50-8a9b-0c1d2e3f4a5b\tINFO\tcharging order 1042"},
			},
		},
		Lifecycle: problems.Lifecycle{State: problems.Unresolved, Substate: problems.New},
	}
	return problems.Notice{ID: "test-" + now.UTC().Format("20060102T150405.000"), Transition: "test", At: now, CountLastHour: 12, Problem: p}
}
