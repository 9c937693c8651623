package ddb_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/internal/testkit/awstest"
	"github.com/aient/firehose-drain/pkg/dedup"
	"github.com/aient/firehose-drain/pkg/dedup/ddb"
	"github.com/aient/firehose-drain/pkg/dedup/deduptest"
	"github.com/aient/firehose-drain/pkg/event"
)

// tables hands out fresh tables on one moto server.
type tables struct{ *awstest.Tables }

func startMoto(t *testing.T) tables {
	t.Helper()
	return tables{awstest.Start(t).NewTables("dedup", ddb.CreateTable)}
}

func (ts tables) fresh(t *testing.T) (*ddb.Store, string) {
	t.Helper()
	name := ts.Fresh(t)
	return ddb.New(ts.Client, name), name
}

func TestStoreContract(t *testing.T) {
	ts := startMoto(t)
	deduptest.Run(t, func(t *testing.T) dedup.Store {
		s, _ := ts.fresh(t)
		return s
	})
}

var start = time.UnixMilli(1_800_000_000_000).UTC()

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func identities(drain string, n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = event.Identity(drain, "123456789012", "/aws/lambda/checkout", "2026/11/21/[$LATEST]abc", fmt.Sprintf("3799%06d", i))
	}
	return keys
}

func claim(t *testing.T, c *dedup.Claimer, keys []string) *dedup.Batch {
	t.Helper()
	b, err := c.Claim(context.Background(), keys)
	if err != nil {
		t.Fatalf("Claim %d keys: %v", len(keys), err)
	}
	return b
}

func TestClaimerOverDynamoDB(t *testing.T) {
	ts := startMoto(t)

	t.Run("the same batch delivered twice: the second is all duplicates", func(t *testing.T) {
		s, _ := ts.fresh(t)
		clk := &clock{t: start}
		c := dedup.New(s, dedup.Config{Now: clk.Now})
		keys := identities("drn_a", 60)
		first := claim(t, c, keys)
		if first.Count(dedup.Fresh) != len(keys) {
			t.Fatalf("first delivery: %d fresh of %d", first.Count(dedup.Fresh), len(keys))
		}
		if err := c.Commit(context.Background(), first); err != nil {
			t.Fatalf("Commit: %v", err)
		}
		clk.Set(start.Add(time.Hour)) // a Firehose retry, long after the lease
		second := claim(t, c, keys)
		if second.Count(dedup.Duplicate) != len(keys) {
			t.Fatalf("second delivery: outcomes %v, want all duplicate", second.Outcomes)
		}
	})

	t.Run("two deliveries at once: each event is fresh in exactly one", func(t *testing.T) {
		s, _ := ts.fresh(t)
		c := dedup.New(s, dedup.Config{Now: (&clock{t: start}).Now})
		keys := identities("drn_a", 40)
		var (
			wg      sync.WaitGroup
			batches [2]*dedup.Batch
			errs    [2]error
		)
		for i := range batches {
			wg.Go(func() { batches[i], errs[i] = c.Claim(context.Background(), keys) })
		}
		wg.Wait()
		fresh := map[string]int{}
		for i, b := range batches {
			if errs[i] != nil {
				t.Fatalf("delivery %d: %v", i, errs[i])
			}
			for _, k := range b.Fresh() {
				fresh[k]++
			}
			if got := b.Count(dedup.Fresh) + b.Count(dedup.Busy); got != len(keys) {
				t.Fatalf("delivery %d: outcomes %v, want only fresh or busy", i, b.Outcomes)
			}
		}
		for _, k := range keys {
			if fresh[k] != 1 {
				t.Fatalf("key %s fresh in %d deliveries, want exactly 1", k, fresh[k])
			}
		}
	})

	t.Run("a crashed delivery is busy until its lease ends, then re-claimed", func(t *testing.T) {
		s, _ := ts.fresh(t)
		clk := &clock{t: start}
		c := dedup.New(s, dedup.Config{Lease: 3 * time.Minute, Now: clk.Now})
		keys := identities("drn_a", 5)
		claim(t, c, keys) // claimed, then the function died: never committed nor released

		clk.Set(start.Add(2 * time.Minute))
		retry := claim(t, c, keys)
		if retry.Count(dedup.Busy) != len(keys) {
			t.Fatalf("retry inside the lease: %v, want all busy", retry.Outcomes)
		}
		clk.Set(start.Add(3*time.Minute + time.Millisecond))
		late := claim(t, c, keys)
		if late.Count(dedup.Fresh) != len(keys) {
			t.Fatalf("retry after the lease: %v, want all fresh", late.Outcomes)
		}
		if err := c.Commit(context.Background(), late); err != nil {
			t.Fatal(err)
		}
		clk.Set(start.Add(time.Hour))
		if again := claim(t, c, keys); again.Count(dedup.Duplicate) != len(keys) {
			t.Fatalf("after the re-claim was committed: %v, want all duplicate", again.Outcomes)
		}
	})

	t.Run("a failed send releases the claims and the retry sends everything", func(t *testing.T) {
		s, _ := ts.fresh(t)
		clk := &clock{t: start}
		c := dedup.New(s, dedup.Config{Now: clk.Now})
		keys := identities("drn_a", 30)
		b := claim(t, c, keys)
		if err := c.Release(context.Background(), b); err != nil {
			t.Fatalf("Release: %v", err)
		}
		clk.Set(start.Add(5 * time.Second)) // well within the lease
		if retry := claim(t, c, keys); retry.Count(dedup.Fresh) != len(keys) {
			t.Fatalf("retry after release: %v, want all fresh", retry.Outcomes)
		}
	})

	t.Run("two drains never suppress each other's events", func(t *testing.T) {
		s, _ := ts.fresh(t)
		c := dedup.New(s, dedup.Config{Now: (&clock{t: start}).Now})
		a, b := identities("drn_a", 10), identities("drn_b", 10)
		for i := range a {
			if a[i] == b[i] {
				t.Fatalf("identity %d is the same for both drains: %s", i, a[i])
			}
		}
		ba := claim(t, c, a)
		if err := c.Commit(context.Background(), ba); err != nil {
			t.Fatal(err)
		}
		if bb := claim(t, c, b); bb.Count(dedup.Fresh) != len(b) {
			t.Fatalf("drain b after drain a committed the same events: %v, want all fresh", bb.Outcomes)
		}
	})
}

