package cli

import (
	"context"
	"fmt"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/aient/firehose-drain/pkg/drains"
)

// Created is the stable JSON of `drains create --json` and `drains rotate --json`.
// AccessKey is shown this once: only its digest is stored.
type Created struct {
	ID        string    `json:"id"`
	Org       string    `json:"org"`
	Env       string    `json:"env"`
	Endpoint  string    `json:"endpoint"`
	AccessKey string    `json:"accessKey"`
	CreatedAt time.Time `json:"createdAt"`
	// OldKeyValidUntil (rotate): when the previous key stops working; absent when at once.
	OldKeyValidUntil time.Time `json:"oldKeyValidUntil,omitzero"`
}

func (c *command) drainsCreate(ctx context.Context, args []string) (err error) {
	f := c.newFlags("drains create", true)
	org := f.String("org", "", "organisation the drain's events are stamped with (required)")
	env := f.String("env", "", "environment the drain's events are stamped with (required)")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("drains create takes no arguments, only --org and --env")
	}
	if *org == "" || *env == "" {
		return usageError("drains create needs --org and --env")
	}
	f.mayCreate = true // the first drain may start a new data dir
	b, err := f.open(ctx)
	if err != nil {
		return err
	}
	defer b.closeInto(&err)
	d, key, err := b.drains.Create(ctx, *org, *env)
	if err != nil {
		return err
	}
	out := Created{ID: d.ID, Org: d.Org, Env: d.Env, Endpoint: b.endpoint(d.ID), AccessKey: key, CreatedAt: d.CreatedAt}
	if f.json {
		return c.printJSON(out)
	}
	c.printKey("Drain "+d.ID+" created for org "+d.Org+", env "+d.Env+".", out)
	return nil
}

func (c *command) printKey(headline string, out Created) {
	fmt.Fprintf(c.stdout, "%s\n\n  Endpoint URL:               %s\n  X-Amz-Firehose-Access-Key:  %s\n\n", headline, out.Endpoint, out.AccessKey)
	fmt.Fprintln(c.stdout, "Copy the access key now and keep it in a secret manager: only its digest is stored,")
	fmt.Fprintln(c.stdout, "so it cannot be shown again. If it is lost, rotate the drain.")
}

func (c *command) drainsRotate(ctx context.Context, args []string) (err error) {
	f := c.newFlags("drains rotate", true)
	grace := f.Duration("grace", 0, "how long the previous key keeps working (e.g. 1h) while Firehose is updated")
	b, id, err := f.openWith(ctx, args, "drain id")
	if err != nil {
		return err
	}
	defer b.closeInto(&err)
	d, key, err := b.drains.Rotate(ctx, id, *grace)
	if err != nil {
		return asked("drain", id, err)
	}
	out := Created{ID: d.ID, Org: d.Org, Env: d.Env, Endpoint: b.endpoint(d.ID), AccessKey: key, CreatedAt: d.CreatedAt}
	if *grace > 0 {
		out.OldKeyValidUntil = d.RotatedAt.Add(*grace)
	}
	if f.json {
		return c.printJSON(out)
	}
	head := "Drain " + d.ID + " has a new access key. The previous key stopped working."
	if *grace > 0 {
		head = "Drain " + d.ID + " has a new access key. The previous key works until " + out.OldKeyValidUntil.Format(time.RFC3339) + "."
	}
	c.printKey(head, out)
	return nil
}

func (c *command) drainsRevoke(ctx context.Context, args []string) (err error) {
	f := c.newFlags("drains revoke", false)
	b, id, err := f.openWith(ctx, args, "drain id")
	if err != nil {
		return err
	}
	defer b.closeInto(&err)
	if err := b.drains.Revoke(ctx, id); err != nil {
		return asked("drain", id, err)
	}
	fmt.Fprintf(c.stdout, "Drain %s revoked: its endpoint refuses every delivery (403) from now on.\n", id)
	return nil
}

