package embedded_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/drains"
)

// The delivery log keeps the latest 50 deliveries and, apart, the latest 20 errors, newest
// first, also under concurrent writers; it writes nothing for a drain that does not exist.
func TestDeliveryLogKeepsTheLatest(t *testing.T) {
	s := openStore(t, t.TempDir())
	st := s.Drains()
	ctx := t.Context()
	base := time.UnixMilli(1_800_000_000_000).UTC()
	if err := st.Create(ctx, drains.Drain{ID: "drn_log", Org: "o", Env: "e", State: drains.StateActive, CreatedAt: base}); err != nil {
		t.Fatal(err)
	}
	// 90 deliveries, every third a 400: 30 errors, 60 successes, four writers at once.
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < 90; i += 4 {
				status, reason := 200, ""
				if i%3 == 0 {
					status, reason = 400, fmt.Sprintf("record 0: bad %d", i)
				}
				e := drains.LogEntry{At: base.Add(time.Duration(i) * time.Second), Status: status, Reason: reason, Events: int64(i)}
				if err := st.RecordDelivery(ctx, "drn_log", drains.Delivery{At: e.At, Counters: drains.Counters{Deliveries: 1}, Log: []drains.LogEntry{e}}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	lr, ok := st.(drains.LogReader)
	if !ok {
		t.Fatal("the embedded drain store is not a drains.LogReader")
	}
	all, errs, err := lr.DeliveryLog(ctx, "drn_log")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != drains.LogDeliveries || len(errs) != drains.LogErrors {
		t.Fatalf("%d deliveries and %d errors kept, want %d and %d", len(all), len(errs), drains.LogDeliveries, drains.LogErrors)
	}
	for _, e := range errs {
		if !e.IsError() || e.Reason == "" {
			t.Errorf("error log entry %+v", e)
		}
	}
	d, _ := st.Get(ctx, "drn_log")
	if d.Counters.Deliveries != 90 {
		t.Errorf("deliveries counter %d, want 90", d.Counters.Deliveries)
	}
	if err := st.RecordDelivery(ctx, "drn_log", drains.Delivery{
		At: base.Add(time.Hour), Counters: drains.Counters{Deliveries: 1},
		Log: []drains.LogEntry{{At: base.Add(time.Hour), Status: 401, Reason: "unauthorized"}, {At: base.Add(time.Hour), Status: 200, Events: 7}},
	}); err != nil {
		t.Fatal(err)
	}
	all, errs, _ = lr.DeliveryLog(ctx, "drn_log")
	if all[0].Status != 200 || all[0].Events != 7 || all[1].Status != 401 || errs[0].Status != 401 || len(all) != drains.LogDeliveries {
		t.Errorf("after one more: newest %+v, %+v; newest error %+v", all[0], all[1], errs[0])
	}

	if err := st.RecordDelivery(ctx, "drn_nosuch", drains.Delivery{At: base, Log: []drains.LogEntry{{At: base, Status: 200}}}); err != nil {
		t.Fatal(err)
	}
	if all, errs, _ := lr.DeliveryLog(ctx, "drn_nosuch"); len(all)+len(errs) != 0 {
		t.Errorf("a drain that does not exist has a log: %v %v", all, errs)
	}
}
