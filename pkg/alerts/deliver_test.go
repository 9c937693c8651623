package alerts_test

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aient/firehose-drain/pkg/alerts"
	"github.com/aient/firehose-drain/pkg/alerts/alertstest"
	"github.com/aient/firehose-drain/pkg/problems"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// receiver is a test HTTP server that keeps what it was sent.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	heads  []http.Header
	status int // answer; 0 is 200
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, b)
		r.heads = append(r.heads, req.Header.Clone())
		st := r.status
		r.mu.Unlock()
		if st != 0 {
			http.Error(w, "down for maintenance", st)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) got() ([][]byte, []http.Header) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...), append([]http.Header(nil), r.heads...)
}

func (r *receiver) setStatus(s int) {
	r.mu.Lock()
	r.status = s
	r.mu.Unlock()
}

// rig is a deliverer over in-memory stores with a movable clock.
type rig struct {
	dests   *alertstest.MemDestinations
	secrets *alertstest.MemSecrets
	outbox  *alertstest.MemOutbox
	d       *alerts.Deliverer
	mu      sync.Mutex
	now     time.Time
}

func newRig(t *testing.T) *rig {
	r := &rig{dests: alertstest.NewMemDestinations(), secrets: alertstest.NewMemSecrets(), outbox: alertstest.NewMemOutbox(), now: t0}
	r.d = r.deliverer()
	return r
}

func (r *rig) deliverer() *alerts.Deliverer {
	return alerts.NewDeliverer(r.dests, r.secrets, r.outbox, alerts.NewSenders(nil, nil), alerts.Config{
		ConsoleURL: "https://console.example", RetryDelay: time.Second, Now: r.clock, Logger: slog.New(slog.DiscardHandler),
	})
}

func (r *rig) clock() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now
}

func (r *rig) advance(d time.Duration) {
	r.mu.Lock()
	r.now = r.now.Add(d)
	r.mu.Unlock()
}

func (r *rig) add(t *testing.T, id string, typ alerts.Type, url, key, org, env string) {
	t.Helper()
	ref, err := r.secrets.PutSecret(t.Context(), id, alerts.Secret{URL: url, SigningKey: key})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.dests.Add(t.Context(), alerts.Destination{ID: id, Type: typ, Org: org, Env: env, Target: alerts.Redact(url), SecretRef: ref, CreatedAt: r.clock()}); err != nil {
		t.Fatal(err)
	}
}

// notice is a realistic notice: a problem with frames, a sample and its CloudWatch link.
func notice(i int, tr problems.Transition, at time.Time) problems.Notice {
	sample := alerts.SampleNotice(at)
	p := sample.Problem
	p.ID = fmt.Sprintf("prob%03d", i)
	p.Title = fmt.Sprintf("TypeError: Cannot read properties of undefined (reading 'id%d')", i)
	p.Lifecycle = problems.Lifecycle{
		State: problems.Unresolved, Substate: problems.Substate(tr),
		Hourly: []problems.HourCount{{Hour: problems.HourOf(at), Count: 12}},
	}
	return problems.NoticeOf(p, tr, at)
}

