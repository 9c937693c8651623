package ddb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// txRecorder answers TransactWriteItems by answer (nil: commit) and records each request's
// action keys.
type txRecorder struct {
	api
	mu       sync.Mutex
	requests [][]string
	answer   func(keys []string) error
}

func (r *txRecorder) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	keys := make([]string, len(in.TransactItems))
	for i, it := range in.TransactItems {
		keys[i] = pkOf(it.Put.Item)
	}
	r.mu.Lock()
	r.requests = append(r.requests, keys)
	r.mu.Unlock()
	if r.answer != nil {
		if err := r.answer(keys); err != nil {
			return nil, err
		}
	}
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

func pkOf(item map[string]types.AttributeValue) string {
	v, _ := item[attrPK].(*types.AttributeValueMemberS)
	return v.Value
}

// part is n actions of writer w: keys "w/i".
func part(w, n int) []types.TransactWriteItem {
	out := make([]types.TransactWriteItem, n)
	for i := range out {
		out[i] = types.TransactWriteItem{Put: &types.Put{Item: map[string]types.AttributeValue{attrPK: str(fmt.Sprintf("%d/%d", w, i))}}}
	}
	return out
}

// writeAll runs writers writers at once (parallel of them allowed), each writing one part
// of n actions, with a linger that never fires; it returns each writer's answer.
func writeAll(t *testing.T, r *txRecorder, writers, parallel, n int) []error {
	t.Helper()
	tx := newSharedTx(t.Context(), r, writers, parallel)
	tx.linger = time.Hour // the test decides by the rules alone: all waiting, or full
	errs := make([]error, writers)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for w := range writers {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			defer tx.leave()
			errs[w] = tx.write(part(w, n), nil)
		})
	}
	wg.Wait()
	return errs
}

func TestSharedTransactionsCarryEveryWriterOnce(t *testing.T) {
	for _, c := range []struct {
		writers, parallel, actions int
		want                       int // requests
	}{
		{20, 32, 7, 2},   // 140 actions: 14 parts fill one request (98), the other 6 the next
		{1, 32, 7, 1},    // alone, at once
		{20, 32, 51, 20}, // parts over half a request go alone
		{3, 32, 33, 1},   // 99 actions fit in one request
		{3, 32, 34, 2},   // 102 do not: the third part goes in a second
	} {
		t.Run(fmt.Sprintf("%d writers of %d actions, %d at once", c.writers, c.actions, c.parallel), func(t *testing.T) {
			r := &txRecorder{}
			for w, err := range writeAll(t, r, c.writers, c.parallel, c.actions) {
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
				}
			}
			if len(r.requests) != c.want {
				t.Errorf("%d requests, want %d", len(r.requests), c.want)
			}
			var all []string
			for _, req := range r.requests {
				if len(req) > maxTransactItems {
					t.Errorf("a request of %d actions", len(req))
				}
				all = append(all, req...)
			}
			slices.Sort(all)
			if len(all) != c.writers*c.actions || len(slices.Compact(all)) != c.writers*c.actions {
				t.Errorf("%d actions sent (%d distinct), want each of %d once", len(all), len(slices.Compact(all)), c.writers*c.actions)
			}
		})
	}
}

// A cancelled shared request answers the part that failed with its own reasons, indexed
// from 0 (the ALL_OLD item kept), and sends the innocent parts again, which commit.
func TestACancellationIsAnsweredToThePartThatCausedIt(t *testing.T) {
	old := map[string]types.AttributeValue{attrPK: str("3/1"), attrCount: num(7)}
	r := &txRecorder{answer: func(keys []string) error {
		i := slices.Index(keys, "3/1")
		if i < 0 {
			return nil
		}
		reasons := make([]types.CancellationReason, len(keys))
		for k := range reasons {
			reasons[k].Code = aws.String("None")
		}
		reasons[i] = types.CancellationReason{Code: aws.String(codeConditionalCheckFailed), Item: old}
		return &types.TransactionCanceledException{Message: aws.String("cancelled"), CancellationReasons: reasons}
	}}
	errs := writeAll(t, r, 6, 32, 4)
	for w, err := range errs {
		if w != 3 {
			if err != nil {
				t.Errorf("writer %d: %v, want nil (its actions were fine)", w, err)
			}
			continue
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			t.Fatalf("writer 3: %v, want its cancellation", err)
		}
		if len(tce.CancellationReasons) != 4 || reason(tce, 1).code != codeConditionalCheckFailed || reason(tce, 1).item[attrCount] == nil ||
			reason(tce, 0).code != "None" || reason(tce, 2).code != "None" {
			t.Errorf("writer 3's reasons = %+v, want its 4 with item 1 failed and its ALL_OLD item", tce.CancellationReasons)
		}
	}
	if len(r.requests) != 2 || len(r.requests[0]) != 24 || len(r.requests[1]) != 20 {
		t.Errorf("requests %v, want the shared one then the 5 innocent parts again", r.requests)
	}
}

