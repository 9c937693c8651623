package ddb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/internal/ddbitem"
	"github.com/aient/firehose-drain/pkg/problems"
)

// slowRead is scripted with a read that takes readLatency (virtual time in a synctest
// bubble), and remembers the expiry its occurrence puts carry, per transaction, as the
// time from start it was computed at (expiry - OccurrenceTTL - start).
type slowRead struct {
	scripted
	start    time.Time
	expiryAt []time.Duration
}

// readLatency is long enough to show in an expiry, which has a resolution of a second.
const readLatency = 3 * time.Second

func (s *slowRead) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	time.Sleep(readLatency)
	return s.scripted.BatchGetItem(ctx, in, opts...)
}

func (s *slowRead) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	at := time.Duration(-1)
	for _, it := range in.TransactItems {
		if it.Put != nil && strings.HasPrefix(stringAttr(it.Put.Item[attrPK]), occurrencePrefix) {
			r := ddbitem.Reader{Item: it.Put.Item}
			at = time.Unix(r.Num(attrExpiresAt), 0).Add(-OccurrenceTTL).Sub(s.start)
		}
	}
	s.expiryAt = append(s.expiryAt, at)
	return s.scripted.TransactWriteItems(ctx, in, opts...)
}

// TestDraftedWhileReading: the writer of a problem the batch reads drafts its first
// transaction's parts that the answer cannot change (here seen in the occurrences'
// expiry, computed when they are drafted) while the read is out, and writes the problem
// as the answer says; a retry without some occurrences drafts again.
func TestDraftedWhileReading(t *testing.T) {
	three, none := threeOccurrences()
	cases := []struct {
		name     string
		db       scripted
		want     []bool
		sent     []sentTxn
		expiryAt []time.Duration // per transaction: when its occurrences were drafted, from the batch's start
	}{
		{
			name: "a new problem",
			db:   scripted{answers: []error{nil}},
			want: []bool{true, true, true}, sent: []sentTxn{{3, "3", condNew}}, expiryAt: []time.Duration{0},
		},
		{
			name: "a problem the read finds is written as read",
			db:   scripted{items: []map[string]types.AttributeValue{problemItem(1000, 9000)}, answers: []error{nil}},
			want: []bool{true, true, true}, sent: []sentTxn{{3, "3", condInside}}, expiryAt: []time.Duration{0},
		},
		{
			name: "a failed read is a guess the cancellation corrects",
			db: scripted{getErr: errors.New("throttled"), answers: []error{
				cancelled(none, "ConditionalCheckFailed", problemItem(1000, 9000)), nil,
			}},
			want: []bool{true, true, true}, sent: []sentTxn{{3, "3", condNew}, {3, "3", condInside}}, expiryAt: []time.Duration{0, 0},
		},
		{
			name: "a retry without the occurrences found recorded drafts again",
			db: scripted{items: []map[string]types.AttributeValue{problemItem(1000, 9000)}, answers: []error{
				cancelled([]string{"None", "ConditionalCheckFailed", "None"}, "None", nil), nil,
			}},
			want: []bool{true, false, true}, sent: []sentTxn{{3, "3", condInside}, {2, "2", condInside}}, expiryAt: []time.Duration{0, readLatency},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				db := &slowRead{scripted: c.db, start: time.Now()}
				s := &Store{db: db, table: "t", now: time.Now, parallel: 1}
				for i, r := range s.RecordBatch(t.Context(), three) {
					if r.Recorded != c.want[i] || r.Err != nil {
						t.Errorf("result %d = %+v, want recorded %v", i, r, c.want[i])
					}
				}
				if fmt.Sprint(db.sent) != fmt.Sprint(c.sent) {
					t.Errorf("transactions sent:\n  %v\nwant\n  %v", db.sent, c.sent)
				}
				if fmt.Sprint(db.expiryAt) != fmt.Sprint(c.expiryAt) {
					t.Errorf("occurrences drafted at %v from the start, want %v (the read takes %v)", db.expiryAt, c.expiryAt, readLatency)
				}
			})
		})
	}
}

// TestPrefetch: a read Prefetch started is what the next RecordBatch of those problems
// waits for (no read of its own), used once; problems the seen cache knows are not read;
// a read nobody used within prefetchKeep is dropped, and the batch reads itself.
func TestPrefetch(t *testing.T) {
	occs := []problems.Occurrence{
		{Identity: "id-1", Org: "o", Env: "e", Fingerprint: "f", At: time.UnixMilli(5000)},
		{Identity: "id-2", Org: "o", Env: "e", Fingerprint: "f", At: time.UnixMilli(6000)},
	}
	id := problems.ID("o", "e", "f")
	record := func(t *testing.T, s *Store) {
		t.Helper()
		for i, r := range s.RecordBatch(t.Context(), occs) {
			if r.Err != nil {
				t.Errorf("result %d = %+v", i, r)
			}
		}
	}
	t.Run("a prefetched read is the batch's, once", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			db := &slowRead{scripted: scripted{items: []map[string]types.AttributeValue{problemItem(1000, 9000)}, answers: []error{nil, nil}}, start: time.Now()}
			s := &Store{db: db, table: "t", now: time.Now, parallel: 1}
			s.Prefetch(t.Context(), []string{id})
			time.Sleep(readLatency / 2) // the batch comes while the read is out
			record(t, s)
			if db.gets != 1 || fmt.Sprint(db.sent) != fmt.Sprint([]sentTxn{{2, "2", condInside}}) {
				t.Errorf("after a prefetch: %d reads, sent %v; want 1 read and the write as read", db.gets, db.sent)
			}
			if d := time.Since(db.start); d != readLatency {
				t.Errorf("the batch ended %v after the prefetch, want %v: when the prefetched read answered", d, readLatency)
			}
			db.answers = []error{cancelled([]string{"ConditionalCheckFailed", "ConditionalCheckFailed"}, "None", nil)}
			record(t, s)
			if db.gets != 2 {
				t.Errorf("a second batch made %d reads in all, want its own (2)", db.gets)
			}
		})
	})
	t.Run("known problems are not prefetched", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			db := &slowRead{scripted: scripted{answers: []error{nil}}, start: time.Now()}
			s := (&Store{db: db, table: "t", now: time.Now, parallel: 1}).WithSeenCache(0)
			s.cache.put(id, seen{exists: true, first: 1000, last: 9000})
			s.Prefetch(t.Context(), []string{id})
			synctest.Wait()
			if db.gets != 0 {
				t.Errorf("Prefetch of a problem the cache knows made %d reads", db.gets)
			}
		})
	})
	t.Run("an unused prefetched read is dropped", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			db := &slowRead{scripted: scripted{answers: []error{nil}}, start: time.Now()}
			s := &Store{db: db, table: "t", now: time.Now, parallel: 1}
			s.Prefetch(t.Context(), []string{id})
			time.Sleep(readLatency + prefetchKeep + time.Second)
			s.Prefetch(t.Context(), nil) // sweeps
			record(t, s)
			if db.gets != 2 {
				t.Errorf("%d reads, want the stale prefetch dropped and the batch's own read (2)", db.gets)
			}
		})
	})
}
