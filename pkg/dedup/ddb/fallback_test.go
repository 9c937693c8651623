package ddb_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/dedup"
	"github.com/aient/firehose-drain/pkg/dedup/ddb"
)

// scripted is a DynamoDB endpoint that answers each PutItem and GetItem with the next
// scripted body for that operation (status 400 for errors, 200 otherwise). It stands in
// for a service that does not return the old item on a failed condition.
type scripted struct {
	mu      sync.Mutex
	answers map[string][]string // operation -> bodies, in order
	calls   []string
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	s.mu.Lock()
	s.calls = append(s.calls, op)
	var body string
	if q := s.answers[op]; len(q) > 0 {
		body, s.answers[op] = q[0], q[1:]
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if strings.Contains(body, "__type") {
		w.WriteHeader(http.StatusBadRequest)
	}
	fmt.Fprint(w, body)
}

const conditionFailedWithoutItem = `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}`

func itemJSON(state string, leaseUntil time.Time) string {
	return fmt.Sprintf(`{"Item":{"pk":{"S":"k"},"state":{"S":%q},"token":{"S":"other"},"lease_until":{"N":"%d"},"expires_at":{"N":"%d"}}}`,
		state, leaseUntil.UnixMilli(), leaseUntil.Add(24*time.Hour).Unix())
}

func TestFailedConditionWithoutTheOldItemIsExplainedByAConsistentRead(t *testing.T) {
	now := start
	for _, tc := range []struct {
		name      string
		puts      []string
		gets      []string
		want      dedup.Outcome
		wantCalls string
	}{
		{
			name: "the holder committed: duplicate",
			puts: []string{conditionFailedWithoutItem}, gets: []string{itemJSON("done", now.Add(-time.Hour))},
			want: dedup.Duplicate, wantCalls: "PutItem GetItem",
		},
		{
			name: "the holder's lease is live: busy",
			puts: []string{conditionFailedWithoutItem}, gets: []string{itemJSON("inflight", now.Add(time.Minute))},
			want: dedup.Busy, wantCalls: "PutItem GetItem",
		},
		{
			name: "the holder released before the read: claimed on the next try",
			puts: []string{conditionFailedWithoutItem, `{}`}, gets: []string{`{}`},
			want: dedup.Fresh, wantCalls: "PutItem GetItem PutItem",
		},
		{
			name: "the key keeps changing: busy after three tries",
			puts: []string{conditionFailedWithoutItem, conditionFailedWithoutItem, conditionFailedWithoutItem},
			gets: []string{`{}`, `{}`, `{}`},
			want: dedup.Busy, wantCalls: "PutItem GetItem PutItem GetItem PutItem GetItem",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &scripted{answers: map[string][]string{"PutItem": tc.puts, "GetItem": tc.gets}}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			s := ddb.New(clientAt(srv.URL), "dedup")
			got, err := s.Claim(context.Background(), dedup.Claim{Key: "k", Token: "mine", LeaseUntil: now.Add(3 * time.Minute), ExpiresAt: now.Add(24 * time.Hour)}, now)
			if err != nil {
				t.Fatalf("Claim: %v", err)
			}
			if got != tc.want {
				t.Errorf("Claim = %s, want %s", got, tc.want)
			}
			if calls := strings.Join(fake.calls, " "); calls != tc.wantCalls {
				t.Errorf("calls %q, want %q", calls, tc.wantCalls)
			}
		})
	}
}