func (c *command) drainsList(ctx context.Context, args []string) (err error) {
	f := c.newFlags("drains list", true)
	b, _, err := f.openWith(ctx, args, "")
	if err != nil {
		return err
	}
	defer b.closeInto(&err)
	all, err := b.drains.Store().List(ctx)
	if err != nil {
		return fmt.Errorf("list drains: %w", err)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].CreatedAt.Before(all[j].CreatedAt) })
	now := time.Now()
	st := make([]drains.Status, 0, len(all))
	for _, d := range all {
		st = append(st, drains.StatusOf(d, now, b.endpoint(d.ID)))
	}
	if f.json {
		return c.printJSON(st)
	}
	if len(st) == 0 {
		fmt.Fprintln(c.stdout, "No drains yet. Create one with: aient drains create --org O --env E")
		return nil
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tORG\tENV\tSTATUS\tALERT\tLAST DATA\tEVENTS\tERRORS")
	for _, s := range st {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\n", s.ID, s.Org, s.Env, s.Status, dash(s.Alert), ago(s.LastReceivedAt, now), s.Counters.Events, s.Counters.ErrorEvents)
	}
	return w.Flush()
}

func (c *command) drainsStatus(ctx context.Context, args []string) (err error) {
	f := c.newFlags("drains status", true)
	b, id, err := f.openWith(ctx, args, "drain id")
	if err != nil {
		return err
	}
	defer b.closeInto(&err)
	d, err := b.drains.Store().Get(ctx, id)
	if err != nil {
		return asked("drain", id, err)
	}
	now := time.Now()
	s := drains.StatusOf(d, now, b.endpoint(d.ID))
	if f.json {
		return c.printJSON(s)
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "Drain\t%s (org %s, env %s)\n", s.ID, s.Org, s.Env)
	fmt.Fprintf(w, "Status\t%s\n", s.Status)
	if s.Alert != "" {
		fmt.Fprintf(w, "Alert\t%s\n", s.Alert)
	}
	fmt.Fprintf(w, "Endpoint\t%s\n", s.Endpoint)
	fmt.Fprintf(w, "Last data\t%s\n", ago(s.LastReceivedAt, now))
	fmt.Fprintf(w, "Last control message\t%s\n", ago(s.LastControlAt, now))
	if n := s.LastAuthError; n != nil {
		fmt.Fprintf(w, "Last Firehose auth error\t%s: %s\n", ago(n.At, now), n.Reason)
	}
	if n := s.LastPayloadError; n != nil {
		fmt.Fprintf(w, "Last Firehose payload error\t%s: %s\n", ago(n.At, now), n.Reason)
	}
	keys := fmt.Sprintf("%d", s.ActiveKeys)
	if !s.OldKeyValidUntil.IsZero() {
		keys += " (previous key valid until " + s.OldKeyValidUntil.Format(time.RFC3339) + ")"
	}
	fmt.Fprintf(w, "Active keys\t%s\n", keys)
	cn := s.Counters
	fmt.Fprintf(w, "Deliveries\t%d\nEvents received\t%d\nError-class events\t%d\nDuplicates skipped\t%d\nRecords rejected\t%d\n",
		cn.Deliveries, cn.Events, cn.ErrorEvents, cn.Duplicates, cn.RecordsRejected)
	if cn.LogsRejected > 0 || s.LastLogsRejected != nil {
		fmt.Fprintf(w, "Logs rejected (OTLP)\t%d\n", cn.LogsRejected)
	}
	if n := s.LastLogsRejected; n != nil {
		fmt.Fprintf(w, "Last OTLP rejection\t%s: %s\n", ago(n.At, now), n.Reason)
	}
	for _, src := range s.Sources {
		line := fmt.Sprintf("%s, %d deliveries, %d error-class events, %d rejected, last data %s",
			src.Status, src.Deliveries, src.ErrorEvents, src.Rejected, ago(src.LastReceivedAt, now))
		if n := src.LastError; n != nil {
			line += fmt.Sprintf("; last payload error %s: %s", ago(n.At, now), n.Reason)
		}
		fmt.Fprintf(w, "Source %s\t%s\n", src.Kind, line)
	}
	return w.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ago renders a time for a person: "never", or RFC 3339 with how long ago.
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t).Round(time.Second)
	return fmt.Sprintf("%s (%s ago)", t.UTC().Format(time.RFC3339), d)
}
