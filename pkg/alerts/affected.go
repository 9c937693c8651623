package alerts

import (
	"context"
	"slices"

	"github.com/aient/firehose-drain/pkg/problems"
)

// affectedOf reads who the batch's problems affect (Config.Affected), so that an alert
// names every affected account and region rather than the sample's alone. Without a
// reader, or when the read fails (logged), the alerts carry the sample's.
func (d *Deliverer) affectedOf(ctx context.Context, batch []*Delivery) map[string]problems.Affected {
	if d.cfg.Affected == nil || len(batch) == 0 {
		return nil
	}
	ids := make([]string, 0, len(batch))
	for _, b := range batch {
		ids = append(ids, b.Notice.Problem.ID)
	}
	aff, err := d.cfg.Affected.Affected(ctx, ids)
	if err != nil {
		d.cfg.Logger.WarnContext(ctx, "alerts carry the sample's account and region only: affected counts not read", "err", err)
		return nil
	}
	return aff
}

// withAffected sets the document's accounts and regions (largest first) from aff, and
// adds the functions of affected log groups the problem's list lacks.
func withAffected(doc *Document, aff map[string]problems.Affected) {
	set := func(s *Subject) {
		a, ok := aff[s.ID]
		if !ok {
			return
		}
		if len(a.Accounts) > 0 {
			s.Accounts = tallyIDs(a.Accounts)
		}
		if len(a.Regions) > 0 {
			s.Regions = tallyIDs(a.Regions)
		}
		for _, g := range a.LogGroups {
			if name, ok := functionOf(g.ID); ok && !slices.Contains(s.Functions, name) {
				s.Functions = append(s.Functions, name)
			}
		}
	}
	if doc.Problem != nil {
		set(doc.Problem)
	}
	for i := range doc.Problems {
		set(&doc.Problems[i])
	}
}

func tallyIDs(ts []problems.Tally) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		if t.ID != "" {
			out = append(out, t.ID)
		}
	}
	return out
}
