package alerts

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aient/firehose-drain/pkg/problems"
)

// Slack's limits (https://api.slack.com/reference/block-kit/blocks) and ours.
const (
	SlackSectionMax = 3000 // characters of a section's text
	slackHeaderMax  = 150  // characters of a header's plain text
	slackFieldMax   = 2000 // characters of one section field
	slackFieldsMax  = 10   // fields in one section
	slackBlocksMax  = 50   // blocks in one message
	// SlackMessageMax is what we keep a whole message under: well below Slack's ~13 k
	// (over it, Slack truncates or rejects the message).
	SlackMessageMax = 10_000
	// SNSSubjectMax is SNS's Subject limit: under 100 characters, ASCII, one line.
	SNSSubjectMax = 99
)

// SlackText is a Block Kit text object.
type SlackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// SlackBlock is one Block Kit block of the kinds alerts use.
type SlackBlock struct {
	Type     string         `json:"type"`
	Text     *SlackText     `json:"text,omitempty"`
	Fields   []SlackText    `json:"fields,omitempty"`
	Elements []SlackElement `json:"elements,omitempty"`
}

// SlackElement is a context text or an actions button.
type SlackElement struct {
	Type string     `json:"type"`
	Text *SlackText `json:"text,omitempty"`
	URL  string     `json:"url,omitempty"`
}

// SlackPayload is what the incoming webhook receives.
type SlackPayload struct {
	Text   string       `json:"text"`
	Blocks []SlackBlock `json:"blocks"`
}

var kindWords = map[Kind]string{
	KindNew:        "New problem",
	KindRegressed:  "Regressed",
	KindEscalating: "Escalating",
	KindTest:       "Test alert",
	KindDigest:     "Problems alerting",
}

var kindEmoji = map[Kind]string{
	KindNew: ":new:", KindRegressed: ":leftwards_arrow_with_hook:", KindEscalating: ":chart_with_upwards_trend:",
	KindTest: ":test_tube:", KindDigest: ":rotating_light:",
}

// slackEscape escapes the three characters mrkdwn reserves.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// runes cuts s to at most n characters, marking the cut with "…".
func runes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func oneLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return s
}

// codeBlock is a mrkdwn code block of s within n characters (fences included).
func codeBlock(s string, n int) string {
	s = strings.ReplaceAll(s, "```", "ˋˋˋ")
	return "```" + runes(slackEscape(s), n-6) + "```"
}

// SlackMessage renders a document as a Block Kit message within Slack's limits.
func SlackMessage(doc Document) SlackPayload {
	if doc.Kind == KindDigest {
		return slackDigest(doc)
	}
	s := doc.Problem
	head := fmt.Sprintf("%s: %s", kindWords[doc.Kind], oneLine(s.Title))
	msg := SlackPayload{Text: runes(fmt.Sprintf("%s (%s/%s)", head, s.Org, s.Env), 300)}
	section := func(text string) SlackBlock {
		return SlackBlock{Type: "section", Text: &SlackText{Type: "mrkdwn", Text: runes(text, SlackSectionMax)}}
	}
	msg.Blocks = append(msg.Blocks,
		SlackBlock{Type: "header", Text: &SlackText{Type: "plain_text", Text: runes(kindWords[doc.Kind]+" in "+s.Org+"/"+s.Env, slackHeaderMax)}},
		section(fmt.Sprintf("%s *<%s|%s>*\n%s", kindEmoji[doc.Kind], s.URL, slackEscape(runes(oneLine(s.Title), 400)), culpritLine(s))),
	)
	field := func(name, value string) SlackText {
		return SlackText{Type: "mrkdwn", Text: runes("*"+name+"*\n"+slackEscape(value), slackFieldMax)}
	}
	fields := []SlackText{
		field("Level", s.Level),
		field("Last hour / total", fmt.Sprintf("%d / %d", s.CountLastHour, s.Count)),
		field("First seen", s.FirstSeen.UTC().Format(time.RFC3339)),
		field("Last seen", s.LastSeen.UTC().Format(time.RFC3339)),
		field("Accounts / regions", orDash(strings.Join(s.Accounts, ", "))+" / "+orDash(strings.Join(s.Regions, ", "))),
		field("Functions / log groups", orDash(strings.Join(firstN(s.Functions, s.LogGroups), ", "))),
	}
	msg.Blocks = append(msg.Blocks, SlackBlock{Type: "section", Fields: fields[:min(len(fields), slackFieldsMax)]})
	if len(s.TopFrames) > 0 {
		msg.Blocks = append(msg.Blocks, section("*Top in-app frames*\n"+codeBlock(strings.Join(s.TopFrames, "\n"), SlackSectionMax-30)))
	}
	ev := s.Sample
	meta := fmt.Sprintf("*Sample* %s", ev.Time.Format(time.RFC3339Nano))
	if ev.RequestID != "" {
		meta += " · request " + slackEscape(ev.RequestID)
	}
	meta += " · " + slackEscape(runes(ev.LogStream, 200))
	if ev.CloudWatchURL != "" {
		meta += fmt.Sprintf(" · <%s|CloudWatch>", ev.CloudWatchURL)
	}
	msg.Blocks = append(msg.Blocks, section(meta+"\n"+codeBlock(ev.Message, 1200)))
	if len(ev.Breadcrumbs) > 0 {
		// The first block fitSlack drops when the message is too long.
		msg.Blocks = append(msg.Blocks, section("*Logs of this invocation* (last "+fmt.Sprint(len(ev.Breadcrumbs))+")\n"+codeBlock(breadcrumbLines(ev.Breadcrumbs), SlackSectionMax-60)))
	}
	msg.Blocks = append(msg.Blocks, SlackBlock{Type: "actions", Elements: []SlackElement{{Type: "button", Text: &SlackText{Type: "plain_text", Text: "Open problem"}, URL: s.URL}}})
	return fitSlack(msg)
}

