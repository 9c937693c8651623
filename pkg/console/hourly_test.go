package console_test

import (
	"context"
	"testing"
	"time"

	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
)

// TestProblemCarriesBothTrends: GET /api/problems/{id} answers the lifecycle's hourly
// buckets under "hourly" ({"hour": RFC 3339, "count"}, the alerts' contract) and the
// console's 24-hour trend under "last24h"; neither hides the other.
func TestProblemCarriesBothTrends(t *testing.T) {
	l := start(t, t.TempDir())
	d, key, err := l.srv.Drains().Create(context.Background(), "acme", "prod")
	if err != nil {
		t.Fatal(err)
	}
	ev := fht.ErrorEvent(1)
	ev.Timestamp = time.Now().UnixMilli() // within the 14 days the lifecycle keeps
	if st := l.deliver(d.ID, key, fht.Body("req-1", fht.Record("/aws/lambda/pay", "s", ev))); st != 200 {
		t.Fatalf("delivery answered %d", st)
	}
	l.group()
	var list []summary
	if st := l.get("/api/problems", &list); st != 200 || len(list) != 1 {
		t.Fatalf("GET /api/problems: %d %+v", st, list)
	}
	var full struct {
		Hourly []struct {
			Hour  string `json:"hour"`
			Count int64  `json:"count"`
		} `json:"hourly"`
		Last24h []struct {
			Start string `json:"start"`
			Count int64  `json:"count"`
		} `json:"last24h"`
	}
	if st := l.get("/api/problems/"+list[0].ID, &full); st != 200 {
		t.Fatalf("GET /api/problems/{id}: %d", st)
	}
	var total int64
	for _, h := range full.Hourly {
		if _, err := time.Parse(time.RFC3339, h.Hour); err != nil {
			t.Errorf("hourly bucket %+v: hour is not RFC 3339: %v", h, err)
		}
		total += h.Count
	}
	if len(full.Hourly) == 0 || total != 1 {
		t.Errorf("hourly %+v, want the lifecycle's buckets counting the one occurrence", full.Hourly)
	}
	if len(full.Last24h) != 24 {
		t.Errorf("last24h has %d buckets, want 24", len(full.Last24h))
	}
}
