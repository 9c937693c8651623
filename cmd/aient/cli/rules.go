package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/grouping"
)

// rulesFlags parses --org, --env and the positional arguments of a rules command.
func (c *command) rulesFlags(name string, args []string, withJSON bool, what string) (*flags, string, string, []string, error) {
	f := c.newFlags(name, withJSON)
	org := f.String("org", "", "the organisation whose rules these are (required)")
	env := f.String("env", "", "the environment whose rules these are (required)")
	pos, err := f.parse(args)
	if err != nil {
		return nil, "", "", nil, err
	}
	if *org == "" || *env == "" {
		return nil, "", "", nil, usageError("%s needs --org and --env", name)
	}
	if what == "" && len(pos) > 0 || what != "" && len(pos) != 1 {
		if what == "" {
			return nil, "", "", nil, usageError("%s takes no arguments", name)
		}
		return nil, "", "", nil, usageError("%s needs exactly one %s (quote it)", name, what)
	}
	return f, *org, *env, pos, nil
}

func (c *command) rulesAdd(ctx context.Context, args []string) (err error) {
	f, org, env, pos, err := c.rulesFlags("rules add", args, true, "rule")
	if err != nil {
		return err
	}
	text := strings.TrimSpace(pos[0])
	rule, err := grouping.ParseRule(text)
	if err != nil {
		return usageError("rule %q: %v", text, err)
	}
	b, err := f.open(ctx)
	if err != nil {
		return err
	}
	defer b.closeInto(&err)
	r, err := b.rules.AddRule(ctx, org, env, rule.String(), time.Now())
	if err != nil {
		return fmt.Errorf("add rule: %w", err)
	}
	if f.json {
		return c.printJSON(r)
	}
	fmt.Fprintf(c.stdout, "Added rule %s to %s/%s: %s\nIt applies to new events within %s.\n", r.ID, org, env, r.Text, "30s")
	return nil
}

func (c *command) rulesList(ctx context.Context, args []string) (err error) {
	f, org, env, _, err := c.rulesFlags("rules list", args, true, "")
	if err != nil {
		return err
	}
	b, err := f.open(ctx)
	if err != nil {
		return err
	}
	defer b.closeInto(&err)
	list, err := b.rules.Rules(ctx, org, env)
	if err != nil {
		return fmt.Errorf("list rules: %w", err)
	}
	if f.json {
		if list == nil {
			list = []drains.Rule{}
		}
		return c.printJSON(list)
	}
	if len(list) == 0 {
		fmt.Fprintf(c.stdout, "No rules for %s/%s: the default rules apply.\n", org, env)
		return nil
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tADDED\tRULE")
	for _, r := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\n", r.ID, r.CreatedAt.Format(time.RFC3339), r.Text)
	}
	return w.Flush()
}

func (c *command) rulesRemove(ctx context.Context, args []string) (err error) {
	f, org, env, pos, err := c.rulesFlags("rules remove", args, false, "rule id")
	if err != nil {
		return err
	}
	b, err := f.open(ctx)
	if err != nil {
		return err
	}
	defer b.closeInto(&err)
	if err := b.rules.RemoveRule(ctx, org, env, pos[0]); err != nil {
		if errors.Is(err, drains.ErrRuleNotFound) {
			return fmt.Errorf("%s/%s has no rule %s (see aient rules list): %w", org, env, pos[0], err)
		}
		return fmt.Errorf("remove rule: %w", err)
	}
	fmt.Fprintf(c.stdout, "Removed rule %s from %s/%s.\n", pos[0], org, env)
	return nil
}
