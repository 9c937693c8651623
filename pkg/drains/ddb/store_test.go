package ddb_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/internal/testkit/awstest"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/drains/ddb"
	"github.com/aient/firehose-drain/pkg/drains/drainstest"
)

// TestAgainstMoto starts one moto server and gives every subtest a table of its own.
func TestAgainstMoto(t *testing.T) {
	tables := awstest.Start(t).NewTables("drains", ddb.CreateTable) // requests one at a time: each is atomic, as on AWS
	client, newTable := tables.Client, tables.Fresh

	t.Run("contract", func(t *testing.T) {
		drainstest.Run(t, func(t *testing.T) drains.Store { return ddb.New(client, newTable(t)) })
	})
	t.Run("delivery log contract", func(t *testing.T) {
		drainstest.RunLog(t, func(t *testing.T) drainstest.LogStore { return ddb.New(client, newTable(t)) })
	})
	// A crash after the counters' write and before an entry's slot write: the sequence moved
	// on and the slot still holds the entry 50 before it. The log shows a gap, never that
	// old entry as a new one.
	t.Run("a crash before a slot's write reads as a gap", func(t *testing.T) {
		table := newTable(t)
		s := ddb.New(client, table)
		ctx := t.Context()
		if err := s.Create(ctx, drains.Drain{ID: "drn_crash", Org: "o", Env: "e", State: drains.StateActive}); err != nil {
			t.Fatal(err)
		}
		base := time.UnixMilli(1_800_000_000_000).UTC()
		for i := range 60 {
			e := drains.LogEntry{At: base.Add(time.Duration(i) * time.Second), Status: 200, Events: int64(i)}
			if err := s.RecordDelivery(ctx, "drn_crash", drains.Delivery{At: e.At, Log: []drains.LogEntry{e}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{ // the counters' write of delivery 61, alone
			TableName: aws.String(table), Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "drn_crash"}},
			UpdateExpression:          aws.String("ADD logSeq :one"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}},
		}); err != nil {
			t.Fatal(err)
		}
		all, _, err := s.DeliveryLog(ctx, "drn_crash")
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != drains.LogDeliveries-1 || all[0].Events != 59 || all[len(all)-1].Events != 11 {
			t.Fatalf("log after a lost slot write: %d entries, newest %+v, oldest %+v; want 49 from 59 down to 11",
				len(all), all[0], all[len(all)-1])
		}
		// The next delivery fills its own slot; the ring goes on.
		e := drains.LogEntry{At: base.Add(time.Hour), Status: 200, Events: 61}
		if err := s.RecordDelivery(ctx, "drn_crash", drains.Delivery{At: e.At, Log: []drains.LogEntry{e}}); err != nil {
			t.Fatal(err)
		}
		if all, _, _ = s.DeliveryLog(ctx, "drn_crash"); len(all) != drains.LogDeliveries-1 || all[0].Events != 61 || all[1].Events != 59 {
			t.Fatalf("after the next delivery: %d entries, %+v %+v", len(all), all[0], all[1])
		}
	})
	t.Run("rules contract", func(t *testing.T) {
		drainstest.RunRules(t, func(t *testing.T) interface {
			drains.Store
			drains.RuleStore
		} {
			return ddb.New(client, newTable(t))
		})
	})

	// The SDK retries a PutItem whose answer was lost; if the first attempt had landed, the
	// retry fails its condition on this very drain, which is a success, not ErrExists.
	t.Run("a retried Create that landed succeeds; another drain on the id is ErrExists", func(t *testing.T) {
		s := ddb.New(client, newTable(t))
		d := drains.Drain{ID: "drn_retry", Org: "acme", Env: "prod", State: drains.StateActive, Keys: []drains.Key{{Digest: "aa11"}}}
		for attempt := 1; attempt <= 2; attempt++ {
			if err := s.Create(t.Context(), d); err != nil {
				t.Fatalf("attempt %d: %v", attempt, err)
			}
		}
		other := d
		other.Keys = []drains.Key{{Digest: "bb22"}}
		if err := s.Create(t.Context(), other); !errors.Is(err, drains.ErrExists) {
			t.Fatalf("another drain on the same id: %v, want ErrExists", err)
		}
	})

	t.Run("the item keeps the documented schema", func(t *testing.T) {
		table := newTable(t)
		s := ddb.New(client, table)
		at := time.UnixMilli(1_763_700_000_123).UTC()
		d := drains.Drain{
			ID: "drn_schema", Org: "acme", Env: "prod", State: drains.StateActive,
			Keys:      []drains.Key{{Digest: "d1"}, {Digest: "d0", ValidUntil: at.Add(time.Hour)}},
			CreatedAt: at,
		}
		if err := s.Create(t.Context(), d); err != nil {
			t.Fatalf("Create: %v", err)
		}
		if err := s.RecordDelivery(t.Context(), d.ID, drains.Delivery{At: at, Data: true, Counters: drains.Counters{Events: 3}}); err != nil {
			t.Fatalf("RecordDelivery: %v", err)
		}
		out, err := client.GetItem(t.Context(), &dynamodb.GetItemInput{
			TableName: aws.String(table),
			Key:       map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: d.ID}},
		})
		if err != nil {
			t.Fatalf("GetItem: %v", err)
		}
		wantN := map[string]string{
			"createdAt": "1763700000123", "lastReceivedAt": "1763700000123", "events": "3", "deliveries": "0",
		}
		for name, want := range wantN {
			n, ok := out.Item[name].(*types.AttributeValueMemberN)
			if !ok || n.Value != want {
				t.Errorf("attribute %s = %#v, want N %s", name, out.Item[name], want)
			}
		}
		keys, ok := out.Item["keys"].(*types.AttributeValueMemberL)
		if !ok || len(keys.Value) != 2 {
			t.Fatalf("attribute keys = %#v, want a list of two maps", out.Item["keys"])
		}
		k1, ok := keys.Value[1].(*types.AttributeValueMemberM)
		if !ok {
			t.Fatalf("keys[1] = %#v, want a map", keys.Value[1])
		}
		if v, ok := k1.Value["validUntil"].(*types.AttributeValueMemberN); !ok || v.Value != "1763703600123" {
			t.Errorf("keys[1].validUntil = %#v, want N 1763703600123", k1.Value["validUntil"])
		}
		if _, ok := out.Item["rotatedAt"]; ok {
			t.Errorf("a zero RotatedAt was stored as %#v, want no attribute", out.Item["rotatedAt"])
		}
	})

	t.Run("a missing table is an error, not a missing drain", func(t *testing.T) {
		s := ddb.New(client, "drains-no-such-table")
		ctx := t.Context()
		at := time.UnixMilli(1_763_700_000_123)
		checks := map[string]error{}
		_, checks["Get"] = s.Get(ctx, "drn_x")
		_, checks["List"] = s.List(ctx)
		checks["Create"] = s.Create(ctx, drains.Drain{ID: "drn_x", State: drains.StateActive, CreatedAt: at})
		checks["SetKeys"] = s.SetKeys(ctx, "drn_x", nil, at)
		checks["Revoke"] = s.Revoke(ctx, "drn_x", at)
		checks["RecordDelivery"] = s.RecordDelivery(ctx, "drn_x", drains.Delivery{At: at})
		_, checks["RecordAuthFailure"] = s.RecordAuthFailure(ctx, "drn_x", drains.Note{At: at}, time.Minute)
		for op, err := range checks {
			if err == nil {
				t.Errorf("%s on a missing table = nil, want an error", op)
				continue
			}
			if errors.Is(err, drains.ErrNotFound) || errors.Is(err, drains.ErrExists) || errors.Is(err, drains.ErrRevoked) {
				t.Errorf("%s on a missing table = %v, want a backend error, not a drains sentinel", op, err)
			}
			var rnf *types.ResourceNotFoundException
			if !errors.As(err, &rnf) {
				t.Errorf("%s on a missing table = %v, want it to wrap the SDK's ResourceNotFoundException", op, err)
			}
		}
	})
}
