package embedded_test

import (
	"context"
	"errors"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/aient/firehose-drain/pkg/embedded"
)

// The lease of a polled batch follows the handler's time (WorkTimeout): the handler's ctx
// ends within it, no other consumer receives the batch while the handler may still work on
// it, and a consumer killed mid-batch gives it back as soon as WorkTimeout plus the settle
// margin has passed — not after a fixed 30 s. A Visibility set shorter is raised to that.
func TestPollLeasesABatchForTheHandlersTimeAndNoLonger(t *testing.T) {
	for _, cfg := range []embedded.PollConfig{
		{WorkTimeout: 5 * time.Second},
		{WorkTimeout: 5 * time.Second, Visibility: time.Millisecond},
		{}, // the defaults
	} {
		work := cfg.WorkTimeout
		if work == 0 {
			work = embedded.DefaultWorkTimeout
		}
		lease := work + embedded.SettleMargin
		clk := newClock()
		st := openStore(t, t.TempDir(), embedded.WithClock(clk.Now))
		q := st.Queue()
		ctx := context.Background()
		if err := q.Send(ctx, events(0, 1)); err != nil {
			t.Fatal(err)
		}
		handled := false
		n, err := q.PollOnce(ctx, func(hctx context.Context, _ lambdaevents.SQSEvent) (lambdaevents.SQSEventResponse, error) {
			handled = true
			d, ok := hctx.Deadline()
			if !ok || time.Until(d) > work {
				t.Errorf("%+v: the handler's deadline is %v away (set %t), not within WorkTimeout %v", cfg, time.Until(d), ok, work)
			}
			// Just before the lease ends, a second consumer gets nothing.
			clk.Advance(lease - time.Millisecond)
			if got, err := q.Receive(ctx, 10, time.Minute); err != nil || len(got) != 0 {
				t.Errorf("%+v: %d messages received %v into a %v lease (err %v): visible while its handler may still work", cfg, len(got), lease-time.Millisecond, lease, err)
			}
			// Just after, as after a kill of this consumer, the batch is received again.
			clk.Advance(2 * time.Millisecond)
			if got, err := q.Receive(ctx, 10, time.Minute); err != nil || len(got) != 1 {
				t.Errorf("%+v: %d messages received just after the %v lease (err %v), want the batch back", cfg, len(got), lease, err)
			}
			return lambdaevents.SQSEventResponse{}, errors.New("killed")
		}, cfg)
		if !handled || n != 1 {
			t.Fatalf("%+v: PollOnce took %d messages (handled %t, err %v)", cfg, n, handled, err)
		}
	}
}
