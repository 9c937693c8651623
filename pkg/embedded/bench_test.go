package embedded_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/problems"
)

// BenchmarkClaimCommit measures one fresh claim and its commit, as the ingest does per event.
func BenchmarkClaimCommit(b *testing.B) {
	s := openStore(b, b.TempDir()).Claims()
	ctx := context.Background()
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := strconv.FormatInt(n.Add(1), 10)
			if _, err := s.Claim(ctx, claimAt(key, "tok", claimT0), claimT0); err != nil {
				b.Error(err)
				return
			}
			if err := s.Commit(ctx, []string{key}, "tok", claimT0.Add(24*time.Hour)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRecord measures recording one new occurrence of an existing problem.
func BenchmarkRecord(b *testing.B) {
	s := openStore(b, b.TempDir()).Problems()
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		o := problems.Occurrence{
			Identity: strconv.Itoa(i), Org: "acme", Env: "prod", Fingerprint: "fp",
			Title: "Error: boom", Level: "error", At: claimT0.Add(time.Duration(i) * time.Millisecond),
			Sample: problems.Sample{LogGroup: "/aws/lambda/checkout", Message: "Error: boom\n    at handler (/var/task/index.js:1:1)"},
		}
		if _, err := s.Record(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQueueRoundTrip measures one event through the queue: sent in a batch of 50,
// received in a batch of 50, acked in a batch of 50.
func BenchmarkQueueRoundTrip(b *testing.B) {
	q := openStore(b, b.TempDir()).Queue()
	ctx := context.Background()
	batch := events(0, 50)
	b.ResetTimer()
	for done := 0; done < b.N; done += len(batch) {
		if err := q.Send(ctx, batch); err != nil {
			b.Fatal(err)
		}
		msgs, err := q.Receive(ctx, len(batch), time.Minute)
		if err != nil || len(msgs) != len(batch) {
			b.Fatalf("Receive: %d messages, %v", len(msgs), err)
		}
		if err := q.Ack(ctx, ids(msgs)...); err != nil {
			b.Fatal(err)
		}
	}
}
