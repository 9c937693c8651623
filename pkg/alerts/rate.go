package alerts

import (
	"context"
	"sync"
	"time"
)

// Rate is the digest rule's count, shared by every deliverer of a backend (the alerts
// function's concurrent instances; the local server and the CLI): how many single alerts
// each destination took in each minute (DigestWindow, from the minute's start). Both
// backends' destination stores implement it (a conditional counter item or row per
// destination per minute); a Destinations without it gets a deliverer-local count.
type Rate interface {
	// Take adds n to dest's count of the minute starting at minute if the count stays at
	// most limit, in one atomic step, and reports whether it did.
	Take(ctx context.Context, dest string, minute time.Time, n, limit int) (bool, error)
}

// NewLocalRate is a Rate of one process: what a deliverer counts with when its
// destinations have no shared one.
func NewLocalRate() Rate { return newMemRate() }

// memRate is a Rate of one process.
type memRate struct {
	mu sync.Mutex
	m  map[rateKey]int
}

type rateKey struct {
	dest   string
	minute int64
}

func newMemRate() *memRate { return &memRate{m: map[rateKey]int{}} }

func (r *memRate) Take(_ context.Context, dest string, minute time.Time, n, limit int) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k := range r.m {
		if k.minute < minute.Add(-DigestWindow).UnixMilli() {
			delete(r.m, k)
		}
	}
	k := rateKey{dest, minute.UnixMilli()}
	if r.m[k]+n > limit {
		return false, nil
	}
	r.m[k] += n
	return true, nil
}

// singles reports whether dest may take n single alerts now under the digest rule (and
// counts them); otherwise they go as digests. A count that cannot be read or written
// sends digests: fewer messages, never a flood.
func (d *Deliverer) singles(ctx context.Context, dest string, n int, now time.Time) bool {
	ok, err := d.rate.Take(ctx, dest, now.UTC().Truncate(DigestWindow), n, DigestOver)
	if err != nil {
		d.cfg.Logger.WarnContext(ctx, "alerts sent as a digest: the shared count was not taken", "destination", dest, "err", err)
		return false
	}
	return ok
}
