package deadline_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/pkg/deadline"
)

func TestMargin(t *testing.T) {
	for _, c := range []struct{ budget, want time.Duration }{
		{60 * time.Second, 6 * time.Second},
		{10 * time.Second, 2 * time.Second},
		{3 * time.Second, 1500 * time.Millisecond},
		{900 * time.Second, 90 * time.Second},
		{0, 0},
	} {
		if got := deadline.Margin(c.budget); got != c.want {
			t.Errorf("Margin(%v) = %v, want %v", c.budget, got, c.want)
		}
	}
}

func TestSplitKeepsTheMarginAndFinishEndsBeforeTheDeadline(t *testing.T) {
	now := time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(60*time.Second))
	defer cancel()
	work, b, stop := deadline.Split(ctx, now)
	defer stop()
	wd, _ := work.Deadline()
	if got := now.Add(60 * time.Second).Sub(wd); got != 6*time.Second || b.Margin() != 6*time.Second {
		t.Fatalf("work ends %v before the deadline (margin %v), want 6s", got, b.Margin())
	}
	stop() // the work ended (its deadline, or the caller's cancel): finishing still runs
	fin, done := b.Finish(work)
	defer done()
	fd, ok := fin.Deadline()
	if fin.Err() != nil || !ok || now.Add(60*time.Second).Sub(fd) != 3*time.Second {
		t.Fatalf("finish: err %v, deadline %v (%v before the deadline), want live, 3s before", fin.Err(), fd, now.Add(60*time.Second).Sub(fd))
	}

	// No deadline (the local server): the work is ctx, finishing is bounded anyway.
	work, b, stop = deadline.Split(context.Background(), now)
	defer stop()
	if _, ok := work.Deadline(); ok || b.Margin() != 0 {
		t.Fatalf("without a deadline the work has one, margin %v", b.Margin())
	}
	fin, done = b.Finish(work)
	defer done()
	if _, ok := fin.Deadline(); !ok {
		t.Fatal("a finish context without a deadline")
	}
}

// A work context split again keeps its budget: the same deadline, the same finish.
func TestSplitOfAWorkContextKeepsItsBudget(t *testing.T) {
	now := time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(60*time.Second))
	defer cancel()
	work, b, stop := deadline.Split(ctx, now)
	defer stop()
	inner, ib, istop := deadline.Split(work, now.Add(30*time.Second))
	defer istop()
	wd, _ := work.Deadline()
	id, _ := inner.Deadline()
	if !id.Equal(wd) || ib != b {
		t.Fatalf("inner work ends %v (margin %v), want the outer's %v (margin %v)", id, ib.Margin(), wd, b.Margin())
	}
}

func TestAttemptTimeout(t *testing.T) {
	now := time.Now()
	if got := deadline.AttemptTimeout(context.Background(), now); got != deadline.MaxAttempt {
		t.Errorf("without a deadline %v, want MaxAttempt", got)
	}
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(3*time.Second))
	defer cancel()
	if got := deadline.AttemptTimeout(ctx, now); got != 1500*time.Millisecond {
		t.Errorf("3s left: %v, want half", got)
	}
}

// fakeDynamo answers GetItem with an empty item, except that the first hang requests get
// no answer until the client gives up on them.
func fakeDynamo(t *testing.T, hang int32) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= hang {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // before Close, which waits for the handlers
	return srv, &n
}

func client(url string, opts ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.NewFromConfig(aws.Config{
		Region:      "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		},
	}, append([]func(*dynamodb.Options){func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(url) }}, opts...)...)
}

func getItem(ctx context.Context, c *dynamodb.Client) error {
	_, err := c.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String("t"),
		Key:       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k"}},
	})
	return err
}

// A stalled attempt is cut off at half the time left and retried: the call succeeds
// within its deadline. Without PerAttempt the same stall takes the whole deadline.
func TestPerAttemptRetriesAStalledAttemptWithinTheDeadline(t *testing.T) {
	srv, n := fakeDynamo(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := getItem(ctx, client(srv.URL, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, deadline.PerAttempt) })); err != nil {
		t.Fatalf("GetItem with a stalled first attempt: %v, want the retry to succeed", err)
	}
	if got := n.Load(); got != 2 {
		t.Fatalf("%d requests, want the stalled one and its retry", got)
	}

	srv, n = fakeDynamo(t, 1)
	ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := getItem(ctx, client(srv.URL)); err == nil || n.Load() != 1 {
		t.Fatalf("without PerAttempt: %v after %d requests, want the stall to take the call's whole deadline", err, n.Load())
	}
}

// Every attempt stalls: the call fails before its deadline with an error that says it ran
// out of time, so the adapters call it transient.
func TestPerAttemptTimeoutsAreDeadlineErrors(t *testing.T) {
	srv, n := fakeDynamo(t, 100)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := getItem(ctx, client(srv.URL, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, deadline.PerAttempt) }))
	var ate *deadline.AttemptTimeoutError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ate) {
		t.Fatalf("GetItem: %v, want an attempt timeout matching DeadlineExceeded", err)
	}
	if got := n.Load(); got < 2 {
		t.Fatalf("%d requests, want the SDK to have retried the stalled attempts", got)
	}
}
