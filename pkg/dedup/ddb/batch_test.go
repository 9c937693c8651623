package ddb_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/internal/testkit/awstest"
	"github.com/aient/firehose-drain/pkg/dedup"
	"github.com/aient/firehose-drain/pkg/dedup/ddb"
)

// opCounter counts DynamoDB operations by name on their way to moto.
type opCounter struct {
	next http.RoundTripper
	mu   sync.Mutex
	ops  map[string]int
}

func (c *opCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	c.mu.Lock()
	c.ops[op]++
	c.mu.Unlock()
	return c.next.RoundTrip(r)
}

func (c *opCounter) take(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.ops[op]
	c.ops = map[string]int{}
	return n
}

func TestCommitAndReleaseAreAHundredKeysPerRequest(t *testing.T) {
	m := awstest.Start(t)
	ts := m.NewTables("dedup", ddb.CreateTable)
	table := ts.Fresh(t)
	calls := &opCounter{next: m.Transport(), ops: map[string]int{}}
	client := dynamodb.NewFromConfig(m.ConfigWith(calls))
	s := ddb.New(client, table)
	ctx := t.Context()

	keys := identities("drn_batch", 150)
	// Three keys are held by another delivery (token b) before ours (token a) claims them:
	// two in the first hundred, one in the second.
	foreign := map[string]bool{keys[5]: true, keys[60]: true, keys[130]: true}
	lease, exp := start.Add(time.Minute), start.Add(24*time.Hour)
	for k := range foreign {
		if o, err := s.Claim(ctx, dedup.Claim{Key: k, Token: "b", LeaseUntil: lease, ExpiresAt: exp}, start); err != nil || o != dedup.Fresh {
			t.Fatalf("claim %s for b = %v, %v", k, o, err)
		}
	}
	for _, k := range keys {
		want := dedup.Fresh
		if foreign[k] {
			want = dedup.Busy
		}
		if o, err := s.Claim(ctx, dedup.Claim{Key: k, Token: "a", LeaseUntil: lease, ExpiresAt: exp}, start); err != nil || o != want {
			t.Fatalf("claim %s for a = %v, %v; want %v", k, o, err, want)
		}
	}
	calls.take("")

	// Commit all 150 under a, repeats included: the three held by b are left alone.
	if err := s.Commit(ctx, append(keys, keys[:10]...), "a", exp); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	// Two transactions, and one more for each of the two hundreds holding b's keys
	// (retried without exactly those).
	if n := calls.take("TransactWriteItems"); n != 4 {
		t.Errorf("Commit of 150 keys took %d TransactWriteItems, want 4", n)
	}
	// state is every item's state and token, in one Scan.
	state := func() map[string][2]string {
		out, err := client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		m := map[string][2]string{}
		for _, it := range out.Items {
			pk, _ := it[ddb.AttrKey].(*types.AttributeValueMemberS)
			st, _ := it[ddb.AttrState].(*types.AttributeValueMemberS)
			tok, _ := it[ddb.AttrToken].(*types.AttributeValueMemberS)
			m[pk.Value] = [2]string{st.Value, tok.Value}
		}
		return m
	}
	items := state()
	for _, k := range keys {
		st, tok := items[k][0], items[k][1]
		if foreign[k] && (st != ddb.StateInflight || tok != "b") {
			t.Errorf("a key held by b is %s/%s after a's commit, want inflight/b", st, tok)
		}
		if !foreign[k] && st != ddb.StateDone {
			t.Errorf("a's key is %q after the commit, want done", st)
		}
	}

	// b releases everything it was given: only its three claims go, a's done keys stay.
	if err := s.Release(ctx, keys, "b"); err != nil {
		t.Fatalf("Release: %v", err)
	}
	items = state()
	for _, k := range keys {
		st := items[k][0]
		if foreign[k] && st != "" {
			t.Errorf("b's claim is %q after its release, want gone", st)
		}
		if !foreign[k] && st != ddb.StateDone {
			t.Errorf("a's done key is %q after b's release, want done", st)
		}
	}
}

func TestClaimBatchIsOneRequestPerHundredKeysWithEachKeysOutcome(t *testing.T) {
	m := awstest.Start(t)
	ts := m.NewTables("dedup", ddb.CreateTable)
	table := ts.Fresh(t)
	calls := &opCounter{next: m.Transport(), ops: map[string]int{}}
	s := ddb.New(dynamodb.NewFromConfig(m.ConfigWith(calls)), table)
	ctx := t.Context()
	keys := identities("drn_claimbatch", 130)
	lease, exp := start.Add(time.Minute), start.Add(24*time.Hour)
	claimsOf := func(token string, at time.Time) []dedup.Claim {
		out := make([]dedup.Claim, len(keys))
		for i, k := range keys {
			out[i] = dedup.Claim{Key: k, Token: token, LeaseUntil: at.Add(time.Minute), ExpiresAt: exp}
		}
		return out
	}
	// Before: key 0 done, key 1 held by a live foreign lease, key 2 held by a lease that
	// ended, key 3 already ours (a retried request that landed), key 120 done.
	seed := func(k, token string, leaseUntil time.Time, done bool) {
		if o, err := s.Claim(ctx, dedup.Claim{Key: k, Token: token, LeaseUntil: leaseUntil, ExpiresAt: exp}, start); err != nil || o != dedup.Fresh {
			t.Fatalf("seed %s: %v, %v", k, o, err)
		}
		if done {
			if err := s.Commit(ctx, []string{k}, token, exp); err != nil {
				t.Fatal(err)
			}
		}
	}
	seed(keys[0], "x", lease, true)
	seed(keys[1], "y", lease, false)
	seed(keys[2], "z", start.Add(-time.Second), false)
	seed(keys[3], "mine", lease, false)
	seed(keys[120], "x", lease, true)
	calls.take("")

	outs, err := s.ClaimBatch(ctx, claimsOf("mine", start)[:100], start)
	if err != nil {
		t.Fatalf("ClaimBatch: %v", err)
	}
	want := func(i int) dedup.Outcome {
		switch i {
		case 0, 120:
			return dedup.Duplicate
		case 1:
			return dedup.Busy
		}
		return dedup.Fresh
	}
	for i, o := range outs {
		if o != want(i) {
			t.Errorf("key %d: %v, want %v", i, o, want(i))
		}
	}
	// One cancelled transaction names the decided keys; the second writes the rest.
	if n := calls.take("TransactWriteItems"); n != 2 {
		t.Errorf("ClaimBatch of 100 keys took %d TransactWriteItems, want 2", n)
	}
	// A retry of the whole delivery by another token: every key decided in one request.
	outs, err = s.ClaimBatch(ctx, claimsOf("other", start)[:100], start)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range outs {
		if w := want(i); (w == dedup.Duplicate && o != dedup.Duplicate) || (w != dedup.Duplicate && o != dedup.Busy) {
			t.Errorf("retry, key %d: %v", i, o)
		}
	}
	if n := calls.take("TransactWriteItems"); n != 1 {
		t.Errorf("a retry of 100 claimed keys took %d TransactWriteItems, want 1", n)
	}
}
