package ddb_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/aient/firehose-drain/internal/testkit/awstest"
	"github.com/aient/firehose-drain/pkg/drains"
	drainsddb "github.com/aient/firehose-drain/pkg/drains/ddb"
	"github.com/aient/firehose-drain/pkg/drains/drainstest"
	"github.com/aient/firehose-drain/pkg/problems"
	"github.com/aient/firehose-drain/pkg/problems/ddb"
)

// TestIgnoredAgainstMoto: the ignored events' markers (problems table) and counter
// (drains table) move in one transaction over real HTTP.
func TestIgnoredAgainstMoto(t *testing.T) {
	t.Parallel() // its own moto account: no turns with the package's other tests
	moto := awstest.Start(t)
	problemTables := moto.NewTables("problems-ign", ddb.CreateTable)
	drainTables := moto.NewTables("drains-ign", drainsddb.CreateTable)
	client := problemTables.Client
	at := time.UnixMilli(1_763_700_000_123).UTC()

	t.Run("contract", func(t *testing.T) {
		drainstest.RunIgnoreRecorder(t, func(t *testing.T) drainstest.IgnoreStore {
			dt := drainTables.Fresh(t)
			return drainstest.IgnoreStore{Store: drainsddb.New(client, dt), IgnoreRecorder: ddb.New(client, problemTables.Fresh(t)).Ignored(dt)}
		})
	})

	newRig := func(t *testing.T, c *dynamodb.Client) (*ddb.Store, *ddb.Ignored, *drainsddb.Store) {
		dt := drainTables.Fresh(t)
		ds := drainsddb.New(client, dt)
		if err := ds.Create(t.Context(), drains.Drain{ID: "drn_1", Org: "acme", Env: "prod", State: drains.StateActive, CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
		ps := ddb.New(c, problemTables.Fresh(t))
		return ps, ps.Ignored(dt), ds
	}
	ignored := func(t *testing.T, ds *drainsddb.Store) int64 {
		t.Helper()
		d, err := ds.Get(t.Context(), "drn_1")
		if err != nil {
			t.Fatal(err)
		}
		return d.Counters.Ignored
	}

	t.Run("an identity counts once, as an occurrence or as ignored", func(t *testing.T) {
		ps, ig, ds := newRig(t, client)
		dropped := occurrence("acme", "prod", "fp", "evt-dropped", at)
		recorded := occurrence("acme", "prod", "fp", "evt-recorded", at)
		if n, err := ig.RecordIgnored(t.Context(), "drn_1", []string{dropped.Identity}, at); n != 1 || err != nil {
			t.Fatalf("RecordIgnored = %d, %v", n, err)
		}
		if r := ps.RecordBatch(t.Context(), []problems.Occurrence{dropped, recorded}); r[0].Err != nil || r[0].Recorded || !r[1].Recorded {
			t.Fatalf("RecordBatch after RecordIgnored = %+v: the dropped event's identity must be a duplicate", r)
		}
		if n, err := ig.RecordIgnored(t.Context(), "drn_1", []string{recorded.Identity}, at); n != 0 || err != nil {
			t.Fatalf("RecordIgnored of a recorded occurrence = %d, %v; want 0", n, err)
		}
		p, err := ps.Get(t.Context(), problems.ID("acme", "prod", "fp"))
		if err != nil || p.Count != 1 || ignored(t, ds) != 1 {
			t.Fatalf("problem %+v (%v), ignored %d: want count 1 and 1 ignored", p, err, ignored(t, ds))
		}
	})

	t.Run("a lost answer and the retry count once", func(t *testing.T) {
		lossy := &lossyTransport{next: moto.Transport(), lose: 1}
		_, ig, ds := newRig(t, dynamodb.NewFromConfig(moto.ConfigWith(lossy)))
		ids := make([]string, 150)
		for i := range ids {
			ids[i] = fmt.Sprintf("id-%03d", i)
		}
		// The first transaction applies and its answer is lost: the SDK sends it again (its
		// markers are there now, so it is cancelled) or the call fails; either way the
		// caller's retry (SQS's redelivery) finds every identity counted exactly once.
		_, err := ig.RecordIgnored(context.Background(), "drn_1", ids, at)
		t.Logf("first call: %v (answers lost: %d)", err, lossy.lost.Load())
		if _, err := ig.RecordIgnored(context.Background(), "drn_1", ids, at); err != nil {
			t.Fatal(err)
		}
		if got := ignored(t, ds); got != 150 || lossy.lost.Load() != 1 {
			t.Fatalf("ignored %d after a lost answer (%d lost), want 150", got, lossy.lost.Load())
		}
	})
}
