package problems

import "github.com/aient/firehose-drain/pkg/grouping"

// Explanation returns how the sample's fingerprint was built: the stored
// explanation, or for samples recorded before grouping kept one, the
// explanation computed again from the sample with the default rules (marked
// Recomputed).
func (s Sample) Explanation() *grouping.Explanation {
	if s.Grouping != nil {
		return s.Grouping
	}
	r := grouping.Analyze(s.Message, s.LogGroup)
	e := r.Explain()
	e.Recomputed = true
	return e
}

// View is a problem as the API and `aient problems show --json` print it:
// the problem with its grouping explanation at the top.
type View struct {
	Problem
	Grouping *grouping.Explanation `json:"grouping"`
}

// ViewOf returns the view of p (the explanation moves out of the sample).
func ViewOf(p Problem) View {
	g := p.Sample.Explanation()
	p.Sample.Grouping = nil
	return View{Problem: p, Grouping: g}
}

// DetailView is a Detail as GET /api/problems/{id} prints it: with its
// grouping explanation at the top.
type DetailView struct {
	Detail
	Grouping *grouping.Explanation `json:"grouping"`
}

// ViewOfDetail returns the view of d (the explanation moves out of the sample).
func ViewOfDetail(d Detail) DetailView {
	g := d.Sample.Explanation()
	d.Sample.Grouping = nil
	return DetailView{Detail: d, Grouping: g}
}
