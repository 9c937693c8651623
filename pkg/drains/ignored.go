package drains

import (
	"context"
	"time"
)

// IgnoreRecorder counts the events an ignore rule dropped on their drain's
// Counters.Ignored, exactly once per event identity (the grouper's write path for dropped
// events): the identity is marked in the same atomic write that adds to the counter, so a
// redelivered event, or one recorded by a concurrent call, is not counted again, and a
// failure leaves the identities neither marked nor counted (the caller fails the message
// and its redelivery counts them). Stores that keep occurrences in the same place mark an
// identity as its occurrence would be marked, so an event is counted once as an
// occurrence or once as ignored, never both.
type IgnoreRecorder interface {
	// RecordIgnored marks ids (event identities; repeats count once) as dropped on drain
	// and adds those not marked before to its Counters.Ignored. It returns how many it
	// added. A missing drain is not an error: nothing is written, 0 is returned.
	RecordIgnored(ctx context.Context, drain string, ids []string, at time.Time) (int, error)
}
