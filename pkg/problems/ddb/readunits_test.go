package ddb

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/internal/testkit/awstest"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/problems"
)

// metered counts what the console's reads cost, as DynamoDB bills them: each Query or
// GetItem is ceil(bytes read / 4 KB) read units, halved for eventually consistent reads
// (every index Query). Bytes are the items returned, by DynamoDB's item size rule
// (attribute names plus values).
type metered struct {
	api
	mu           sync.Mutex // the list reads its sparklines concurrently
	units        float64
	scans, calls int
}

func (m *metered) add(units float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.units += units
	m.calls++
}

func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return len(x.Value)
	case *types.AttributeValueMemberN:
		return (len(x.Value)+1)/2 + 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range x.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	}
	return 8
}

func rcu(bytes int, consistent bool) float64 {
	u := math.Max(1, math.Ceil(float64(bytes)/4096))
	if !consistent {
		u /= 2
	}
	return u
}

func (m *metered) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := m.api.Query(ctx, in, opts...)
	if err == nil {
		bytes := 0
		for _, it := range out.Items {
			bytes += itemSize(it)
		}
		m.add(rcu(bytes, false))
	}
	return out, err
}

func (m *metered) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out, err := m.api.GetItem(ctx, in, opts...)
	if err == nil && out.Item != nil {
		m.add(rcu(itemSize(out.Item), in.ConsistentRead != nil && *in.ConsistentRead))
	}
	return out, err
}

func (m *metered) Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	m.mu.Lock()
	m.scans++
	m.mu.Unlock()
	return m.api.Scan(ctx, in, opts...)
}

// What one console list page and one problem page cost in read units, on 60 problems (each
// with a realistic sample and an occurrence in the last hour): a lastSeen page costs its
// 50 rows plus one sparkline Query each, never a Scan; a recent page reads the whole index
// range (and a sparkline per problem seen in the last 24 h). The figures are logged for the
// README. (Items a filter drops are billed too; these pages have no filter.)
func TestReadUnitsOfAListPage(t *testing.T) {
	t.Parallel() // its own moto account: no turns with the package's other tests
	tables := awstest.Start(t).NewTables("problems", CreateTable)
	table := tables.Fresh(t)
	s := New(tables.Client, table)
	now := time.Now().UTC()
	var occs []problems.Occurrence
	for p := range 60 {
		for k := range 1 {
			at := now.Add(-time.Duration(p)*time.Minute - time.Duration(k)*5*time.Hour)
			occs = append(occs, problems.Occurrence{
				Identity: event.Identity("drn", "1", "/g", "s", fmt.Sprint(p, "-", k)), Org: "acme", Env: "prod",
				Fingerprint: fmt.Sprintf("fp%03d", p), Title: fmt.Sprintf("TypeError: Cannot read properties of undefined (reading 'id%03d')", p),
				Culprit: "chargeCard (src/payments.js)", Level: "error", At: at,
				Sample: problems.Sample{
					Account: "123456789012", Region: "eu-west-1", LogGroup: "/aws/lambda/checkout",
					LogStream: "2026/12/01/[$LATEST]0123456789abcdef", EventID: fmt.Sprint(p, "-", k), Timestamp: at.UnixMilli(),
					Message: "TypeError: Cannot read properties of undefined (reading 'id')\n    at chargeCard (/var/task/src/payments.js:42:17)\n    at processTicksAndRejections (node:internal/process/task_queues:95:5)",
					Frames:  []problems.Frame{{Function: "chargeCard", File: "/var/task/src/payments.js", Line: 42, InApp: true}},
				},
			})
		}
	}
	for _, r := range s.RecordBatch(t.Context(), occs) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	for _, c := range []struct {
		name string
		q    problems.Query
		max  float64
	}{
		{"lastSeen page of 50, one scope", problems.Query{Org: "acme", Env: "prod", Limit: 50}, 40},
		{"lastSeen page of 50, all scopes", problems.Query{Limit: 50}, 40},
		{"recent page of 50 (reads the index range)", problems.Query{Limit: 50, Sort: problems.SortRecent}, 200},
	} {
		m := &metered{api: s.db}
		ms := &Store{db: m, table: table, now: time.Now, parallel: 1}
		c.q.Now = now
		page, err := ms.Query(t.Context(), c.q)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d rows, %d requests, %.1f read units", c.name, len(page.Problems), m.calls, m.units)
		if m.scans > 0 || m.units > c.max {
			t.Errorf("%s: %d scans, %.1f read units (at most %.0f)", c.name, m.scans, m.units, c.max)
		}
	}
	m := &metered{api: s.db}
	ms := &Store{db: m, table: table, now: time.Now, parallel: 1}
	if _, err := ms.Detail(t.Context(), problems.ID("acme", "prod", "fp007"), now); err != nil {
		t.Fatal(err)
	}
	t.Logf("problem detail: %d requests, %.1f read units", m.calls, m.units)
}