// Any other error of a shared request is tried part by part: only the part that causes
// it fails.
func TestAnErrorOfASharedRequestFailsOnlyItsCause(t *testing.T) {
	bad := errors.New("ValidationException: item too large")
	r := &txRecorder{answer: func(keys []string) error {
		if slices.Contains(keys, "2/0") {
			return bad
		}
		return nil
	}}
	for w, err := range writeAll(t, r, 5, 32, 3) {
		if (w == 2) != errors.Is(err, bad) {
			t.Errorf("writer %d: %v", w, err)
		}
	}
	if len(r.requests) != 6 {
		t.Errorf("%d requests, want the shared one and one per part", len(r.requests))
	}
}

// A writer that finishes without writing (nothing new) lets the others' parts go.
func TestAWriterLeavingReleasesTheOthers(t *testing.T) {
	r := &txRecorder{}
	tx := newSharedTx(t.Context(), r, 3, 32)
	tx.linger = time.Hour
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for w := range 2 {
		wg.Go(func() {
			defer tx.leave()
			errs[w] = tx.write(part(w, 2), nil)
		})
	}
	time.Sleep(20 * time.Millisecond) // both parts queued, waiting for the third writer
	r.mu.Lock()
	early := len(r.requests)
	r.mu.Unlock()
	tx.leave() // the third writer had nothing to write
	wg.Wait()
	if early != 0 || len(r.requests) != 1 || errs[0] != nil || errs[1] != nil {
		t.Errorf("requests before the third left %d, after %v; errors %v", early, r.requests, errs)
	}
}

// The linger sends what came when a writer is slow (reading, or waiting out a backoff).
func TestTheLingerSendsWhatCame(t *testing.T) {
	r := &txRecorder{}
	tx := newSharedTx(t.Context(), r, 2, 32)
	tx.linger = 5 * time.Millisecond
	if err := tx.write(part(0, 2), nil); err != nil {
		t.Fatal(err)
	}
	if len(r.requests) != 1 {
		t.Errorf("%d requests, want 1", len(r.requests))
	}
}

// Writers answered by one request are working again at once: their next parts go together
// again, not one by one as each finds the others still counted waiting.
func TestWritersAnsweredTogetherWriteTogetherAgain(t *testing.T) {
	r := &txRecorder{}
	const writers = 8
	tx := newSharedTx(t.Context(), r, writers, 32)
	tx.linger = time.Hour
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			defer tx.leave()
			for round := range 3 {
				if err := tx.write(part(w*10+round, 2), nil); err != nil {
					errs[w] = err
				}
			}
		})
	}
	wg.Wait()
	if len(r.requests) != 3 {
		t.Errorf("%d requests for 3 rounds of %d writers: %v", len(r.requests), writers, r.requests)
	}
	for w, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", w, err)
		}
	}
}

// A writer waiting for the batch's read does not hold back the parts of the problems known
// without it; once the read is done, the writers that waited for it send theirs together.
func TestWritersWaitingForTheReadSendTogether(t *testing.T) {
	r := &txRecorder{}
	tx := newSharedTx(t.Context(), r, 4, 32)
	tx.linger = time.Hour
	tx.read = make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			defer tx.leave()
			if w > 0 {
				tx.awaitRead()
			}
			if err := tx.write(part(w, 2), nil); err != nil {
				t.Errorf("writer %d: %v", w, err)
			}
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		n := len(r.requests)
		r.mu.Unlock()
		if n == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	tx.readDone()
	wg.Wait()
	want := [][]string{{"0/0", "0/1"}}
	if len(r.requests) != 2 || fmt.Sprint(r.requests[:1]) != fmt.Sprint(want) || len(r.requests[1]) != 6 {
		t.Errorf("requests %v, want writer 0's part alone, then the three others' together", r.requests)
	}
}
