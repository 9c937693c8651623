package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/aient/firehose-drain/pkg/problems"
)

// problemsExplain prints how a problem's fingerprint was built: the grouping
// version and each component, whether it contributed and why.
func (c *command) problemsExplain(ctx context.Context, args []string) (err error) {
	f := c.newFlags("problems explain", true)
	b, id, err := f.openWith(ctx, args, "problem id")
	if err != nil {
		return err
	}
	defer b.closeInto(&err)
	p, err := b.problems.Get(ctx, id)
	if err != nil {
		return asked("problem", id, err)
	}
	v := problems.ViewOf(p)
	if f.json {
		return c.printJSON(v.Grouping)
	}
	fmt.Fprintf(c.stdout, "%s\n\nFingerprint %s (grouping version %s)\n", p.Title, p.Fingerprint, v.Grouping.Version)
	if v.Grouping.Recomputed {
		fmt.Fprintln(c.stdout, "The sample was recorded before fingerprints kept their components: recomputed from the sample now.")
	}
	fmt.Fprintln(c.stdout, "\nComponents (+ contributes to the fingerprint, - does not):")
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	for _, comp := range v.Grouping.Components {
		mark := "-"
		if comp.Contributes {
			mark = "+"
		}
		fmt.Fprintf(w, "  %s %s\t%s\t%s\n", mark, comp.Name, oneLine(comp.Value, 80), comp.Hint)
	}
	return w.Flush()
}