func TestAWebhookGetsTheSignedDocument(t *testing.T) {
	r := newRig(t)
	hook := newReceiver(t)
	r.add(t, "dst_hook", alerts.Webhook, hook.URL+"/alerts?token=abc", "s3cr3t", "", "")
	n := notice(1, problems.ToRegressed, t0)
	r.outbox.Put(n)
	if _, err := r.d.DeliverPending(t.Context(), 100); err != nil {
		t.Fatal(err)
	}
	bodies, heads := hook.got()
	if len(bodies) != 1 {
		t.Fatalf("%d webhook calls, want 1", len(bodies))
	}
	body, h := bodies[0], heads[0]
	if want := alerts.Sign("s3cr3t", body); !hmac.Equal([]byte(h.Get("X-Aient-Signature")), []byte(want)) {
		t.Fatalf("X-Aient-Signature %q, want %q", h.Get("X-Aient-Signature"), want)
	}
	if h.Get("X-Aient-Delivery") != n.ID || h.Get("Content-Type") != "application/json" {
		t.Fatalf("headers %v", h)
	}
	// The documented shape, read as a receiver would: a generic map.
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	p, _ := doc["problem"].(map[string]any)
	sample, _ := p["sample"].(map[string]any)
	checks := map[string]any{
		"kind": doc["kind"], "id": doc["id"], "problem.id": p["id"], "problem.title": p["title"],
		"problem.culprit": p["culprit"], "problem.level": p["level"], "problem.count": p["count"],
		"problem.countLastHour": p["countLastHour"], "problem.state": p["state"], "problem.substate": p["substate"],
		"problem.url": p["url"], "problem.org": p["org"], "problem.env": p["env"],
		"sample.requestId": sample["requestId"], "sample.logStream": sample["logStream"],
	}
	want := map[string]any{
		"kind": "regressed", "id": n.ID, "problem.id": "prob001", "problem.title": n.Problem.Title,
		"problem.culprit": "chargeCard (src/payments.js)", "problem.level": "error", "problem.count": float64(42),
		"problem.countLastHour": float64(12), "problem.state": "unresolved", "problem.substate": "regressed",
		"problem.url": "https://console.example/problems/prob001", "problem.org": "acme", "problem.env": "prod",
		"sample.requestId": "6f1c1b2a-3d4e-4f50-8a9b-0c1d2e3f4a5b", "sample.logStream": "2026/12/01/[$LATEST]0123456789abcdef",
	}
	for k, w := range want {
		if checks[k] != w {
			t.Errorf("%s = %v, want %v", k, checks[k], w)
		}
	}
	for _, k := range []string{"sentAt"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("no %s", k)
		}
	}
	for _, k := range []string{"firstSeen", "lastSeen", "topFrames", "accounts", "regions", "functions", "logGroups"} {
		if _, ok := p[k]; !ok {
			t.Errorf("problem has no %s", k)
		}
	}
	if fr, _ := p["topFrames"].([]any); len(fr) != 1 || fr[0] != "chargeCard (/var/task/src/payments.js:42)" {
		t.Errorf("topFrames %v", p["topFrames"])
	}
	if u, _ := sample["cloudwatchUrl"].(string); !strings.HasPrefix(u, "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Faws$252Flambda$252Fcheckout/log-events/") {
		t.Errorf("cloudwatchUrl %q", u)
	}
	if fn, _ := p["functions"].([]any); len(fn) != 1 || fn[0] != "checkout" {
		t.Errorf("functions %v", p["functions"])
	}
	// Sent once: a second round sends nothing.
	if _, err := r.d.DeliverPending(t.Context(), 100); err != nil {
		t.Fatal(err)
	}
	if b, _ := hook.got(); len(b) != 1 {
		t.Fatalf("%d webhook calls after a second round, want 1", len(b))
	}
}

func TestAnUnsignedWebhookHasNoSignature(t *testing.T) {
	r := newRig(t)
	hook := newReceiver(t)
	r.add(t, "dst_hook", alerts.Webhook, hook.URL, "", "", "")
	r.outbox.Put(notice(1, problems.ToNew, t0))
	if _, err := r.d.DeliverPending(t.Context(), 100); err != nil {
		t.Fatal(err)
	}
	if _, h := hook.got(); len(h) != 1 || h[0].Get("X-Aient-Signature") != "" {
		t.Fatalf("headers %v", h)
	}
}

