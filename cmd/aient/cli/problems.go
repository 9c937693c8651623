package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aient/firehose-drain/pkg/problems"
)

func (c *command) problemsList(ctx context.Context, args []string) (err error) {
	f := c.newFlags("problems list", true)
	org := f.String("org", "", "only this organisation's problems (with --env)")
	env := f.String("env", "", "only this environment's problems (with --org)")
	state := f.String("state", string(problems.Unresolved), "unresolved, resolved, ignored or all")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("problems list takes no arguments")
	}
	if (*org == "") != (*env == "") {
		return usageError("--org and --env go together")
	}
	if _, err := problems.FilterState(nil, *state); err != nil {
		return usageError("--state: %v", err)
	}
	b, err := f.open(ctx)
	if err != nil {
		return err
	}
	defer b.closeInto(&err)
	list, err := b.problems.List(ctx, *org, *env)
	if err != nil {
		return fmt.Errorf("list problems: %w", err)
	}
	some := len(list) > 0
	if list, err = problems.FilterState(list, *state); err != nil {
		return usageError("--state: %v", err)
	}
	if f.json {
		if list == nil {
			list = []problems.Problem{}
		}
		return c.printJSON(list)
	}
	if len(list) == 0 {
		if some {
			fmt.Fprintf(c.stdout, "No %s problems (--state all lists every one).\n", *state)
			return nil
		}
		fmt.Fprintln(c.stdout, "No problems yet.")
		return nil
	}
	now := time.Now()
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tSTATE\tCOUNT\tLAST SEEN\tLEVEL\tTITLE")
	for _, p := range list {
		st := string(p.State)
		if p.Substate != "" {
			st += "/" + string(p.Substate)
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\n", p.ID, st, p.Count, ago(p.LastSeen, now), p.Level, oneLine(p.Title, 100))
	}
	return w.Flush()
}

func (c *command) problemsShow(ctx context.Context, args []string) (err error) {
	f := c.newFlags("problems show", true)
	b, id, err := f.openWith(ctx, args, "problem id")
	if err != nil {
		return err
	}
	defer b.closeInto(&err)
	p, err := b.problems.Get(ctx, id)
	if err != nil {
		return asked("problem", id, err)
	}
	if f.json {
		return c.printJSON(p)
	}
	now := time.Now()
	fmt.Fprintf(c.stdout, "%s\n\n", p.Title)
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "Problem\t%s (org %s, env %s)\n", p.ID, p.Org, p.Env)
	fmt.Fprintf(w, "State\t%s\n", stateLine(p))
	fmt.Fprintf(w, "Culprit\t%s\n", dash(p.Culprit))
	fmt.Fprintf(w, "Level\t%s\n", p.Level)
	fmt.Fprintf(w, "Count\t%d (last hour %d)\n", p.Count, problems.LastHour(p.Hourly, now))
	fmt.Fprintf(w, "First seen\t%s\n", ago(p.FirstSeen, now))
	fmt.Fprintf(w, "Last seen\t%s\n", ago(p.LastSeen, now))
	fmt.Fprintf(w, "Log groups\t%s\n", strings.Join(p.LogGroups, ", "))
	fmt.Fprintf(w, "Fingerprint\t%s\n", p.Fingerprint)
	s := p.Sample
	fmt.Fprintf(w, "Sample event\t%s / %s / %s at %s\n", s.LogGroup, s.LogStream, s.EventID, time.UnixMilli(s.Timestamp).UTC().Format(time.RFC3339Nano))
	if err := w.Flush(); err != nil {
		return err
	}
	if len(s.Frames) > 0 {
		fmt.Fprintln(c.stdout, "\nStack (in-app frames marked *):")
		for _, fr := range s.Frames {
			mark := " "
			if fr.InApp {
				mark = "*"
			}
			fmt.Fprintf(c.stdout, "  %s %s\n", mark, fr)
		}
	}
	fmt.Fprintf(c.stdout, "\nSample message:\n%s\n", s.Message)
	if len(s.Breadcrumbs) > 0 {
		fmt.Fprintln(c.stdout, "\nLogs of this invocation:")
		for _, l := range s.Breadcrumbs {
			fmt.Fprintf(c.stdout, "  %s %-5s %s\n", l.Time.UTC().Format("15:04:05.000"), dash(strings.ToUpper(string(l.Level))), oneLine(l.Message, 300))
		}
	}
	return nil
}

func oneLine(s string, n int) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
