package cli_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
	"github.com/aient/firehose-drain/pkg/embedded"
)

// leaseDelivery is one Firehose delivery of n distinct error events (ids unique to round),
// in records of 250.
func leaseDelivery(round, n int) []byte {
	var recs []string
	for start := 0; start < n; start += 250 {
		evs := make([]fht.LogEvent, 0, 250)
		for i := start; i < min(start+250, n); i++ {
			e := fht.ErrorEvent(round*100_000 + i)
			evs = append(evs, e)
		}
		recs = append(recs, fht.Record("/aws/lambda/pay", fmt.Sprintf("lease-%d", round), evs...))
	}
	return fht.Body(fmt.Sprintf("lease-req-%d", round), recs...)
}

// inflightClaims reads the claims a delivery holds from the server's database (read-only,
// beside the server): how many, and the earliest and latest end of their leases.
func inflightClaims(t *testing.T, db *sql.DB) (n int, first, last time.Time) {
	t.Helper()
	var lo, hi sql.NullInt64
	if err := db.QueryRow(`SELECT count(*), min(lease_until), max(lease_until) FROM claims WHERE state = 'inflight'`).Scan(&n, &lo, &hi); err != nil {
		t.Fatalf("read the claims: %v", err)
	}
	return n, time.UnixMilli(lo.Int64), time.UnixMilli(hi.Int64)
}

// `aient serve --lease` does what it says: a server killed (SIGKILL) mid-delivery holds the
// delivery's claims for the lease, so Firehose's retry right after the restart is answered
// 503 until the lease has passed, then 200 — well before the default 3 minutes — and every
// error event is counted exactly once (some may have reached the queue before the kill).
func TestServeLeaseHoldsAKilledDeliverysClaimsForTheLease(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real server")
	}
	bin := buildAient(t)
	dir := t.TempDir()
	id, key := createDrain(t, dir, "drains", "create", "--org", "acme", "--env", "prod", "--json")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, embedded.DBFile)+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	lease, events := 2*time.Second, 2000
	for round := 0; ; round++ {
		if round == 6 {
			t.Fatalf("in %d rounds the kill never landed mid-delivery with the restart inside the lease", round)
		}
		args := []string{"--lease", lease.String(), "--group-timeout", "2s"}
		cmd, base := serveProcess(t, bin, dir, args...)
		body := leaseDelivery(round, events)
		var answered atomic.Int32
		go func() { answered.Store(int32(postDelivery(base, id, key, body))) }()
		// Kill it once the delivery holds claims, before it is answered.
		var held int
		for deadline := time.Now().Add(time.Minute); answered.Load() == 0 && time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
			if held, _, _ = inflightClaims(t, db); held > 0 {
				break
			}
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		killedAt := time.Now()
		held, first, last := inflightClaims(t, db)
		if st := answered.Load(); st == 200 || held == 0 {
			t.Logf("round %d: the kill came after the delivery (answer %d, %d claims in flight); %d events next", round, st, held, 2*events)
			events *= 2
			continue
		}
		if last.After(killedAt.Add(lease)) {
			t.Fatalf("a claim made before the kill is leased until %v after it: not the --lease of %v", last.Sub(killedAt), lease)
		}
		_, base = serveProcess(t, bin, dir, args...)
		st := postDelivery(base, id, key, body)
		if time.Now().After(first) {
			t.Logf("round %d: the restart took past the lease (%v); lease %v next", round, lease, 2*lease)
			lease *= 2
			continue
		}
		if st != 503 {
			t.Fatalf("the retry right after the restart, inside the lease of the %d claims the killed delivery holds: %d, want 503", held, st)
		}
		// Retried until 200: never before the last held claim's lease ended.
		for deadline := last.Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			st = postDelivery(base, id, key, body)
			if st == 200 {
				// The server took the claims over while answering: not before their lease ended.
				if got := time.Now(); got.Before(last) {
					t.Fatalf("200 answered %v before the held claims' lease ended", last.Sub(got))
				}
				break
			}
			if st != 503 {
				t.Fatalf("retry: %d, want 503 or 200", st)
			}
			if time.Now().After(deadline) {
				t.Fatalf("still 503 30s after the %v lease ended: the lease is not --lease's", lease)
			}
		}
		t.Logf("round %d: killed holding %d of %d claims; 503 inside the %v lease, 200 after it", round, held, events, lease)
		break
	}

	// Every error event counted once, although the killed delivery may have queued some.
	st, err := embedded.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	ctx := context.Background()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		ready, inflight, dead, err := st.Queue().Depth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if dead > 0 {
			t.Fatalf("%d queued events dead-lettered", dead)
		}
		if ready+inflight == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the queue still holds %d events (%d in flight) after a minute", ready+inflight, inflight)
		}
	}
	ps, err := st.Problems().List(ctx, "acme", "prod")
	if err != nil {
		t.Fatal(err)
	}
	var counted int64
	for _, p := range ps {
		counted += p.Count
	}
	if counted != int64(events) {
		t.Fatalf("%d events counted in %d problems, want the delivery's %d exactly", counted, len(ps), events)
	}
}
