package drainstest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/drains"
)

// testSources checks the per-source-kind bookkeeping: each delivery is booked under its
// kind too, empty is the Firehose endpoint, kinds never mix, and concurrent deliveries of
// several kinds lose no counts.
func testSources(t *testing.T, s drains.Store) {
	ctx := t.Context()
	d := minimalDrain("drn_sources")
	mustCreate(t, s, d)
	if got := mustGet(t, s, d.ID); len(got.Sources) != 0 {
		t.Fatalf("a new drain has sources %+v", got.Sources)
	}
	dels := []drains.Delivery{
		{At: at(time.Second), Data: true, Counters: drains.Counters{Deliveries: 1, Events: 3, ErrorEvents: 1}},
		{
			At: at(2 * time.Second), Data: true, Source: drains.SourceKinesis, Counters: drains.Counters{Deliveries: 1, Events: 7, ErrorEvents: 2, RecordsRejected: 1},
			PayloadError: &drains.Note{At: at(2 * time.Second), Reason: "record 49590338271490256608559692538361571095921575989136588898: truncated gzip"},
		},
		{At: at(3 * time.Second), Source: drains.SourceKinesis, Counters: drains.Counters{Deliveries: 1, RecordsRejected: 2}},
		{At: at(4 * time.Second), Data: true, Source: drains.SourceS3, Counters: drains.Counters{Deliveries: 1, Events: 100}},
	}
	for _, del := range dels {
		if err := s.RecordDelivery(ctx, d.ID, del); err != nil {
			t.Fatalf("RecordDelivery(%s): %v", del.Source, err)
		}
	}
	got := mustGet(t, s, d.ID)
	want := map[string]drains.SourceStats{
		drains.SourceFirehose: {Deliveries: 1, Events: 3, ErrorEvents: 1, LastReceivedAt: at(time.Second)},
		drains.SourceKinesis: {
			Deliveries: 2, Events: 7, ErrorEvents: 2, Rejected: 3, LastReceivedAt: at(2 * time.Second),
			LastError: &drains.Note{At: at(2 * time.Second), Reason: "record 49590338271490256608559692538361571095921575989136588898: truncated gzip"},
		},
		drains.SourceS3: {Deliveries: 1, Events: 100, LastReceivedAt: at(4 * time.Second)},
	}
	checkSources(t, got.Sources, want)
	if got.Counters != (drains.Counters{Deliveries: 4, Events: 110, ErrorEvents: 3, RecordsRejected: 3}) {
		t.Errorf("drain totals %+v: every kind adds to them", got.Counters)
	}

	// Concurrent deliveries of two kinds.
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range 2 * n {
		kind := drains.SourceSubscription
		if i%2 == 1 {
			kind = drains.SourceReplay
		}
		wg.Go(func() {
			errs <- s.RecordDelivery(ctx, d.ID, drains.Delivery{At: at(20 * time.Minute), Data: true, Source: kind, Counters: drains.Counters{Deliveries: 1, Events: 2}})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got = mustGet(t, s, d.ID)
	want[drains.SourceSubscription] = drains.SourceStats{Deliveries: n, Events: 2 * n, LastReceivedAt: at(20 * time.Minute)}
	want[drains.SourceReplay] = drains.SourceStats{Deliveries: n, Events: 2 * n, LastReceivedAt: at(20 * time.Minute)}
	checkSources(t, got.Sources, want)

	st := drains.StatusOf(got, at(21*time.Minute), "")
	var kinds []string
	for _, k := range st.Sources {
		kinds = append(kinds, k.Kind+"="+k.Status)
	}
	if fmt.Sprint(kinds) != "[firehose=Idle kinesis=Idle s3=Idle subscription=Receiving replay=Receiving]" {
		t.Errorf("status sources %v", kinds)
	}
}

func checkSources(t *testing.T, got, want map[string]drains.SourceStats) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("sources %+v, want kinds of %+v", got, want)
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("source %s missing", k)
			continue
		}
		if g.Deliveries != w.Deliveries || g.Events != w.Events || g.ErrorEvents != w.ErrorEvents || g.Rejected != w.Rejected {
			t.Errorf("source %s counters %+v, want %+v", k, g, w)
		}
		if !g.LastReceivedAt.Equal(w.LastReceivedAt) {
			t.Errorf("source %s lastReceivedAt %v, want %v", k, g.LastReceivedAt, w.LastReceivedAt)
		}
		switch {
		case g.LastError == nil && w.LastError == nil:
		case g.LastError == nil || w.LastError == nil || !g.LastError.At.Equal(w.LastError.At) || g.LastError.Reason != w.LastError.Reason:
			t.Errorf("source %s lastError %+v, want %+v", k, g.LastError, w.LastError)
		}
	}
}