func TestItemsFollowTheTableSchema(t *testing.T) {
	ts := startMoto(t)
	s, table := ts.fresh(t)
	ctx := context.Background()

	ttl, err := ts.Client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || aws.ToString(d.AttributeName) != "expires_at" || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Fatalf("TTL %+v, want enabled on expires_at", ttl.TimeToLiveDescription)
	}
	if err := ddb.CreateTable(ctx, ts.Client, table); err != nil {
		t.Fatalf("CreateTable on an existing table: %v", err)
	}

	c := dedup.Claim{Key: "k", Token: "tok", LeaseUntil: start.Add(3 * time.Minute), ExpiresAt: start.Add(24 * time.Hour)}
	if _, err := s.Claim(ctx, c, start); err != nil {
		t.Fatal(err)
	}
	item := getItem(t, ts.Client, table, "k")
	want := map[string]string{
		"state":       "inflight",
		"token":       "tok",
		"lease_until": strconv.FormatInt(start.Add(3*time.Minute).UnixMilli(), 10),
		"expires_at":  strconv.FormatInt(start.Add(24*time.Hour).Unix(), 10),
	}
	for attr, v := range want {
		if got := item[attr]; got != v {
			t.Errorf("claimed item %s = %q, want %q", attr, got, v)
		}
	}

	exp := start.Add(25 * time.Hour)
	if err := s.Commit(ctx, []string{"k"}, "tok", exp); err != nil {
		t.Fatal(err)
	}
	item = getItem(t, ts.Client, table, "k")
	if item["state"] != "done" || item["expires_at"] != strconv.FormatInt(exp.Unix(), 10) {
		t.Fatalf("committed item %v, want state done and expires_at %d", item, exp.Unix())
	}

	// A release never deletes a committed item, even with its token.
	if err := s.Release(ctx, []string{"k"}, "tok"); err != nil {
		t.Fatal(err)
	}
	if item = getItem(t, ts.Client, table, "k"); item["state"] != "done" {
		t.Fatalf("after releasing a committed key: %v, want it still done", item)
	}
}

func getItem(t *testing.T, client *dynamodb.Client, table, key string) map[string]string {
	t.Helper()
	out, err := client.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	flat := map[string]string{}
	for k, v := range out.Item {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			flat[k] = v.Value
		case *types.AttributeValueMemberN:
			flat[k] = v.Value
		default:
			flat[k] = fmt.Sprintf("%T", v)
		}
	}
	return flat
}

