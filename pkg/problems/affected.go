package problems

import "context"

// AffectedReader reads who problems affect: the counts by account, region and log group
// that Reader.Detail answers as Detail.Affected (largest first, at most 20 of each), for
// several problems at once. Both stores implement it; the alerts use it so that an alert
// names every affected account and region, not only the sample's. Problems it does not
// know are left out of the answer.
type AffectedReader interface {
	Affected(ctx context.Context, ids []string) (map[string]Affected, error)
}
