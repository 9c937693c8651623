package alertstest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/alerts"
)

// RunRate runs the contract of alerts.Rate against stores made by newRate (each empty).
func RunRate(t *testing.T, newRate func(t *testing.T) alerts.Rate) {
	minute := time.Date(2026, 12, 1, 10, 7, 0, 0, time.UTC)
	t.Run("concurrent takes never pass the limit: exactly limit of them succeed", func(t *testing.T) {
		r := newRate(t)
		var took atomic.Int64
		var wg sync.WaitGroup
		for range 40 {
			wg.Go(func() {
				ok, err := r.Take(context.WithoutCancel(t.Context()), "dst_a", minute, 1, alerts.DigestOver)
				if err != nil {
					t.Error(err)
				}
				if ok {
					took.Add(1)
				}
			})
		}
		wg.Wait()
		if took.Load() != alerts.DigestOver {
			t.Fatalf("%d of 40 takes of 1 succeeded, want %d", took.Load(), alerts.DigestOver)
		}
	})
	t.Run("a take is all or nothing, per destination and minute", func(t *testing.T) {
		r := newRate(t)
		ctx := t.Context()
		for _, c := range []struct {
			dest   string
			minute time.Time
			n      int
			want   bool
		}{
			{"dst_a", minute, 7, true},
			{"dst_a", minute, 4, false}, // 11 > 10: nothing taken
			{"dst_a", minute, 3, true},  // 10
			{"dst_a", minute, 1, false},
			{"dst_b", minute, 10, true},                  // another destination
			{"dst_a", minute.Add(time.Minute), 10, true}, // the next minute
			{"dst_c", minute, 11, false},                 // more than the limit at once
		} {
			ok, err := r.Take(ctx, c.dest, c.minute, c.n, alerts.DigestOver)
			if err != nil || ok != c.want {
				t.Fatalf("Take(%s, %v, %d) = %v, %v; want %v", c.dest, c.minute, c.n, ok, err, c.want)
			}
		}
	})
}