func culpritLine(s *Subject) string {
	if s.Culprit == "" {
		return "_no in-app culprit_"
	}
	return "in `" + slackEscape(runes(s.Culprit, 300)) + "`"
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// firstN is a (the function names) or else b (the log groups), at most 5.
func firstN(a, b []string) []string {
	if len(a) == 0 {
		a = b
	}
	return a[:min(len(a), 5)]
}

func slackDigest(doc Document) SlackPayload {
	head := fmt.Sprintf("%d problems alerting", len(doc.Problems))
	msg := SlackPayload{Text: head}
	msg.Blocks = append(msg.Blocks, SlackBlock{Type: "header", Text: &SlackText{Type: "plain_text", Text: runes(head, slackHeaderMax)}})
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 && len(msg.Blocks) < slackBlocksMax-1 {
			msg.Blocks = append(msg.Blocks, SlackBlock{Type: "section", Text: &SlackText{Type: "mrkdwn", Text: b.String()}})
		}
		b.Reset()
	}
	for _, s := range doc.Problems {
		line := fmt.Sprintf("%s *%s* <%s|%s> · %d in the last hour · %s/%s\n",
			kindEmoji[s.Kind], kindWords[s.Kind], s.URL, slackEscape(runes(oneLine(s.Title), 120)), s.CountLastHour, slackEscape(s.Org), slackEscape(s.Env))
		if utf8.RuneCountInString(b.String())+utf8.RuneCountInString(line) > SlackSectionMax {
			flush()
		}
		b.WriteString(line)
	}
	flush()
	return fitSlack(msg)
}

// fitSlack drops the last blocks but the header, the first section and a closing
// actions block until the message is under SlackMessageMax bytes (each block is already
// within Slack's own limits, so this only acts on the largest alerts).
func fitSlack(msg SlackPayload) SlackPayload {
	for len(msg.Blocks) > 2 {
		b, _ := json.Marshal(msg)
		if len(b) <= SlackMessageMax {
			break
		}
		last := len(msg.Blocks) - 1
		if msg.Blocks[last].Type == "actions" {
			if last <= 2 {
				break
			}
			msg.Blocks = append(msg.Blocks[:last-1], msg.Blocks[last])
			continue
		}
		msg.Blocks = msg.Blocks[:last]
	}
	return msg
}