// slackLimits checks a Slack payload against Block Kit's limits and ours.
func slackLimits(t *testing.T, body []byte) alerts.SlackPayload {
	t.Helper()
	if len(body) > alerts.SlackMessageMax {
		t.Errorf("Slack message of %d bytes, want at most %d", len(body), alerts.SlackMessageMax)
	}
	var msg alerts.SlackPayload
	if err := json.Unmarshal(body, &msg); err != nil {
		t.Fatal(err)
	}
	if len(msg.Blocks) == 0 || len(msg.Blocks) > 50 || msg.Text == "" {
		t.Errorf("%d blocks, text %q", len(msg.Blocks), msg.Text)
	}
	for i, b := range msg.Blocks {
		switch b.Type {
		case "header":
			if n := utf8.RuneCountInString(b.Text.Text); n > 150 || b.Text.Type != "plain_text" {
				t.Errorf("block %d: header of %d characters (%s)", i, n, b.Text.Type)
			}
		case "section":
			if b.Text != nil && utf8.RuneCountInString(b.Text.Text) > alerts.SlackSectionMax {
				t.Errorf("block %d: section of %d characters", i, utf8.RuneCountInString(b.Text.Text))
			}
			if len(b.Fields) > 10 {
				t.Errorf("block %d: %d fields", i, len(b.Fields))
			}
			for _, f := range b.Fields {
				if utf8.RuneCountInString(f.Text) > 2000 {
					t.Errorf("block %d: a field of %d characters", i, utf8.RuneCountInString(f.Text))
				}
			}
		case "actions":
		default:
			t.Errorf("block %d: unexpected type %q", i, b.Type)
		}
	}
	return msg
}

func TestASlackAlertCarriesWhatIsWrongWithinSlacksLimits(t *testing.T) {
	r := newRig(t)
	slack := newReceiver(t)
	r.add(t, "dst_slack", alerts.Slack, slack.URL+"/services/T000/B000/XXXX", "", "acme", "prod")
	// A normal alert and a monster: a 4 KB one-line title, 300 in-app frames, a sample
	// message of 64 KB with Slack's reserved characters and code fences.
	normal := notice(1, problems.ToNew, t0)
	monster := notice(2, problems.ToEscalating, t0)
	monster.Problem.Title = strings.Repeat("<Error&> ", 500)
	for i := range 300 {
		monster.Problem.Sample.Frames = append(monster.Problem.Sample.Frames, problems.Frame{Function: fmt.Sprintf("f%d%s", i, strings.Repeat("x", 60)), File: "/var/task/a.js", Line: i, InApp: true})
	}
	monster.Problem.Sample.Message = strings.Repeat("```<b>&amp; ünïcödé ", 3500)
	monster.Problem.Culprit = strings.Repeat("c", 5000)
	r.outbox.Put(normal)
	r.outbox.Put(monster)
	if _, err := r.d.DeliverPending(t.Context(), 100); err != nil {
		t.Fatal(err)
	}
	bodies, _ := slack.got()
	if len(bodies) != 2 {
		t.Fatalf("%d Slack calls, want 2", len(bodies))
	}
	msg := slackLimits(t, bodies[0])
	all := string(bodies[0])
	for _, want := range []string{
		"New problem in acme/prod", "Cannot read properties of undefined", "chargeCard (src/payments.js)",
		"https://console.example/problems/prob001", "chargeCard (/var/task/src/payments.js:42)",
		"6f1c1b2a-3d4e-4f50-8a9b-0c1d2e3f4a5b", "123456789012", "eu-west-1", "checkout", "console.aws.amazon.com",
		"12 / 42", // last hour / total
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the Slack alert lacks %q", want)
		}
	}
	if msg.Blocks[len(msg.Blocks)-1].Type != "actions" {
		t.Error("no Open problem button")
	}
	slackLimits(t, bodies[1])
	if strings.Contains(string(bodies[1]), "<Error&>") {
		t.Error("mrkdwn's reserved characters are not escaped")
	}
}

