package embedded_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/event"
)

const visibility = 30 * time.Second

func events(from, to int) []event.Event {
	var out []event.Event
	for n := from; n < to; n++ {
		out = append(out, errorEvent(n))
	}
	return out
}

func mustSend(t *testing.T, q *embedded.Queue, evs []event.Event) {
	t.Helper()
	if err := q.Send(context.Background(), evs); err != nil {
		t.Fatalf("Send(%d events): %v", len(evs), err)
	}
}

func mustReceive(t *testing.T, q *embedded.Queue, max int) []embedded.Message {
	t.Helper()
	msgs, err := q.Receive(context.Background(), max, visibility)
	if err != nil {
		t.Fatalf("Receive(%d): %v", max, err)
	}
	return msgs
}

func wantDepth(t *testing.T, q *embedded.Queue, ready, inflight, dead int) {
	t.Helper()
	r, i, d, err := q.Depth(context.Background())
	if err != nil {
		t.Fatalf("Depth: %v", err)
	}
	if r != ready || i != inflight || d != dead {
		t.Fatalf("Depth = ready %d, inflight %d, dead %d; want %d, %d, %d", r, i, d, ready, inflight, dead)
	}
}

func ids(msgs []embedded.Message) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

func TestQueueDeliversEventsIntactOldestFirst(t *testing.T) {
	q := openStore(t, t.TempDir(), embedded.WithClock(newClock().Now)).Queue()
	sent := events(0, 5)
	mustSend(t, q, sent)
	wantDepth(t, q, 5, 0, 0)

	first := mustReceive(t, q, 3)
	second := mustReceive(t, q, 10)
	got := append(first, second...)
	if len(first) != 3 || len(second) != 2 {
		t.Fatalf("received %d then %d messages, want 3 then 2", len(first), len(second))
	}
	for i, m := range got {
		if !reflect.DeepEqual(m.Event, sent[i]) {
			t.Errorf("message %d = %+v, want %+v", i, m.Event, sent[i])
		}
		if m.Attempts != 1 {
			t.Errorf("message %d: Attempts = %d on first receipt, want 1", i, m.Attempts)
		}
		if i > 0 && m.ID <= got[i-1].ID {
			t.Errorf("message ids not increasing: %v", ids(got))
		}
	}
	wantDepth(t, q, 0, 5, 0)
	if more := mustReceive(t, q, 10); len(more) != 0 {
		t.Fatalf("leased messages received again before their visibility ended: %v", ids(more))
	}

	if err := q.Ack(context.Background(), ids(got)...); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	wantDepth(t, q, 0, 0, 0)
}

func TestQueueRedeliversWhatWasNotAckedWhenItsVisibilityEnds(t *testing.T) {
	clk := newClock()
	q := openStore(t, t.TempDir(), embedded.WithClock(clk.Now)).Queue()
	mustSend(t, q, events(0, 2))
	msgs := mustReceive(t, q, 2)
	if err := q.Ack(context.Background(), msgs[0].ID); err != nil {
		t.Fatalf("Ack: %v", err)
	}

	clk.Advance(visibility - time.Millisecond)
	if again := mustReceive(t, q, 10); len(again) != 0 {
		t.Fatalf("received %v before the visibility ended", ids(again))
	}
	clk.Advance(time.Millisecond)
	again := mustReceive(t, q, 10)
	if len(again) != 1 || again[0].ID != msgs[1].ID {
		t.Fatalf("after the visibility ended received %v, want only the unacked %d", ids(again), msgs[1].ID)
	}
	if again[0].Attempts != 2 {
		t.Errorf("Attempts on the second receipt = %d, want 2", again[0].Attempts)
	}
}

