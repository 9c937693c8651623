package drainstest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/drains"
)

// LogStore is a drain store that keeps the delivery log.
type LogStore interface {
	drains.Store
	drains.LogReader
}

// RunLog runs the contract of drains.LogReader (with RecordDelivery appending the log)
// against stores made by newStore, which are empty and used by nothing else.
func RunLog(t *testing.T, newStore func(t *testing.T) LogStore) {
	t.Run("the log keeps the latest deliveries and errors, newest first, under concurrent writers", func(t *testing.T) {
		testLogLatest(t, newStore(t))
	})
	t.Run("a delivery's entries are logged in order, errors in both lists", func(t *testing.T) { testLogOrder(t, newStore(t)) })
	t.Run("a drain that does not exist has no log and gets none", func(t *testing.T) { testLogMissing(t, newStore(t)) })
	t.Run("a redelivered bookkeeping write logs the delivery again and keeps the bounds", func(t *testing.T) {
		testLogRedelivered(t, newStore(t))
	})
}

func logEntry(i int) drains.LogEntry {
	e := drains.LogEntry{At: at(time.Duration(i) * time.Second), Status: 200, Records: 1, Events: int64(i), ErrorEvents: 1, Duplicates: int64(i % 2)}
	if i%3 == 0 {
		e.Status, e.Reason = 400, fmt.Sprintf("record 0: bad %d", i)
	}
	return e
}

// 90 deliveries by four writers at once, every third a 400: the latest 50 and the latest 20
// errors are kept, each entry once, whatever the interleaving.
func testLogLatest(t *testing.T, s LogStore) {
	ctx := context.WithoutCancel(t.Context())
	mustCreate(t, s, minimalDrain("drn_log"))
	const total = 90
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < total; i += 4 {
				e := logEntry(i)
				if err := s.RecordDelivery(ctx, "drn_log", drains.Delivery{At: e.At, Counters: drains.Counters{Deliveries: 1}, Log: []drains.LogEntry{e}}); err != nil {
					t.Errorf("RecordDelivery: %v", err)
				}
			}
		})
	}
	wg.Wait()
	all, errs, err := s.DeliveryLog(ctx, "drn_log")
	if err != nil {
		t.Fatalf("DeliveryLog: %v", err)
	}
	if len(all) != drains.LogDeliveries || len(errs) != drains.LogErrors {
		t.Fatalf("%d deliveries and %d errors kept, want %d and %d", len(all), len(errs), drains.LogDeliveries, drains.LogErrors)
	}
	// Concurrent writers interleave, so "the latest" is by the order the store took them,
	// which need not be i's; each entry is one of the deliveries, once.
	seen := map[int64]bool{}
	for _, e := range all {
		i := int(e.Events)
		if want := logEntry(i); e != want || seen[e.Events] {
			t.Errorf("entry %+v: not delivery %d (%+v), or twice", e, i, want)
		}
		seen[e.Events] = true
	}
	for _, e := range errs {
		if !e.IsError() || e != logEntry(int(e.Events)) {
			t.Errorf("error log entry %+v", e)
		}
	}
	if d := mustGet(t, s, "drn_log"); d.Counters.Deliveries != total {
		t.Errorf("deliveries counter %d, want %d", d.Counters.Deliveries, total)
	}
	// Written one at a time, the latest are the last ones.
	for i := total; i < total+drains.LogDeliveries; i++ {
		e := logEntry(i)
		if err := s.RecordDelivery(ctx, "drn_log", drains.Delivery{At: e.At, Log: []drains.LogEntry{e}}); err != nil {
			t.Fatal(err)
		}
	}
	all, errs, _ = s.DeliveryLog(ctx, "drn_log")
	for n, e := range all {
		if want := logEntry(total + drains.LogDeliveries - 1 - n); e != want {
			t.Fatalf("entry %d is %+v, want %+v", n, e, want)
		}
	}
	// The errors among the last 50 deliveries (i%3 == 0: 138, 135, ... 90), newest first,
	// then errors of the concurrent ones.
	for n, e := range errs {
		want := logEntry((total+drains.LogDeliveries-1)/3*3 - 3*n)
		if want.Events < total {
			if !e.IsError() || e.Events >= total || e != logEntry(int(e.Events)) {
				t.Fatalf("error %d is %+v, want an error of the first %d", n, e, total)
			}
		} else if e != want {
			t.Fatalf("error %d is %+v, want %+v", n, e, want)
		}
	}
}

func testLogOrder(t *testing.T, s LogStore) {
	ctx := t.Context()
	mustCreate(t, s, minimalDrain("drn_order"))
	refused := drains.LogEntry{At: at(time.Hour), Status: 401, Reason: "3 requests refused: unauthorized"}
	ok := drains.LogEntry{At: at(time.Hour), Status: 200, Source: drains.SourceKinesis, Records: 2, Events: 7}
	if err := s.RecordDelivery(ctx, "drn_order", drains.Delivery{At: at(time.Hour), Log: []drains.LogEntry{refused, ok}}); err != nil {
		t.Fatal(err)
	}
	all, errs, err := s.DeliveryLog(ctx, "drn_order")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0] != ok || all[1] != refused || len(errs) != 1 || errs[0] != refused {
		t.Fatalf("log %+v, errors %+v; want [ok refused] and [refused]", all, errs)
	}
	// Bookkeeping without entries (the grouper's counters.ignored) logs nothing.
	if err := s.RecordDelivery(ctx, "drn_order", drains.Delivery{At: at(2 * time.Hour), Counters: drains.Counters{Ignored: 4}}); err != nil {
		t.Fatal(err)
	}
	if all, _, _ := s.DeliveryLog(ctx, "drn_order"); len(all) != 2 {
		t.Fatalf("a delivery without entries changed the log: %+v", all)
	}
	if list, err := s.List(ctx); err != nil || len(list) != 1 {
		t.Fatalf("List with a delivery log: %d drains, %v; want 1", len(list), err)
	}
}

func testLogMissing(t *testing.T, s LogStore) {
	ctx := t.Context()
	if err := s.RecordDelivery(ctx, "drn_nosuch", drains.Delivery{At: base, Log: []drains.LogEntry{{At: base, Status: 200}}}); err != nil {
		t.Fatal(err)
	}
	all, errs, err := s.DeliveryLog(ctx, "drn_nosuch")
	if err != nil || len(all)+len(errs) != 0 {
		t.Fatalf("a drain that does not exist: log %v %v, %v", all, errs, err)
	}
	if list, err := s.List(ctx); err != nil || len(list) != 0 {
		t.Fatalf("List: %d drains, %v; want none", len(list), err)
	}
}

// A caller that retries a bookkeeping write (its answer was lost) books it twice, as the
// counters are; the log shows it twice and stays within its bounds.
func testLogRedelivered(t *testing.T, s LogStore) {
	ctx := t.Context()
	mustCreate(t, s, minimalDrain("drn_again"))
	e := logEntry(3)
	for range 2 {
		if err := s.RecordDelivery(ctx, "drn_again", drains.Delivery{At: e.At, Counters: drains.Counters{Deliveries: 1}, Log: []drains.LogEntry{e}}); err != nil {
			t.Fatal(err)
		}
	}
	all, errs, _ := s.DeliveryLog(ctx, "drn_again")
	if d := mustGet(t, s, "drn_again"); len(all) != int(d.Counters.Deliveries) || len(errs) != 2 {
		t.Fatalf("log %+v errors %+v for %d booked deliveries", all, errs, d.Counters.Deliveries)
	}
}