func TestFiftyNewProblemsAtOnceAreAFewDigests(t *testing.T) {
	r := newRig(t)
	hook, slack := newReceiver(t), newReceiver(t)
	r.add(t, "dst_hook", alerts.Webhook, hook.URL, "k", "", "")
	r.add(t, "dst_slack", alerts.Slack, slack.URL, "", "", "")
	for i := range 50 {
		r.outbox.Put(notice(i, problems.ToNew, t0.Add(-time.Duration(i)*time.Millisecond)))
	}
	if n, err := r.d.DeliverPending(t.Context(), 100); err != nil || n != 50 {
		t.Fatalf("DeliverPending = %d, %v", n, err)
	}
	for name, rc := range map[string]*receiver{"webhook": hook, "slack": slack} {
		bodies, _ := rc.got()
		if len(bodies) == 0 || len(bodies) > 5 {
			t.Fatalf("%s: %d messages for 50 new problems, want 1 to 5", name, len(bodies))
		}
		listed := 0
		for _, b := range bodies {
			if name == "slack" {
				slackLimits(t, b)
				listed += strings.Count(string(b), "https://console.example/problems/prob")
				continue
			}
			var doc alerts.Document
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Kind != alerts.KindDigest {
				t.Fatalf("webhook got a %s, want a digest", doc.Kind)
			}
			listed += len(doc.Problems)
		}
		if listed != 50 {
			t.Fatalf("%s: the digests list %d problems, want all 50", name, listed)
		}
	}
	if left, _ := r.outbox.Pending(t.Context(), r.clock().Add(time.Hour), 100); len(left) != 0 {
		t.Fatalf("%d notices left pending", len(left))
	}

	// Within the same minute, one more alert to an exhausted destination comes as a
	// digest too; a minute later single alerts are back.
	r.outbox.Put(notice(60, problems.ToNew, r.clock()))
	if _, err := r.d.DeliverPending(t.Context(), 100); err != nil {
		t.Fatal(err)
	}
	r.advance(alerts.DigestWindow)
	r.outbox.Put(notice(61, problems.ToRegressed, r.clock()))
	if _, err := r.d.DeliverPending(t.Context(), 100); err != nil {
		t.Fatal(err)
	}
	bodies, _ := hook.got()
	var last alerts.Document
	if err := json.Unmarshal(bodies[len(bodies)-1], &last); err != nil {
		t.Fatal(err)
	}
	if last.Kind != alerts.KindRegressed {
		t.Fatalf("a minute after the storm the alert is a %s, want regressed", last.Kind)
	}
}

func TestTenAlertsInAMinuteAreSingleMessages(t *testing.T) {
	r := newRig(t)
	hook := newReceiver(t)
	r.add(t, "dst_hook", alerts.Webhook, hook.URL, "", "", "")
	for i := range alerts.DigestOver {
		r.outbox.Put(notice(i, problems.ToNew, t0))
	}
	if _, err := r.d.DeliverPending(t.Context(), 100); err != nil {
		t.Fatal(err)
	}
	if bodies, _ := hook.got(); len(bodies) != alerts.DigestOver || strings.Contains(string(bodies[0]), `"kind":"digest"`) {
		t.Fatalf("%d messages for %d alerts, want one each", len(bodies), alerts.DigestOver)
	}
}

func TestAlertsGoOnlyToTheirOrgAndEnv(t *testing.T) {
	r := newRig(t)
	prod, staging, all := newReceiver(t), newReceiver(t), newReceiver(t)
	r.add(t, "dst_prod", alerts.Webhook, prod.URL, "", "acme", "prod")
	r.add(t, "dst_staging", alerts.Webhook, staging.URL, "", "acme", "staging")
	r.add(t, "dst_all", alerts.Webhook, all.URL, "", "", "")
	r.outbox.Put(notice(1, problems.ToNew, t0)) // acme/prod
	if _, err := r.d.DeliverPending(t.Context(), 100); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		rc   *receiver
		want int
	}{"prod": {prod, 1}, "staging": {staging, 0}, "all": {all, 1}} {
		if b, _ := c.rc.got(); len(b) != c.want {
			t.Errorf("%s got %d, want %d", name, len(b), c.want)
		}
	}
}

