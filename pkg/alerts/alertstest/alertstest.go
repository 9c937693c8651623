// Package alertstest has the contract suites of alerts.Destinations and alerts.Outbox,
// which every store runs from its own tests, and in-memory implementations for the
// tests of the deliverer.
package alertstest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/alerts"
	"github.com/aient/firehose-drain/pkg/problems"
)

var base = time.UnixMilli(1_764_583_200_000).UTC() // 2025-12-01T10:00:00Z

// RunDestinations runs the contract of alerts.Destinations on stores from newStore, one
// empty store per subtest.
func RunDestinations(t *testing.T, newStore func(t *testing.T) alerts.Destinations) {
	t.Run("add, get, list in order, remove", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		a := alerts.Destination{ID: "dst_a", Type: alerts.Webhook, Target: "https://hooks.example", SecretRef: "dst_a-1", CreatedAt: base}
		b := alerts.Destination{ID: "dst_b", Type: alerts.SNS, Org: "acme", Env: "prod", TopicARN: "arn:aws:sns:eu-west-1:123456789012:alerts", Target: "arn:aws:sns:eu-west-1:123456789012:alerts", CreatedAt: base.Add(time.Second)}
		for _, d := range []alerts.Destination{b, a} {
			if err := s.Add(ctx, d); err != nil {
				t.Fatalf("Add(%s): %v", d.ID, err)
			}
		}
		if err := s.Add(ctx, a); err == nil {
			t.Fatal("adding a taken id again succeeded")
		}
		got, err := s.Get(ctx, "dst_b")
		if err != nil || got.TopicARN != b.TopicARN || got.Org != "acme" || !got.CreatedAt.Equal(b.CreatedAt) {
			t.Fatalf("Get = %+v, %v", got, err)
		}
		list, err := s.List(ctx)
		if err != nil || len(list) != 2 || list[0].ID != "dst_a" || list[1].ID != "dst_b" {
			t.Fatalf("List = %+v, %v; want dst_a, dst_b (oldest first)", list, err)
		}
		if err := s.Remove(ctx, "dst_a"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, "dst_a"); !errors.Is(err, alerts.ErrNotFound) {
			t.Fatalf("Get of a removed destination: %v, want ErrNotFound", err)
		}
		if err := s.Remove(ctx, "dst_a"); !errors.Is(err, alerts.ErrNotFound) {
			t.Fatalf("Remove twice: %v, want ErrNotFound", err)
		}
	})
	t.Run("reports move the status: retrying, failing, ok", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		if err := s.Add(ctx, alerts.Destination{ID: "dst_c", Type: alerts.Slack, CreatedAt: base}); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			r    alerts.Report
			want alerts.Status
		}{
			{
				alerts.Report{At: base.Add(1 * time.Second), Err: "POST https://hooks.slack.com: answered 500"},
				alerts.Status{Health: alerts.Retrying, LastError: "POST https://hooks.slack.com: answered 500", LastErrorAt: base.Add(time.Second)},
			},
			{
				alerts.Report{At: base.Add(2 * time.Second), Err: "gave up", Dead: true},
				alerts.Status{Health: alerts.Failing, LastError: "gave up", LastErrorAt: base.Add(2 * time.Second), DeadLettered: 1},
			},
			{
				alerts.Report{At: base.Add(3 * time.Second), Err: "again"},
				alerts.Status{Health: alerts.Failing, LastError: "again", LastErrorAt: base.Add(3 * time.Second), DeadLettered: 1},
			},
			{
				alerts.Report{At: base.Add(4 * time.Second)},
				alerts.Status{Health: alerts.Healthy, LastSentAt: base.Add(4 * time.Second), LastError: "again", LastErrorAt: base.Add(3 * time.Second), DeadLettered: 1, Sent: 1},
			},
		}
		for i, st := range steps {
			if err := s.Report(ctx, "dst_c", st.r); err != nil {
				t.Fatalf("step %d: Report: %v", i, err)
			}
			got, err := s.Get(ctx, "dst_c")
			if err != nil {
				t.Fatal(err)
			}
			if !sameStatus(got.Status, st.want) {
				t.Fatalf("step %d: status %+v, want %+v", i, got.Status, st.want)
			}
		}
		if err := s.Report(ctx, "dst_gone", alerts.Report{At: base}); err != nil {
			t.Fatalf("a report on a removed destination: %v, want nil", err)
		}
	})
	t.Run("concurrent reports all count", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		if err := s.Add(ctx, alerts.Destination{ID: "dst_d", Type: alerts.Webhook, CreatedAt: base}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				if err := s.Report(context.WithoutCancel(ctx), "dst_d", alerts.Report{At: base.Add(time.Duration(i) * time.Second)}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got, _ := s.Get(ctx, "dst_d"); got.Sent != 20 {
			t.Fatalf("sent %d after 20 concurrent reports", got.Sent)
		}
	})
}