func TestQueueFailRetriesThenDeadLetters(t *testing.T) {
	clk := newClock()
	q := openStore(t, t.TempDir(), embedded.WithClock(clk.Now), embedded.WithRetryDelay(time.Second)).Queue()
	ctx := context.Background()
	mustSend(t, q, events(0, 1))
	const maxAttempts = 3

	for attempt := 1; attempt <= maxAttempts; attempt++ {
		msgs := mustReceive(t, q, 1)
		if len(msgs) != 1 || msgs[0].Attempts != attempt {
			t.Fatalf("attempt %d: received %+v", attempt, msgs)
		}
		dead, err := q.Fail(ctx, msgs[0].ID, maxAttempts)
		if err != nil {
			t.Fatalf("attempt %d: Fail: %v", attempt, err)
		}
		if want := attempt == maxAttempts; dead != want {
			t.Fatalf("attempt %d: Fail reported dead=%v, want %v", attempt, dead, want)
		}
		if dead {
			break
		}
		// A failed message waits attempts × the retry delay, then comes back.
		wantDepth(t, q, 0, 1, 0)
		clk.Advance(time.Duration(attempt)*time.Second - time.Millisecond)
		if early := mustReceive(t, q, 1); len(early) != 0 {
			t.Fatalf("attempt %d: retried before its delay", attempt)
		}
		clk.Advance(time.Millisecond)
	}
	wantDepth(t, q, 0, 0, 1)
	clk.Advance(time.Hour)
	if msgs := mustReceive(t, q, 10); len(msgs) != 0 {
		t.Fatalf("a dead message was received again: %v", ids(msgs))
	}
	// A stale Fail or Ack of a dead message changes nothing.
	if dead, err := q.Fail(ctx, 1, maxAttempts); err != nil || dead {
		t.Fatalf("Fail of a message no longer queued = %v, %v; want false, nil", dead, err)
	}
	wantDepth(t, q, 0, 0, 1)
}

func TestQueueSurvivesCloseAndReopen(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	s, err := embedded.Open(dir, embedded.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	mustSend(t, s.Queue(), events(0, 3))
	leased := mustReceive(t, s.Queue(), 1) // taken, never acked: the server dies here
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	q := openStore(t, dir, embedded.WithClock(clk.Now)).Queue()
	wantDepth(t, q, 2, 1, 0)
	clk.Advance(visibility)
	got := mustReceive(t, q, 10)
	if len(got) != 3 || got[0].ID != leased[0].ID || !reflect.DeepEqual(got[0].Event, errorEvent(0)) {
		t.Fatalf("after reopening received %v, want all 3 starting with the leased %d", ids(got), leased[0].ID)
	}
}

func TestQueueSendIsAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	q := openStore(t, dir).Queue()
	// Make the database refuse the 50th insert of the batch, as a full disk would.
	db := rawDB(t, dir)
	if _, err := db.Exec(`CREATE TRIGGER refuse BEFORE INSERT ON queue WHEN instr(CAST(NEW.body AS TEXT), 'refuse me') > 0
		BEGIN SELECT RAISE(ABORT, 'refused'); END`); err != nil {
		t.Fatal(err)
	}
	batch := events(0, 100)
	batch[49].Message = "refuse me"
	if err := q.Send(context.Background(), batch); err == nil {
		t.Fatal("Send of a batch whose 50th insert fails: no error")
	}
	wantDepth(t, q, 0, 0, 0)
}

// rawDB opens the store's database directly, as another program would.
func rawDB(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, embedded.DBFile)+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestQueueDeadLettersABodyThatNoLongerDecodes(t *testing.T) {
	dir := t.TempDir()
	q := openStore(t, dir).Queue()
	mustSend(t, q, events(0, 2))

	if _, err := rawDB(t, dir).Exec(`UPDATE queue SET body = CAST('{"drain": 7' AS BLOB) WHERE id = (SELECT min(id) FROM queue)`); err != nil {
		t.Fatal(err)
	}

	got := mustReceive(t, q, 10)
	if len(got) != 1 || !reflect.DeepEqual(got[0].Event, errorEvent(1)) {
		t.Fatalf("received %+v, want only the intact second event", got)
	}
	wantDepth(t, q, 0, 1, 1)
}

func TestQueueRejectsMeaninglessArguments(t *testing.T) {
	q := openStore(t, t.TempDir()).Queue()
	ctx := context.Background()
	if _, err := q.Receive(ctx, 0, visibility); err == nil {
		t.Error("Receive of 0 messages: no error")
	}
	if _, err := q.Receive(ctx, 1, 0); err == nil {
		t.Error("Receive with no visibility: no error")
	}
	if _, err := q.Fail(ctx, 1, 0); err == nil {
		t.Error("Fail with maxAttempts 0: no error")
	}
	if err := q.Send(ctx, nil); err != nil {
		t.Errorf("Send of nothing: %v", err)
	}
	if err := q.Ack(ctx); err != nil {
		t.Errorf("Ack of nothing: %v", err)
	}
}

func TestQueueAcksManyAtOnce(t *testing.T) {
	q := openStore(t, t.TempDir()).Queue()
	mustSend(t, q, events(0, 1200))
	msgs := mustReceive(t, q, 2000)
	if len(msgs) != 1200 {
		t.Fatalf("received %d, want 1200", len(msgs))
	}
	if err := q.Ack(context.Background(), ids(msgs)...); err != nil {
		t.Fatalf("Ack of 1200: %v", err)
	}
	wantDepth(t, q, 0, 0, 0)
}