func TestMissingTableIsAnErrorButNotTransient(t *testing.T) {
	ts := startMoto(t)
	s := ddb.New(ts.Client, "no-such-table")
	_, err := s.Claim(context.Background(), dedup.Claim{Key: "k", Token: "t", LeaseUntil: start, ExpiresAt: start}, start)
	if err == nil || errors.Is(err, dedup.ErrUnavailable) {
		t.Fatalf("Claim on a missing table: %v, want an error that is not ErrUnavailable", err)
	}
	// The Claimer keeps the class (the ingest answers it 500, never 200: it must not accept
	// what it cannot dedup), and the adapter's error is still there to read.
	_, err = dedup.New(s, dedup.Config{}).Claim(context.Background(), []string{"k"})
	var de *dedup.Error
	if err == nil || errors.Is(err, dedup.ErrUnavailable) || !errors.As(err, &de) || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("Claimer over a missing table: %v, want a permanent *dedup.Error naming ResourceNotFoundException", err)
	}
}

// fakeDynamo answers every request with status and body, like an overloaded DynamoDB.
func fakeDynamo(t *testing.T, status int, body string) *dynamodb.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return clientAt(srv.URL)
}

// clientAt is a client of a fake endpoint. Not awstest's config: its client sends one
// request at a time, which the fakes do not need.
func clientAt(endpoint string) *dynamodb.Client {
	return dynamodb.NewFromConfig(aws.Config{
		Region:           awstest.Region,
		Credentials:      credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint:     aws.String(endpoint),
		RetryMaxAttempts: 1,
	})
}

func TestTransientFailuresAreUnavailable(t *testing.T) {
	closed := func(t *testing.T) *dynamodb.Client {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return clientAt("http://" + addr)
	}
	hanging := func(t *testing.T) *dynamodb.Client {
		done := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-done:
			}
		}))
		t.Cleanup(func() { close(done); srv.Close() })
		return clientAt(srv.URL)
	}
	for _, tc := range []struct {
		name   string
		client func(t *testing.T) *dynamodb.Client
	}{
		{"throughput exceeded", func(t *testing.T) *dynamodb.Client {
			return fakeDynamo(t, 400, `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}`)
		}},
		{"throttled", func(t *testing.T) *dynamodb.Client {
			return fakeDynamo(t, 400, `{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"slow down"}`)
		}},
		{"internal server error", func(t *testing.T) *dynamodb.Client {
			return fakeDynamo(t, 500, `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"oops"}`)
		}},
		{"503 without a body", func(t *testing.T) *dynamodb.Client { return fakeDynamo(t, 503, ``) }},
		{"nothing listening", closed},
		{"no answer before the deadline", hanging},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ddb.New(tc.client(t), "dedup")
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			c := dedup.Claim{Key: "k", Token: "t", LeaseUntil: start, ExpiresAt: start}
			if _, err := s.Claim(ctx, c, start); !errors.Is(err, dedup.ErrUnavailable) {
				t.Errorf("Claim: %v, want ErrUnavailable", err)
			}
			if err := s.Commit(ctx, []string{"k", "l"}, "t", start); !errors.Is(err, dedup.ErrUnavailable) {
				t.Errorf("Commit: %v, want ErrUnavailable", err)
			}
			if err := s.Release(ctx, []string{"k"}, "t"); !errors.Is(err, dedup.ErrUnavailable) {
				t.Errorf("Release: %v, want ErrUnavailable", err)
			}
		})
	}
}

func TestRejectedRequestIsNotTransient(t *testing.T) {
	s := ddb.New(fakeDynamo(t, 400, `{"__type":"com.amazon.coral.validate#ValidationException","message":"bad key"}`), "dedup")
	_, err := s.Claim(context.Background(), dedup.Claim{Key: "k", Token: "t"}, start)
	if err == nil || errors.Is(err, dedup.ErrUnavailable) {
		t.Fatalf("Claim answered ValidationException: %v, want an error that is not ErrUnavailable", err)
	}
}

// The SDK retries a PutItem whose answer was lost to a reset connection; if the first
// attempt had landed, the retry fails its condition on our own claim. That claim is ours.
func TestARetriedClaimThatLandedIsStillOurs(t *testing.T) {
	ts := startMoto(t)
	s, _ := ts.fresh(t)
	ctx := context.Background()
	c := dedup.Claim{Key: "k", Token: "ours", LeaseUntil: start.Add(time.Minute), ExpiresAt: start.Add(24 * time.Hour)}
	for attempt := 1; attempt <= 2; attempt++ {
		if o, err := s.Claim(ctx, c, start); err != nil || o != dedup.Fresh {
			t.Fatalf("attempt %d: %v %v, want fresh", attempt, o, err)
		}
	}
	other := c
	other.Token = "theirs"
	if o, err := s.Claim(ctx, other, start); err != nil || o != dedup.Busy {
		t.Fatalf("another delivery's claim: %v %v, want busy", o, err)
	}
}