func sameStatus(a, b alerts.Status) bool {
	return a.Health == b.Health && a.LastSentAt.Equal(b.LastSentAt) && a.LastError == b.LastError &&
		a.LastErrorAt.Equal(b.LastErrorAt) && a.Sent == b.Sent && a.DeadLettered == b.DeadLettered
}

// Notice is a notice for the suites, of problem id in org/env.
func Notice(id, org, env string, at time.Time) problems.Notice {
	p := problems.Problem{
		ID: "p-" + id, Org: org, Env: env, Title: "Error: " + id, Count: 1, FirstSeen: at, LastSeen: at,
		Lifecycle: problems.Lifecycle{State: problems.Unresolved, Substate: problems.New},
	}
	return problems.Notice{ID: id, Transition: problems.ToNew, At: at, CountLastHour: 1, Problem: p}
}

// RunOutbox runs the contract of alerts.Outbox; newStore returns an empty outbox and the
// way its problem store puts a notice (as the write of a transition does).
func RunOutbox(t *testing.T, newStore func(t *testing.T) (alerts.Outbox, func(problems.Notice))) {
	t.Run("pending notices oldest first until done", func(t *testing.T) {
		o, put := newStore(t)
		ctx := t.Context()
		for i, id := range []string{"n2", "n1", "n3"} {
			at := base.Add(time.Duration([]int{2, 1, 3}[i]) * time.Second)
			put(Notice(id, "acme", "prod", at))
		}
		put(Notice("n1", "acme", "prod", base.Add(time.Hour))) // the same id again: a retried write
		got, err := o.Pending(ctx, base.Add(time.Minute), 10)
		if err != nil {
			t.Fatal(err)
		}
		if ids := idsOf(got); !slices.Equal(ids, []string{"n1", "n2", "n3"}) {
			t.Fatalf("pending %v, want n1 n2 n3", ids)
		}
		if got[0].Notice.Problem.Title != "Error: n1" || !got[0].Notice.At.Equal(base.Add(time.Second)) {
			t.Fatalf("notice round trip: %+v", got[0].Notice)
		}
		if got, _ := o.Pending(ctx, base.Add(time.Minute), 2); len(got) != 2 {
			t.Fatalf("limit 2 gave %d", len(got))
		}
		if got, _ := o.Pending(ctx, base, 10); len(got) != 0 {
			t.Fatalf("notices due later are pending: %v", idsOf(got))
		}
		if err := o.MarkSent(ctx, "n1", "dst_a", base.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := o.MarkFailed(ctx, "n1", "dst_b", 2, false, base.Add(5*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := o.MarkFailed(ctx, "n2", "dst_b", 5, true, base.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		loaded, err := o.Load(ctx, []string{"n1", "n2", "unknown"})
		if err != nil || len(loaded) != 2 {
			t.Fatalf("Load = %d deliveries, %v", len(loaded), err)
		}
		d1, d2 := loaded[0], loaded[1]
		if d1.Notice.ID != "n1" {
			d1, d2 = d2, d1
		}
		if !d1.Sent["dst_a"].Equal(base.Add(2*time.Minute)) || d1.Attempts["dst_b"] != 2 || d1.Dead["dst_b"] {
			t.Fatalf("n1 after a send and a failure: %+v", d1)
		}
		if !d2.Dead["dst_b"] || d2.Attempts["dst_b"] != 5 {
			t.Fatalf("n2 after dead-lettering: %+v", d2)
		}
		// n1 is due again only at its retry time.
		if ids := idsOf(must(o.Pending(ctx, base.Add(4*time.Minute), 10))); slices.Contains(ids, "n1") {
			t.Fatalf("n1 pending before its retry time: %v", ids)
		}
		if err := o.Done(ctx, "n2", base.Add(3*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if ids := idsOf(must(o.Pending(ctx, base.Add(time.Hour), 10))); !slices.Equal(ids, []string{"n1", "n3"}) {
			t.Fatalf("pending after n2 is done: %v, want n1 n3", ids)
		}
	})
}

func must(d []alerts.Delivery, err error) []alerts.Delivery {
	if err != nil {
		panic(fmt.Sprintf("alertstest: %v", err))
	}
	return d
}

func idsOf(ds []alerts.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Notice.ID)
	}
	return out
}