func TestAFailingDestinationIsRetriedThenDeadLettered(t *testing.T) {
	r := newRig(t)
	bad, good := newReceiver(t), newReceiver(t)
	bad.setStatus(http.StatusBadGateway)
	r.add(t, "dst_bad", alerts.Webhook, bad.URL+"/hook/SECRETPATH", "", "", "")
	r.add(t, "dst_good", alerts.Webhook, good.URL, "", "", "")
	r.outbox.Put(notice(1, problems.ToNew, t0))
	ctx := t.Context()
	for attempt := 1; attempt <= alerts.DefaultMaxAttempts; attempt++ {
		_, err := r.d.DeliverPending(ctx, 100)
		if attempt < alerts.DefaultMaxAttempts && err == nil {
			t.Fatalf("attempt %d: no error reported for a failed send", attempt)
		}
		d, _ := r.dests.Get(ctx, "dst_bad")
		switch {
		case attempt < alerts.DefaultMaxAttempts && d.Health != alerts.Retrying:
			t.Fatalf("attempt %d: status %s, want retrying", attempt, d.Health)
		case attempt == alerts.DefaultMaxAttempts && (d.Health != alerts.Failing || d.DeadLettered != 1):
			t.Fatalf("after %d attempts: %+v, want failing with one dead letter", attempt, d.Status)
		}
		if !strings.Contains(d.LastError, "502") || strings.Contains(d.LastError, "SECRETPATH") {
			t.Fatalf("last error %q: want the status, never the URL's path", d.LastError)
		}
		// Not due again before the backoff has passed.
		if got, _ := r.outbox.Pending(ctx, r.clock(), 10); len(got) != 0 && attempt < alerts.DefaultMaxAttempts {
			t.Fatalf("attempt %d: due again at once", attempt)
		}
		r.advance(time.Duration(attempt*attempt) * time.Second)
	}
	if b, _ := bad.got(); len(b) != alerts.DefaultMaxAttempts {
		t.Fatalf("the failing destination was tried %d times, want %d", len(b), alerts.DefaultMaxAttempts)
	}
	if b, _ := good.got(); len(b) != 1 {
		t.Fatalf("the good destination got %d, want 1 (never again while the other retried)", len(b))
	}
	if left, _ := r.outbox.Pending(ctx, r.clock().Add(time.Hour), 10); len(left) != 0 {
		t.Fatal("a dead-lettered notice is still pending")
	}
	// The destination recovers: the next alert goes through and it is healthy again.
	bad.setStatus(0)
	r.outbox.Put(notice(2, problems.ToNew, r.clock()))
	if _, err := r.d.DeliverPending(ctx, 100); err != nil {
		t.Fatal(err)
	}
	if d, _ := r.dests.Get(ctx, "dst_bad"); d.Health != alerts.Healthy || d.DeadLettered != 1 {
		t.Fatalf("after a success: %+v", d.Status)
	}
}

// A crash after the transition was written and before anything was sent: a new
// deliverer (the restarted process) sends it once.
func TestACrashBeforeTheSendDeliversOnce(t *testing.T) {
	r := newRig(t)
	hook := newReceiver(t)
	r.add(t, "dst_hook", alerts.Webhook, hook.URL, "", "", "")
	r.outbox.Put(notice(1, problems.ToNew, t0)) // written with the transition; then the process died
	restarted := r.deliverer()
	for range 3 {
		if _, err := restarted.DeliverPending(t.Context(), 100); err != nil {
			t.Fatal(err)
		}
	}
	if b, _ := hook.got(); len(b) != 1 {
		t.Fatalf("%d deliveries, want exactly 1", len(b))
	}
}

// A crash between the send and the mark: the notice goes again, with the same delivery
// id, so the receiver can drop it.
func TestACrashAfterTheSendRedeliversWithTheSameID(t *testing.T) {
	r := newRig(t)
	hook := newReceiver(t)
	r.add(t, "dst_hook", alerts.Webhook, hook.URL, "", "", "")
	n := notice(1, problems.ToNew, t0)
	r.outbox.Put(n)
	r.outbox.FailMarks = 1
	if _, err := r.d.DeliverPending(t.Context(), 100); err == nil {
		t.Fatal("a failed mark was not reported")
	}
	if _, err := r.deliverer().DeliverPending(t.Context(), 100); err != nil {
		t.Fatal(err)
	}
	_, heads := hook.got()
	if len(heads) != 2 {
		t.Fatalf("%d deliveries, want 2 (at least once)", len(heads))
	}
	ids := map[string]bool{}
	for _, h := range heads {
		ids[h.Get("X-Aient-Delivery")] = true
	}
	if len(ids) != 1 || !ids[n.ID] {
		t.Fatalf("delivery ids %v, want only %s", ids, n.ID)
	}
}

