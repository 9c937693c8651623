package console_test

import (
	"context"
	"testing"

	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
	"github.com/aient/firehose-drain/pkg/grouping"
)

// TestProblemShowsHowItGroups: GET /api/problems/{id} carries "grouping":
// the version and the components of the fingerprint.
func TestProblemShowsHowItGroups(t *testing.T) {
	l := start(t, t.TempDir())
	d, key, err := l.srv.Drains().Create(context.Background(), "acme", "prod")
	if err != nil {
		t.Fatal(err)
	}
	if st := l.deliver(d.ID, key, fht.Body("req-1", fht.Record("/aws/lambda/pay", "s", fht.ErrorEvent(1)))); st != 200 {
		t.Fatalf("delivery answered %d", st)
	}
	l.group()
	var list []summary
	if st := l.get("/api/problems", &list); st != 200 || len(list) != 1 {
		t.Fatalf("GET /api/problems: %d %+v", st, list)
	}
	var full struct {
		Fingerprint string
		Grouping    *struct {
			Version    string `json:"version"`
			Components []struct {
				Name        string `json:"name"`
				Value       string `json:"value"`
				Contributes bool   `json:"contributes"`
				Hint        string `json:"hint"`
			} `json:"components"`
		} `json:"grouping"`
		Sample map[string]any `json:"sample"`
	}
	if st := l.get("/api/problems/"+list[0].ID, &full); st != 200 || full.Grouping == nil {
		t.Fatalf("GET /api/problems/{id}: %d %+v", st, full)
	}
	g := full.Grouping
	if g.Version != grouping.Version || len(g.Components) == 0 {
		t.Fatalf("grouping %+v", g)
	}
	contributing := 0
	for _, c := range g.Components {
		if c.Name == "" || c.Hint == "" {
			t.Errorf("component without name or hint: %+v", c)
		}
		if c.Contributes {
			contributing++
		}
	}
	if contributing == 0 {
		t.Errorf("no component contributes: %+v", g.Components)
	}
	if _, dup := full.Sample["grouping"]; dup {
		t.Error("the explanation is printed twice (also in the sample)")
	}
}