// SNSSubject is the one-line ASCII subject of a document, under 100 characters.
func SNSSubject(doc Document) string {
	var s string
	if doc.Kind == KindDigest {
		s = fmt.Sprintf("[aient] %d problems alerting", len(doc.Problems))
	} else {
		s = fmt.Sprintf("[aient] %s in %s/%s: %s", kindWords[doc.Kind], doc.Problem.Org, doc.Problem.Env, oneLine(doc.Problem.Title))
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r == '\t':
			b.WriteByte(' ')
		default:
			b.WriteByte('?')
		}
	}
	out := b.String()
	if len(out) > SNSSubjectMax {
		out = out[:SNSSubjectMax-3] + "..."
	}
	return out
}

// EmailText is the plain-text alert a person reads (the SNS "email" body).
func EmailText(doc Document) string {
	var b strings.Builder
	if doc.Kind == KindDigest {
		fmt.Fprintf(&b, "%d problems alerting at once (an outage?). Each one:\n\n", len(doc.Problems))
		for _, s := range doc.Problems {
			fmt.Fprintf(&b, "* %s: %s\n  %s/%s · %d in the last hour, %d in total\n  %s\n\n", kindWords[s.Kind], oneLine(s.Title), s.Org, s.Env, s.CountLastHour, s.Count, s.URL)
		}
		return b.String()
	}
	s := doc.Problem
	fmt.Fprintf(&b, "%s in %s/%s\n\n%s\n", kindWords[doc.Kind], s.Org, s.Env, s.Title)
	if s.Culprit != "" {
		fmt.Fprintf(&b, "in %s\n", s.Culprit)
	}
	fmt.Fprintf(&b, "\nOpen it: %s\n\n", s.URL)
	row := func(k, v string) { fmt.Fprintf(&b, "%-20s %s\n", k, orDash(v)) }
	row("Level", s.Level)
	row("Last hour / total", fmt.Sprintf("%d / %d", s.CountLastHour, s.Count))
	row("First seen", s.FirstSeen.UTC().Format(time.RFC3339))
	row("Last seen", s.LastSeen.UTC().Format(time.RFC3339))
	row("Accounts", strings.Join(s.Accounts, ", "))
	row("Regions", strings.Join(s.Regions, ", "))
	row("Functions", strings.Join(s.Functions, ", "))
	row("Log groups", strings.Join(s.LogGroups, ", "))
	if len(s.TopFrames) > 0 {
		b.WriteString("\nTop in-app frames:\n")
		for _, f := range s.TopFrames {
			fmt.Fprintf(&b, "  %s\n", f)
		}
	}
	ev := s.Sample
	fmt.Fprintf(&b, "\nSample event at %s", ev.Time.Format(time.RFC3339Nano))
	if ev.RequestID != "" {
		fmt.Fprintf(&b, ", request %s", ev.RequestID)
	}
	fmt.Fprintf(&b, "\n  %s / %s\n", ev.LogGroup, ev.LogStream)
	if ev.CloudWatchURL != "" {
		fmt.Fprintf(&b, "  %s\n", ev.CloudWatchURL)
	}
	fmt.Fprintf(&b, "\n%s\n", ev.Message)
	if len(ev.Breadcrumbs) > 0 {
		fmt.Fprintf(&b, "\nLogs of this invocation (last %d):\n", len(ev.Breadcrumbs))
		for _, l := range strings.Split(breadcrumbLines(ev.Breadcrumbs), "\n") {
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	return b.String()
}

// breadcrumbLines are breadcrumbs one a line: time, level, the message's first line.
func breadcrumbLines(bs []problems.Breadcrumb) string {
	lines := make([]string, len(bs))
	for i, c := range bs {
		lvl := strings.ToUpper(string(c.Level))
		if lvl == "" {
			lvl = "-"
		}
		lines[i] = fmt.Sprintf("%s %-5s %s", c.Time.UTC().Format("15:04:05.000"), lvl, oneLine(c.Message))
	}
	return strings.Join(lines, "\n")
}

// SNSMessage is the Subject and the MessageStructure=json Message of a document: an
// "email" body a person reads and a "default" body that is the webhook document.
func SNSMessage(doc Document) (subject, message string, err error) {
	def, err := json.Marshal(doc)
	if err != nil {
		return "", "", fmt.Errorf("encode the alert: %w", err)
	}
	m, err := json.Marshal(map[string]string{"default": string(def), "email": EmailText(doc)})
	if err != nil {
		return "", "", fmt.Errorf("encode the SNS message: %w", err)
	}
	return SNSSubject(doc), string(m), nil
}
