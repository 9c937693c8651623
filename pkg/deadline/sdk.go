package deadline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/smithy-go/middleware"
)

// MaxAttempt is the longest one attempt of an AWS SDK call may take (PerAttempt).
const MaxAttempt = 5 * time.Second

// AttemptTimeout is how long the next attempt of a call under ctx may take: half of what
// is left to ctx's deadline (the other half leaves room for a retry), at most MaxAttempt.
func AttemptTimeout(ctx context.Context, now time.Time) time.Duration {
	d, ok := ctx.Deadline()
	if !ok {
		return MaxAttempt
	}
	return min(d.Sub(now)/2, MaxAttempt)
}

// PerAttempt bounds every attempt of an AWS SDK call by AttemptTimeout. An attempt cut
// off while the call's own context lives fails with a timeout error the SDK's retryer
// retries (the SDK would not retry the cancellation it sees); its error still matches
// context.DeadlineExceeded, so adapters classify it as transient. Use it as an APIOptions
// entry of clients whose operations read their whole answer within the attempt (DynamoDB,
// SQS, Secrets Manager) — never of S3, whose GetObject body is read after the call returns.
func PerAttempt(stack *middleware.Stack) error {
	return stack.Finalize.Insert(attemptTimeout{}, "Retry", middleware.After)
}

type attemptTimeout struct{}

func (attemptTimeout) ID() string { return "aient.AttemptTimeout" }

func (attemptTimeout) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	limit := AttemptTimeout(ctx, time.Now())
	actx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	out, md, err := next.HandleFinalize(actx, in)
	if err != nil && ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
		err = &AttemptTimeoutError{Limit: limit, Err: err}
	}
	return out, md, err
}

// AttemptTimeoutError is an attempt cut off by PerAttempt. It is a timeout (retryable by
// the SDK) and matches context.DeadlineExceeded; it does not unwrap to the cancellation
// the SDK's HTTP client reports, which the SDK's retryer would refuse to retry.
type AttemptTimeoutError struct {
	Limit time.Duration
	Err   error
}

func (e *AttemptTimeoutError) Error() string {
	return fmt.Sprintf("attempt timed out after %v: %v", e.Limit, e.Err)
}

// Timeout reports true: the SDK's retryer retries timeouts.
func (e *AttemptTimeoutError) Timeout() bool { return true }

// Is matches context.DeadlineExceeded.
func (e *AttemptTimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }
