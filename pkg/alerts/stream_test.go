package alerts_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aient/firehose-drain/pkg/alerts"
	"github.com/aient/firehose-drain/pkg/problems"
)

func streamEvent(ids ...string) events.DynamoDBEvent {
	var ev events.DynamoDBEvent
	for i, id := range ids {
		ev.Records = append(ev.Records, events.DynamoDBEventRecord{EventName: "INSERT", Change: events.DynamoDBStreamRecord{
			SequenceNumber: string(rune('1' + i)),
			Keys:           map[string]events.DynamoDBAttributeValue{"pk": events.NewStringAttribute(alerts.NoticeKeyPrefix + id)},
		}})
	}
	return ev
}

// flaky answers 500 to its first fail calls.
func flaky(t *testing.T, fail int32) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= fail {
			http.Error(w, "busy", http.StatusInternalServerError)
		}
	}))
	t.Cleanup(s.Close)
	return s, &calls
}

func TestTheStreamHandlerRetriesWithinTheInvocation(t *testing.T) {
	r := newRig(t)
	srv, calls := flaky(t, 2)
	r.add(t, "dst_hook", alerts.Webhook, srv.URL, "", "", "")
	n := notice(1, problems.ToNew, t0)
	r.outbox.Put(n)
	var slept time.Duration
	resp, err := r.d.HandleStream(t.Context(), streamEvent(n.ID), alerts.StreamConfig{Sleep: func(_ context.Context, d time.Duration) error {
		slept += d
		r.advance(d)
		return nil
	}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("HandleStream = %+v, %v", resp, err)
	}
	if calls.Load() != 3 || slept == 0 {
		t.Fatalf("%d sends, slept %v: want 3 sends with waits between", calls.Load(), slept)
	}
	// The stream hands the same record again (at least once): nothing is sent again.
	if _, err := r.d.HandleStream(t.Context(), streamEvent(n.ID), alerts.StreamConfig{}); err != nil || calls.Load() != 3 {
		t.Fatalf("a redelivered record sent again: %d sends, %v", calls.Load(), err)
	}
}

func TestTheStreamHandlerDeadLettersAFailingDestination(t *testing.T) {
	r := newRig(t)
	srv, calls := flaky(t, 1000)
	r.add(t, "dst_hook", alerts.Webhook, srv.URL, "", "", "")
	n := notice(1, problems.ToNew, t0)
	r.outbox.Put(n)
	resp, err := r.d.HandleStream(t.Context(), streamEvent(n.ID), alerts.StreamConfig{Sleep: func(_ context.Context, d time.Duration) error { r.advance(d); return nil }})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("HandleStream = %+v, %v: a dead letter is handled, not retried by the stream", resp, err)
	}
	if calls.Load() != alerts.DefaultMaxAttempts {
		t.Fatalf("%d sends, want %d", calls.Load(), alerts.DefaultMaxAttempts)
	}
	if d, _ := r.dests.Get(t.Context(), "dst_hook"); d.Health != alerts.Failing || d.DeadLettered != 1 {
		t.Fatalf("destination %+v", d.Status)
	}
}

func TestTheStreamHandlerHandsBackWhatTheDeadlineLeaves(t *testing.T) {
	r := newRig(t)
	srv, _ := flaky(t, 1000)
	r.add(t, "dst_hook", alerts.Webhook, srv.URL, "", "", "")
	a, b := notice(1, problems.ToNew, t0), notice(2, problems.ToNew, t0)
	r.outbox.Put(a)
	r.outbox.Put(b)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second) // under the 10 s reserve
	defer cancel()
	resp, err := r.d.HandleStream(ctx, streamEvent(a.ID, b.ID), alerts.StreamConfig{})
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "1" {
		t.Fatalf("HandleStream = %+v, %v; want the first record's sequence number back", resp, err)
	}
	// Records that are not notices are left alone.
	other := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{{Change: events.DynamoDBStreamRecord{
		Keys: map[string]events.DynamoDBAttributeValue{"pk": events.NewStringAttribute("problem#x")},
	}}}}
	if resp, err := r.d.HandleStream(t.Context(), other, alerts.StreamConfig{}); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("a problem record: %+v %v", resp, err)
	}
}

// A destination that keeps failing holds the stream's shard for at most MaxHold of
// waiting per invocation: the record is handed back, the outbox keeps the attempts, and
// the stream's retries go on from them to the dead letter (DefaultMaxAttempts sends in
// all, never more).
func TestAFailingDestinationHoldsTheShardBriefly(t *testing.T) {
	for _, c := range []struct {
		name        string
		retryDelay  time.Duration
		invocations int
	}{
		{"the old 10 s backoff: handed back twice, dead on the third invocation", 10 * time.Second, 3},
		{"the alerts function's StreamRetryDelay: dead within one invocation", alerts.StreamRetryDelay, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t)
			r.d = alerts.NewDeliverer(r.dests, r.secrets, r.outbox, alerts.NewSenders(nil, nil), alerts.Config{
				RetryDelay: c.retryDelay, Now: r.clock, Logger: slog.New(slog.DiscardHandler),
			})
			srv, calls := flaky(t, 1000)
			r.add(t, "dst_hook", alerts.Webhook, srv.URL, "", "", "")
			n := notice(1, problems.ToNew, t0)
			r.outbox.Put(n)
			for inv := 1; ; inv++ {
				var slept time.Duration
				resp, err := r.d.HandleStream(t.Context(), streamEvent(n.ID), alerts.StreamConfig{Sleep: func(_ context.Context, d time.Duration) error {
					slept += d
					r.advance(d)
					return nil
				}})
				if err != nil {
					t.Fatal(err)
				}
				if slept > alerts.DefaultMaxHold {
					t.Fatalf("invocation %d waited %v, more than the %v hold", inv, slept, alerts.DefaultMaxHold)
				}
				if len(resp.BatchItemFailures) == 0 {
					if inv != c.invocations {
						t.Fatalf("done after %d invocations, want %d", inv, c.invocations)
					}
					break
				}
				if inv >= c.invocations || resp.BatchItemFailures[0].ItemIdentifier != "1" {
					t.Fatalf("invocation %d handed back %+v", inv, resp)
				}
				r.advance(time.Second) // the stream's retry
			}
			if calls.Load() != alerts.DefaultMaxAttempts {
				t.Fatalf("%d sends, want %d", calls.Load(), alerts.DefaultMaxAttempts)
			}
			if d, _ := r.dests.Get(t.Context(), "dst_hook"); d.Health != alerts.Failing || d.DeadLettered != 1 {
				t.Fatalf("destination %+v", d.Status)
			}
		})
	}
}
