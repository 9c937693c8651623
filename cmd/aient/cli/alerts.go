package cli

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aient/firehose-drain/pkg/alerts"
	"github.com/aient/firehose-drain/pkg/problems"
)

// newDestinationID is a random destination id, dst_ and 16 base32 characters.
func newDestinationID() (string, error) {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "dst_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])), nil
}

func (c *command) alertsAdd(ctx context.Context, args []string) (err error) {
	f := c.newFlags("alerts add", true)
	topic := f.String("sns-topic", "", "an Amazon SNS topic ARN")
	slack := f.String("slack-webhook", "", "a Slack incoming webhook URL")
	hook := f.String("webhook", "", "a generic webhook URL (POST of the alert JSON)")
	secret := f.String("secret", "", "with --webhook: the key of the X-Aient-Signature HMAC")
	org := f.String("org", "", "only this organisation's problems (with --env)")
	env := f.String("env", "", "only this environment's problems (with --org)")
	b, _, err := f.openWith(ctx, args, "")
	if err != nil {
		return err
	}
	defer b.closeInto(&err)
	set := 0
	for _, v := range []string{*topic, *slack, *hook} {
		if v != "" {
			set++
		}
	}
	if set != 1 {
		return usageError("alerts add takes exactly one of --sns-topic, --slack-webhook, --webhook")
	}
	if *secret != "" && *hook == "" {
		return usageError("--secret goes with --webhook")
	}
	id, err := newDestinationID()
	if err != nil {
		return fmt.Errorf("alerts add: %w", err)
	}
	d := alerts.Destination{ID: id, Org: *org, Env: *env, CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	var s alerts.Secret
	switch {
	case *topic != "":
		d.Type, d.TopicARN, d.Target = alerts.SNS, *topic, *topic
	case *slack != "":
		d.Type, s.URL, d.Target = alerts.Slack, *slack, alerts.Redact(*slack)
	default:
		d.Type, s.URL, s.SigningKey, d.Target = alerts.Webhook, *hook, *secret, alerts.Redact(*hook)
	}
	if err := alerts.CheckNew(d, s); err != nil {
		return usageError("%v", err)
	}
	if s != (alerts.Secret{}) {
		if d.SecretRef, err = b.secrets.PutSecret(ctx, id, s); err != nil {
			return fmt.Errorf("alerts add: %w", err)
		}
	}
	if err := b.destinations.Add(ctx, d); err != nil {
		if d.SecretRef != "" {
			_ = b.secrets.DeleteSecret(ctx, d.SecretRef)
		}
		return fmt.Errorf("alerts add: %w", err)
	}
	d.Health = alerts.Healthy
	if f.json {
		return c.printJSON(d)
	}
	fmt.Fprintf(c.stdout, "Added %s destination %s → %s (%s).\nTry it: aient alerts test %s\n", d.Type, d.ID, d.Target, scopeOf(d), d.ID)
	return nil
}

func scopeOf(d alerts.Destination) string {
	if d.Org == "" {
		return "every org and env"
	}
	return d.Org + "/" + d.Env
}

func (c *command) alertsList(ctx context.Context, args []string) (err error) {
	f := c.newFlags("alerts list", true)
	b, _, err := f.openWith(ctx, args, "")
	if err != nil {
		return err
	}
	defer b.closeInto(&err)
	list, err := b.destinations.List(ctx)
	if err != nil {
		return fmt.Errorf("alerts list: %w", err)
	}
	if f.json {
		if list == nil {
			list = []alerts.Destination{}
		}
		return c.printJSON(list)
	}
	if len(list) == 0 {
		fmt.Fprintln(c.stdout, "No alert destinations yet: aient alerts add --webhook URL (or --slack-webhook, --sns-topic).")
		return nil
	}
	now := time.Now()
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tTYPE\tTARGET\tSCOPE\tSTATUS\tSENT\tDEAD\tLAST ERROR")
	for _, d := range list {
		last := "–"
		if d.LastError != "" {
			last = ago(d.LastErrorAt, now) + ": " + oneLine(d.LastError, 80)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", d.ID, d.Type, d.Target, scopeOf(d), d.Health, d.Sent, d.DeadLettered, last)
	}
	return w.Flush()
}

func (c *command) alertsRemove(ctx context.Context, args []string) (err error) {
	f := c.newFlags("alerts remove", false)
	b, id, err := f.openWith(ctx, args, "destination id")
	if err != nil {
		return err
	}
	defer b.closeInto(&err)
	d, err := b.destinations.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("alerts remove: %w", err)
	}
	if err := b.destinations.Remove(ctx, id); err != nil {
		return fmt.Errorf("alerts remove: %w", err)
	}
	if d.SecretRef != "" {
		if err := b.secrets.DeleteSecret(ctx, d.SecretRef); err != nil {
			return fmt.Errorf("alerts remove: the destination is removed but its secret is not: %w", err)
		}
	}
	fmt.Fprintf(c.stdout, "Removed %s.\n", id)
	return nil
}

func (c *command) alertsTest(ctx context.Context, args []string) (err error) {
	f := c.newFlags("alerts test", false)
	b, id, err := f.openWith(ctx, args, "destination id")
	if err != nil {
		return err
	}
	defer b.closeInto(&err)
	if err := b.deliverer().Test(ctx, id); err != nil {
		return fmt.Errorf("alerts test %s: %w", id, err)
	}
	fmt.Fprintf(c.stdout, "Sent a test alert to %s.\n", id)
	return nil
}

// problemsAct is `problems resolve|ignore|reopen ID`.
func (c *command) problemsAct(ctx context.Context, verb string, args []string) (err error) {
	f := c.newFlags("problems "+verb, true)
	var (
		forD  *time.Duration
		count *int64
	)
	if verb == "ignore" {
		forD = f.Duration("for", 0, "ignore for this long (e.g. 24h), then it is unresolved again")
		count = f.Int64("until-count", 0, "ignore until this many more occurrences")
	}
	b, id, err := f.openWith(ctx, args, "problem id")
	if err != nil {
		return err
	}
	defer b.closeInto(&err)
	a := problems.Action{To: map[string]problems.State{"resolve": problems.Resolved, "ignore": problems.Ignored, "reopen": problems.Unresolved}[verb]}
	if verb == "ignore" {
		a.For, a.UntilCount = *forD, *count
	}
	if err := a.Check(); err != nil {
		return usageError("%v", err)
	}
	p, err := b.problems.Act(ctx, id, a)
	if errors.Is(err, problems.ErrBadAction) {
		return usageError("%v", err)
	}
	if err != nil {
		return asked("problem", id, err)
	}
	if f.json {
		return c.printJSON(p)
	}
	fmt.Fprintf(c.stdout, "%s is %s.\n", p.ID, stateLine(p))
	return nil
}

// stateLine says a problem's state as a person reads it.
func stateLine(p problems.Problem) string {
	switch p.State {
	case problems.Resolved:
		return "resolved (since " + p.ResolvedAt.UTC().Format(time.RFC3339) + ")"
	case problems.Ignored:
		switch {
		case !p.IgnoredUntil.IsZero():
			return "ignored until " + p.IgnoredUntil.UTC().Format(time.RFC3339)
		case p.IgnoredUntilCount > 0:
			return fmt.Sprintf("ignored until its count reaches %d (now %d)", p.IgnoredUntilCount, p.Count)
		}
		return "ignored forever"
	}
	if p.Substate == "" {
		return "unresolved"
	}
	return "unresolved (" + string(p.Substate) + ")"
}
