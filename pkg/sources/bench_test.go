package sources_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/dedup"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/drains/drainstest"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/ingest"
	"github.com/aient/firehose-drain/pkg/sources"
)

// slowStore is a dedup.Store in memory whose every call takes latency, as a DynamoDB
// conditional write does.
type slowStore struct {
	latency time.Duration
	mu      sync.Mutex
	m       map[string]string
}

func (s *slowStore) Claim(_ context.Context, c dedup.Claim, _ time.Time) (dedup.Outcome, error) {
	time.Sleep(s.latency)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[c.Key]; ok {
		return dedup.Duplicate, nil
	}
	s.m[c.Key] = c.Token
	return dedup.Fresh, nil
}

func (s *slowStore) Commit(context.Context, []string, string, time.Time) error {
	time.Sleep(s.latency)
	return nil
}

func (s *slowStore) Release(context.Context, []string, string) error {
	time.Sleep(s.latency)
	return nil
}

var quiet = slog.New(slog.DiscardHandler)

type discard struct{}

func (discard) Send(context.Context, []event.Event) error { return nil }

// BenchmarkKinesisInvocation is one Kinesis invocation of 100 records (a CloudWatch Logs
// document of 20 events each, 2 of them errors) with the dedup store at 5 ms per call:
// records/s of one invocation, wall time (the store's latency is what it measures).
func BenchmarkKinesisInvocation(b *testing.B) {
	store := drainstest.NewMemStore()
	if err := store.Create(context.Background(), drains.Drain{ID: drainID, Org: "acme", Env: "prod", State: drains.StateActive}); err != nil {
		b.Fatal(err)
	}
	claims := &slowStore{latency: 5 * time.Millisecond, m: map[string]string{}}
	p := ingest.NewPipeline(store, store, dedup.New(claims, dedup.Config{}), discard{}, ingest.PipelineConfig{Workers: 1, Logger: quiet})
	h := sources.Kinds[0].New(p, sources.Config{Drain: drainID, Logger: quiet})
	const records = 100
	var payloads [][]byte
	for i := range 64 {
		var datas [][]byte
		for r := range records {
			datas = append(datas, gz(b, doc(b, fmt.Sprintf("i%d-r%d", i, r), 20, 2)))
		}
		payloads = append(payloads, kinesisEvent(b, datas...))
	}
	n := 0
	for b.Loop() {
		if _, err := h(context.Background(), payloads[n%len(payloads)]); err != nil {
			b.Fatal(err)
		}
		n++
		if n%len(payloads) == 0 {
			b.StopTimer()
			claims.mu.Lock()
			clear(claims.m) // fresh identities again
			claims.mu.Unlock()
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(records*n)/b.Elapsed().Seconds(), "records/s")
}
