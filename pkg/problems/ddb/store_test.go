package ddb_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/internal/testkit/awstest"
	"github.com/aient/firehose-drain/pkg/alerts"
	"github.com/aient/firehose-drain/pkg/alerts/alertstest"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/problems"
	"github.com/aient/firehose-drain/pkg/problems/ddb"
	"github.com/aient/firehose-drain/pkg/problems/problemstest"
)

func occurrence(org, env, fp, eventID string, at time.Time) problems.Occurrence {
	return problems.Occurrence{
		Identity: event.Identity("drn_1", "123456789012", "/aws/lambda/api", "stream", eventID),
		Org:      org, Env: env, Fingerprint: fp,
		Title: "Error: boom", Level: string(event.Error), At: at,
		Sample: problems.Sample{LogGroup: "/aws/lambda/api", LogStream: "stream", EventID: eventID, Timestamp: at.UnixMilli(), Message: "Error: boom"},
	}
}

// TestAgainstMoto starts one moto server and gives every subtest a table of its own.
func TestAgainstMoto(t *testing.T) {
	t.Parallel() // its own moto account: no turns with the package's other tests
	moto := awstest.Start(t)
	tables := moto.NewTables("problems", ddb.CreateTable) // requests one at a time: each is atomic, as on AWS
	client, newTable := tables.Client, tables.Fresh
	at := time.UnixMilli(1_763_700_000_123).UTC()

	// The contracts run at once, each in a moto account of its own (accounts take no turns).
	ownTables := func(t *testing.T) (*dynamodb.Client, func(testing.TB) string) {
		t.Parallel()
		tables := awstest.Start(t).NewTables("problems", ddb.CreateTable)
		return tables.Client, tables.Fresh
	}
	t.Run("contract", func(t *testing.T) {
		client, newTable := ownTables(t)
		problemstest.Run(t, func(t *testing.T) problems.Store { return ddb.New(client, newTable(t)) })
	})

	t.Run("lifecycle contract", func(t *testing.T) {
		client, newTable := ownTables(t)
		problemstest.RunLifecycle(t, func(t *testing.T, now func() time.Time) problemstest.Rig {
			s := ddb.New(client, newTable(t)).WithClock(now)
			return problemstest.Rig{Store: s, Notices: func(ctx context.Context) ([]problems.Notice, error) {
				ds, err := s.Outbox().Pending(ctx, time.Now().Add(100*365*24*time.Hour), 100000)
				var out []problems.Notice
				for _, d := range ds {
					out = append(out, d.Notice)
				}
				return out, err
			}}
		})
	})

	// The same contracts with the seen cache the grouper runs with: the concurrent cases
	// share one store, so its memory is stale whenever another writer went between.
	t.Run("contract with the seen cache", func(t *testing.T) {
		client, newTable := ownTables(t)
		problemstest.Run(t, func(t *testing.T) problems.Store { return ddb.New(client, newTable(t)).WithSeenCache(0) })
	})

	t.Run("lifecycle contract with the seen cache", func(t *testing.T) {
		client, newTable := ownTables(t)
		problemstest.RunLifecycle(t, func(t *testing.T, now func() time.Time) problemstest.Rig {
			s := ddb.New(client, newTable(t)).WithClock(now).WithSeenCache(0)
			return problemstest.Rig{Store: s, Notices: func(ctx context.Context) ([]problems.Notice, error) {
				ds, err := s.Outbox().Pending(ctx, time.Now().Add(100*365*24*time.Hour), 100000)
				var out []problems.Notice
				for _, d := range ds {
					out = append(out, d.Notice)
				}
				return out, err
			}}
		})
	})

	// Two grouper instances, each remembering what it last wrote, take turns on the same
	// problems: every batch after the first is written at once from a memory the other
	// made stale (counts, times, version, guard), the cancellation corrects it, and every
	// count, firstSeen and lastSeen is exact. An operator's action between batches is a
	// stale memory too.
	t.Run("a stale seen cache costs a cancellation, never a count", func(t *testing.T) {
		table := newTable(t)
		calls := [2]*countingTransport{{next: moto.Transport()}, {next: moto.Transport()}}
		var stores [2]*ddb.Store
		for i := range stores {
			stores[i] = ddb.New(dynamodb.NewFromConfig(moto.ConfigWith(calls[i])), table).WithSeenCache(0)
		}
		const rounds, perProblem = 6, 4
		var first, last [5]time.Time
		at := time.Now().UTC().Add(time.Minute).Truncate(time.Millisecond) // after the resolution: a regression
		for round := range rounds {
			if round == 3 { // the console, a third store
				if _, err := ddb.New(client, table).Act(t.Context(), problems.ID("acme", "prod", "fp-2"), problems.Action{To: problems.Resolved}); err != nil {
					t.Fatal(err)
				}
			}
			s := stores[round%2]
			var batch []problems.Occurrence
			for p := range 5 {
				for k := range perProblem {
					// Each round both older and newer than the ones before, out of order.
					at := at.Add(time.Duration((k%2*2-1)*(round+1)*(k+1)) * time.Second)
					if first[p].IsZero() || at.Before(first[p]) {
						first[p] = at
					}
					if at.After(last[p]) {
						last[p] = at
					}
					batch = append(batch, occurrence("acme", "prod", fmt.Sprintf("fp-%d", p), fmt.Sprintf("evt-%d-%d-%d", round, p, k), at))
				}
			}
			calls[round%2].reset()
			for i, r := range s.RecordBatch(t.Context(), batch) {
				if r.Err != nil || !r.Recorded {
					t.Fatalf("round %d: result %d = %+v", round, i, r)
				}
			}
			got := calls[round%2].get()
			if round >= 2 && got["BatchGetItem"] != 0 {
				t.Errorf("round %d: calls %v, want no read of problems the store remembers", round, got)
			}
			// A redelivery of the same batch through the other store counts nothing.
			for i, r := range stores[1-round%2].RecordBatch(t.Context(), batch) {
				if r.Err != nil || r.Recorded {
					t.Fatalf("round %d: redelivered result %d = %+v, want a duplicate", round, i, r)
				}
			}
		}
		for p := range 5 {
			got, err := ddb.New(client, table).Get(t.Context(), problems.ID("acme", "prod", fmt.Sprintf("fp-%d", p)))
			if err != nil || got.Count != rounds*perProblem || !got.FirstSeen.Equal(first[p]) || !got.LastSeen.Equal(last[p]) {
				t.Errorf("fp-%d = count %d, first %v, last %v (%v); want %d, %v, %v", p, got.Count, got.FirstSeen, got.LastSeen, err, rounds*perProblem, first[p], last[p])
			}
			if p == 2 && got.Substate != problems.Regressed {
				t.Errorf("fp-2 occurred again after it was resolved: %s/%s, want regressed", got.State, got.Substate)
			}
		}
	})

	t.Run("outbox contract", func(t *testing.T) {
		alertstest.RunOutbox(t, func(t *testing.T) (alerts.Outbox, func(problems.Notice)) {
			s := ddb.New(client, newTable(t))
			return s.Outbox(), func(n problems.Notice) {
				if err := s.PutNotice(context.Background(), n); err != nil {
					t.Fatal(err)
				}
			}
		})
	})

	t.Run("a batch costs one read and one transaction per problem, a redelivery no more", func(t *testing.T) {
		calls := &countingTransport{next: moto.Transport()}
		s := ddb.New(dynamodb.NewFromConfig(moto.ConfigWith(calls)), newTable(t))
		var batch []problems.Occurrence
		for i := range 100 {
			batch = append(batch, occurrence("acme", "prod", fmt.Sprintf("fp-%d", i%20), fmt.Sprintf("evt-%03d", i), at.Add(time.Duration(100-i)*time.Second)))
		}
		for round, wantRecorded := range []bool{true, false} {
			calls.reset()
			for i, r := range s.RecordBatch(t.Context(), batch) {
				if r.Err != nil || r.Recorded != wantRecorded {
					t.Fatalf("round %d: result %d = %+v, want Recorded %v", round, i, r, wantRecorded)
				}
			}
			// At most one transaction per problem (times out of order cost nothing more);
			// problems share requests (sharedtx_test.go proves how many), so fewer.
			got := calls.get()
			if got["BatchGetItem"] != 1 || got["TransactWriteItems"] > 20 || len(got) != 2 {
				t.Errorf("round %d: calls %v, want 1 BatchGetItem and at most 20 TransactWriteItems", round, got)
			}
			t.Logf("round %d: %d TransactWriteItems for 100 occurrences of 20 problems", round, got["TransactWriteItems"])
		}
		for i := range 20 {
			if p, err := s.Get(t.Context(), problems.ID("acme", "prod", fmt.Sprintf("fp-%d", i))); err != nil || p.Count != 5 {
				t.Errorf("problem fp-%d = %+v, %v; want count 5", i, p, err)
			}
		}
	})

	// The lifecycle's cost in requests: none. Batches of 100 messages over 20 problems, at
	// the store's clock: new problems (20 notices), the same problems again (the guard
	// admits them), then one of them resolved and occurring again (its
	// regression and notice decided in its own part of a transaction). Write requests per
	// message stay at most 20/100 = 0.2, as without states; the problems share requests,
	// so fewer (the figure the README reports).
	t.Run("states, hourly buckets and notices add no request", func(t *testing.T) {
		calls := &countingTransport{next: moto.Transport()}
		now := time.Now().UTC().Truncate(time.Hour).Add(30 * time.Minute)
		s := ddb.New(dynamodb.NewFromConfig(moto.ConfigWith(calls)), newTable(t)).WithClock(func() time.Time { return now })
		batch := func(round int) []problems.Occurrence {
			var out []problems.Occurrence
			for i := range 100 {
				out = append(out, occurrence("acme", "prod", fmt.Sprintf("fp-%d", i%20), fmt.Sprintf("evt-%d-%03d", round, i), now.Add(-time.Duration(100-i)*time.Second)))
			}
			return out
		}
		writes, msgs := 0, 0
		for round := range 3 {
			if round == 2 {
				now = now.Add(time.Minute)
				if _, err := s.Act(t.Context(), problems.ID("acme", "prod", "fp-7"), problems.Action{To: problems.Resolved}); err != nil {
					t.Fatal(err)
				}
				now = now.Add(time.Minute)
			}
			calls.reset()
			for i, r := range s.RecordBatch(t.Context(), batch(round)) {
				if r.Err != nil || !r.Recorded {
					t.Fatalf("round %d: result %d = %+v", round, i, r)
				}
			}
			got := calls.get()
			if got["BatchGetItem"] != 1 || got["TransactWriteItems"] > 20 || len(got) != 2 {
				t.Errorf("round %d: calls %v, want 1 BatchGetItem and at most 20 TransactWriteItems", round, got)
			}
			writes += got["TransactWriteItems"]
			msgs += 100
		}
		t.Logf("DynamoDB write requests per message with states and hourly buckets: %.2f", float64(writes)/float64(msgs))
		ns, err := s.Outbox().Pending(t.Context(), now.Add(time.Hour), 100)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[problems.Transition]int{}
		for _, n := range ns {
			kinds[n.Notice.Transition]++
		}
		if kinds[problems.ToNew] != 20 || kinds[problems.ToRegressed] != 1 || len(ns) != 21 {
			t.Fatalf("notices %v, want 20 new and 1 regressed", kinds)
		}
		p, err := s.Get(t.Context(), problems.ID("acme", "prod", "fp-7"))
		if err != nil || p.Substate != problems.Regressed || p.Count != 15 {
			t.Fatalf("fp-7 = %s/%s count %d (%v)", p.State, p.Substate, p.Count, err)
		}
	})

	t.Run("a transaction that landed while its answer was lost counts once", func(t *testing.T) {
		lossy := &lossyTransport{next: moto.Transport(), lose: 2}
		table := newTable(t)
		s := ddb.New(dynamodb.NewFromConfig(moto.ConfigWith(lossy)), table)
		var batch []problems.Occurrence
		for i := range 30 {
			batch = append(batch, occurrence("acme", "prod", fmt.Sprintf("fp-%d", i%3), fmt.Sprintf("evt-%03d", i), at.Add(time.Duration(i)*time.Second)))
		}
		recorded := map[string]int{}
		for round := range 2 {
			for i, r := range s.RecordBatch(t.Context(), batch) {
				if r.Recorded {
					recorded[batch[i].Identity]++
				}
				if round == 1 && r.Err != nil {
					t.Errorf("redelivery: result %d: %v", i, r.Err)
				}
			}
		}
		if lossy.lost.Load() == 0 {
			t.Fatal("no answer was lost: the test tested nothing")
		}
		for _, o := range batch {
			if recorded[o.Identity] > 1 {
				t.Errorf("%s reported Recorded %d times", o.Sample.EventID, recorded[o.Identity])
			}
		}
		for i := range 3 {
			if p, err := ddb.New(client, table).Get(t.Context(), problems.ID("acme", "prod", fmt.Sprintf("fp-%d", i))); err != nil || p.Count != 10 {
				t.Errorf("problem fp-%d = count %d, %v; want 10", i, p.Count, err)
			}
		}
	})

	t.Run("reader contract", func(t *testing.T) {
		client, newTable := ownTables(t)
		problemstest.RunReader(t, func(t *testing.T) problemstest.ReadStore { return ddb.New(client, newTable(t)) })
	})

	t.Run("the table and items keep the documented schema", func(t *testing.T) {
		table := newTable(t)
		ttl, err := client.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
		if err != nil {
			t.Fatalf("DescribeTimeToLive: %v", err)
		}
		if d := ttl.TimeToLiveDescription; d == nil || aws.ToString(d.AttributeName) != "expires_at" || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
			t.Errorf("TTL = %+v, want enabled on expires_at", d)
		}
		desc, err := client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			t.Fatalf("DescribeTable: %v", err)
		}
		var names []string
		for _, g := range desc.Table.GlobalSecondaryIndexes {
			names = append(names, aws.ToString(g.IndexName))
		}
		if slices.Sort(names); !slices.Equal(names, []string{"byLastSeen", "byProblem", "byScope"}) {
			t.Errorf("indexes = %v, want byLastSeen, byProblem, byScope", names)
		}

		s := ddb.New(client, table)
		o := occurrence("acme", "prod", "fp-schema", "evt-1", at)
		before := time.Now()
		if _, err := s.Record(t.Context(), o); err != nil {
			t.Fatalf("Record: %v", err)
		}
		after := time.Now()
		get := func(pk string) map[string]types.AttributeValue {
			out, err := client.GetItem(t.Context(), &dynamodb.GetItemInput{
				TableName: aws.String(table), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}},
			})
			if err != nil || out.Item == nil {
				t.Fatalf("GetItem %s = %v, %v", pk, out, err)
			}
			return out.Item
		}
		prob := get("problem#" + problems.ID("acme", "prod", "fp-schema"))
		if v, ok := prob["scope"].(*types.AttributeValueMemberS); !ok || v.Value != "acme/prod" {
			t.Errorf("problem scope = %#v, want S acme/prod", prob["scope"])
		}
		if v, ok := prob["lastSeen"].(*types.AttributeValueMemberN); !ok || v.Value != "1763700000123" {
			t.Errorf("problem lastSeen = %#v, want N 1763700000123", prob["lastSeen"])
		}
		if _, ok := prob["expires_at"]; ok {
			t.Error("the problem item carries expires_at: problems must not expire")
		}
		occ := get("occurrence#" + o.Identity)
		if _, ok := occ["scope"]; ok {
			t.Error("the occurrence item carries scope: it would show in the byScope index")
		}
		if _, ok := occ["kind"]; ok {
			t.Error("the occurrence item carries kind: it would show in the byLastSeen index")
		}
		exp, ok := occ["expires_at"].(*types.AttributeValueMemberN)
		if !ok {
			t.Fatalf("occurrence expires_at = %#v, want N", occ["expires_at"])
		}
		lo, hi := before.Add(ddb.OccurrenceTTL).Unix(), after.Add(ddb.OccurrenceTTL).Unix()
		if v, err := strconv.ParseInt(exp.Value, 10, 64); err != nil || v < lo || v > hi {
			t.Errorf("occurrence expires_at = %d, want between %d and %d (now + %v)", v, lo, hi, ddb.OccurrenceTTL)
		}
	})

	t.Run("an org containing a slash does not share another scope", func(t *testing.T) {
		s := ddb.New(client, newTable(t))
		a := occurrence("a/b", "c", "fp", "evt-1", at)
		b := occurrence("a", "b/c", "fp", "evt-2", at)
		for _, o := range []problems.Occurrence{a, b} {
			if _, err := s.Record(t.Context(), o); err != nil {
				t.Fatalf("Record: %v", err)
			}
		}
		for _, o := range []problems.Occurrence{a, b} {
			got, err := s.List(t.Context(), o.Org, o.Env)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if len(got) != 1 || got[0].Org != o.Org || got[0].Env != o.Env {
				t.Errorf("List(%q, %q) = %+v, want only its own problem", o.Org, o.Env, got)
			}
		}
	})

	t.Run("a huge sample is cut to the kept limits", func(t *testing.T) {
		s := ddb.New(client, newTable(t))
		o := occurrence("acme", "prod", "fp-huge", "evt-1", at)
		o.Sample.Message = strings.Repeat("é", ddb.MaxSampleMessage) // 2 bytes each
		for i := range ddb.MaxSampleFrames + 50 {
			o.Sample.Frames = append(o.Sample.Frames, problems.Frame{Function: fmt.Sprintf("f%d", i), File: "app.js", Line: i, InApp: true})
		}
		if _, err := s.Record(t.Context(), o); err != nil {
			t.Fatalf("Record of a %d-byte sample: %v", len(o.Sample.Message), err)
		}
		p, err := s.Get(t.Context(), problems.ID("acme", "prod", "fp-huge"))
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if len(p.Sample.Message) != ddb.MaxSampleMessage || !strings.HasPrefix(o.Sample.Message, p.Sample.Message) {
			t.Errorf("sample message kept %d bytes, want the first %d on a rune boundary", len(p.Sample.Message), ddb.MaxSampleMessage)
		}
		if len(p.Sample.Frames) != ddb.MaxSampleFrames || p.Sample.Frames[0].Function != "f0" {
			t.Errorf("sample kept %d frames, want the first %d", len(p.Sample.Frames), ddb.MaxSampleFrames)
		}
	})

	t.Run("a failing write reports an error and counts nothing", func(t *testing.T) {
		s := ddb.New(client, "problems-no-such-table")
		fresh, err := s.Record(t.Context(), occurrence("acme", "prod", "fp", "evt-1", at))
		if err == nil || fresh {
			t.Fatalf("Record on a missing table = (%v, %v), want (false, an error)", fresh, err)
		}
		if _, err := s.Get(t.Context(), "x"); err == nil || errors.Is(err, problems.ErrNotFound) {
			t.Errorf("Get on a missing table = %v, want a backend error, not ErrNotFound", err)
		}
		for _, scope := range [][2]string{{"acme", "prod"}, {"", ""}} {
			if _, err := s.List(t.Context(), scope[0], scope[1]); err == nil {
				t.Errorf("List(%q, %q) on a missing table = nil error, want one", scope[0], scope[1])
			}
		}
	})
}

// countingTransport counts DynamoDB operations by name.
type countingTransport struct {
	next http.RoundTripper
	mu   sync.Mutex
	ops  map[string]int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	c.mu.Lock()
	if c.ops == nil {
		c.ops = map[string]int{}
	}
	c.ops[op]++
	c.mu.Unlock()
	return c.next.RoundTrip(r)
}

func (c *countingTransport) reset() { c.mu.Lock(); c.ops = nil; c.mu.Unlock() }

func (c *countingTransport) get() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.ops)
}

// lossyTransport lets the first lose TransactWriteItems requests reach moto and apply,
// then drops their answers: the caller sees a reset connection (and the SDK retries it).
type lossyTransport struct {
	next http.RoundTripper
	lose int64
	lost atomic.Int64
}

func (l *lossyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(r)
	if err != nil || !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".TransactWriteItems") || l.lost.Load() >= l.lose {
		return resp, err
	}
	l.lost.Add(1)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
}