func TestATestAlertGoesToOneDestination(t *testing.T) {
	r := newRig(t)
	a, b := newReceiver(t), newReceiver(t)
	r.add(t, "dst_a", alerts.Webhook, a.URL, "", "", "")
	r.add(t, "dst_b", alerts.Webhook, b.URL, "", "", "")
	if err := r.d.Test(t.Context(), "dst_b"); err != nil {
		t.Fatal(err)
	}
	ab, _ := a.got()
	bb, _ := b.got()
	if len(ab) != 0 || len(bb) != 1 || !strings.Contains(string(bb[0]), `"kind":"test"`) {
		t.Fatalf("a got %d, b got %d: %s", len(ab), len(bb), bb)
	}
	if err := r.d.Test(t.Context(), "dst_none"); err == nil {
		t.Fatal("testing an unknown destination succeeded")
	}
}

func TestTransportErrorsNeverCarryTheURL(t *testing.T) {
	r := newRig(t)
	hook := newReceiver(t)
	url := hook.URL + "/services/T000/B000/TOKENTOKEN"
	hook.Close() // nothing listens any more
	r.add(t, "dst_gone", alerts.Slack, url, "", "", "")
	r.outbox.Put(notice(1, problems.ToNew, t0))
	_, err := r.d.DeliverPending(context.Background(), 10)
	if err == nil {
		t.Fatal("no error from a closed server")
	}
	d, _ := r.dests.Get(t.Context(), "dst_gone")
	for _, s := range []string{err.Error(), d.LastError} {
		if strings.Contains(s, "TOKENTOKEN") {
			t.Fatalf("the secret URL leaked: %s", s)
		}
	}
	if fmt.Sprint(alerts.Secret{URL: url}) != "[secret]" || fmt.Sprintf("%#v", alerts.Secret{URL: url}) == url {
		t.Fatal("a Secret prints")
	}
}

func TestSNSSubjectIsOneASCIILineUnder100(t *testing.T) {
	n := notice(1, problems.ToNew, t0)
	n.Problem.Title = "Ünïcödé\tError: " + strings.Repeat("é", 200) + "\nsecond line"
	doc := alerts.DocumentOf(n, "https://c", t0)
	s := alerts.SNSSubject(doc)
	if len(s) >= 100 || strings.ContainsAny(s, "\n\r\t") {
		t.Fatalf("subject %q (%d bytes)", s, len(s))
	}
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			t.Fatalf("subject %q has %q", s, r)
		}
	}
	_, msg, err := alerts.SNSMessage(doc)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(msg), &m); err != nil || m["default"] == "" || !strings.Contains(m["email"], "Open it: https://c/problems/prob001") {
		t.Fatalf("message %v (%v)", m, err)
	}
}

func TestTheRequestIDComesFromTheSampleOrItsMessage(t *testing.T) {
	for _, c := range []struct{ stored, message, want string }{
		{"", "2026-12-01T10:00:00.000Z\t6f1c1b2a-3d4e-4f50-8a9b-0c1d2e3f4a5b\tERROR\tboom", "6f1c1b2a-3d4e-4f50-8a9b-0c1d2e3f4a5b"},
		{"", "[ERROR]\t2026-12-01T10:00:00.000Z\t0a1b2c3d-3d4e-4f50-8a9b-0c1d2e3f4a5b\tboom", "0a1b2c3d-3d4e-4f50-8a9b-0c1d2e3f4a5b"},
		{"", `{"level":"ERROR","requestId":"abc-123-def","message":"boom"}`, "abc-123-def"},
		{"", "REPORT RequestId: 11111111-2222-3333-4444-555555555555\tDuration: 3000.00 ms\tStatus: timeout", "11111111-2222-3333-4444-555555555555"},
		{"req-from-the-grouper", "no id here", "req-from-the-grouper"},
		{"", "an error without any id", ""},
	} {
		n := notice(1, problems.ToNew, t0)
		n.Problem.Sample.RequestID, n.Problem.Sample.Message = c.stored, c.message
		if got := alerts.SubjectOf(n, "https://c").Sample.RequestID; got != c.want {
			t.Errorf("%q (stored %q): request id %q, want %q", c.message, c.stored, got, c.want)
		}
	}
}
