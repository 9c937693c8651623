package alerts_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/alerts"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/problems"
)

// withBreadcrumbs is a notice whose sample carries 8 lines of its invocation.
func withBreadcrumbs() problems.Notice {
	n := notice(1, problems.ToNew, t0)
	for i := range 8 {
		n.Problem.Sample.Breadcrumbs = append(n.Problem.Sample.Breadcrumbs, event.Breadcrumb{
			Time: t0.Add(time.Duration(i-8) * time.Second), Level: event.Info,
			Message: fmt.Sprintf("step %d of the invocation <b>%s\n", i, strings.Repeat("z", 400*(i/7))),
		})
	}
	return n
}

// TestAlertsCarryTheLastFiveLogLines: the webhook document (and the SNS default body), the
// Slack message and the email text show the last 5 lines of the sample's invocation.
func TestAlertsCarryTheLastFiveLogLines(t *testing.T) {
	r := newRig(t)
	hook, slack := newReceiver(t), newReceiver(t)
	r.add(t, "dst_hook", alerts.Webhook, hook.URL+"/alerts", "s3cr3t", "", "")
	r.add(t, "dst_slack", alerts.Slack, slack.URL+"/services/T000/B000/XXXX", "", "", "")
	r.outbox.Put(withBreadcrumbs())
	if _, err := r.d.DeliverPending(t.Context(), 100); err != nil {
		t.Fatal(err)
	}
	bodies, _ := hook.got()
	if len(bodies) != 1 {
		t.Fatalf("%d webhook calls", len(bodies))
	}
	var doc struct {
		Problem struct {
			Sample struct {
				Breadcrumbs []struct {
					Time    time.Time `json:"time"`
					Level   string    `json:"level"`
					Message string    `json:"message"`
				} `json:"breadcrumbs"`
			} `json:"sample"`
		} `json:"problem"`
	}
	if err := json.Unmarshal(bodies[0], &doc); err != nil {
		t.Fatal(err)
	}
	bc := doc.Problem.Sample.Breadcrumbs
	if len(bc) != 5 || !strings.HasPrefix(bc[0].Message, "step 3 ") || !strings.HasPrefix(bc[4].Message, "step 7 ") ||
		bc[4].Level != "info" || !bc[4].Time.Equal(t0.Add(-time.Second)) || len(bc[4].Message) > 300 {
		t.Errorf("webhook breadcrumbs %+v, want steps 3..7 with time and level, each within 300 bytes", bc)
	}
	sb, _ := slack.got()
	if len(sb) != 1 || !strings.Contains(string(sb[0]), "Logs of this invocation") || !strings.Contains(string(sb[0]), `step 7 of the invocation \u0026lt;b\u0026gt;`) ||
		strings.Contains(string(sb[0]), "step 2 ") {
		t.Errorf("the Slack alert does not show the last 5 lines, escaped: %s", sb)
	}
	slackLimits(t, sb[0])

	email := alerts.EmailText(alerts.DocumentOf(withBreadcrumbs(), "https://c", t0))
	if !strings.Contains(email, "Logs of this invocation (last 5):") || !strings.Contains(email, t0.Add(-5*time.Second).Format("15:04:05.000")+" INFO  step 3 of the invocation") || strings.Contains(email, "step 2 ") {
		t.Errorf("email text:\n%s", email)
	}
	// A digest lists problems only.
	d := alerts.DigestOf([]problems.Notice{withBreadcrumbs(), withBreadcrumbs()}, "https://c", t0)
	if b, _ := json.Marshal(d); strings.Contains(string(b), "breadcrumbs") {
		t.Error("a digest carries breadcrumbs")
	}
}
