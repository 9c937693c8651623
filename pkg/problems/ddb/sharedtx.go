package ddb

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// sharedLinger is how long a transaction part waits at most for the parts of the other
// problems of its batch before it is sent with those that came. A writer that reads or
// waits out a backoff says so (idle) and is not waited for; the others are building their
// parts, CPU work that ends soon, and waiting for it costs the batch nothing (it ends when
// its last part is answered either way) while saving requests. So the linger is only a
// backstop, long beside building a part and about one DynamoDB call.
const sharedLinger = 10 * time.Millisecond

// sharedTx sends the transactions of a batch's problems — written at once, each by its
// own writer — as shared TransactWriteItems requests of up to 100 actions: a batch over
// 20 problems costs 2 requests instead of 20, and the per-request cost (signing, HTTP, the
// SDK's middleware: most of the grouper's CPU) falls with them. A part is what one
// problem's writer would have sent alone, and it gets the answer it would have got alone:
// nil when the request commits; when it is cancelled, a TransactionCanceledException with
// the cancellation reasons of its own actions (indexed from 0). A part whose actions were
// all fine, cancelled only because another problem's part failed, is sent again with the
// other innocent parts (each round drops the parts that caused the cancellation, so it
// ends); any other error of a shared request is tried again part by part, so that a part
// that cannot be written fails alone.
//
// Parts are sent when every writer still working on the batch is waiting for an answer
// or idle (reading, backing off), when the next part would not fit, or after sharedLinger.
type sharedTx struct {
	db     api
	ctx    context.Context //nolint:containedctx // the batch's context: every part's request works under it
	linger time.Duration

	mu      sync.Mutex
	live    int // writers still working on the batch, at most parallel of them at once
	most    int // how many write at once (the store's Parallel)
	waiting int // writers waiting for an answer (queued or in flight)
	queue   []*txPart
	items   int
	timer   *time.Timer
	// readers are writers waiting for the batch's read (counted in waiting); read is
	// closed when it is done.
	readers int
	read    chan struct{}
}

type txPart struct {
	items   []types.TransactWriteItem
	encoded [][]byte // the items' JSON where it is known (withEncoded)
	err     error
	done    chan struct{}
}

// newSharedTx serves the writers of a batch of writers problems, parallel at once.
func newSharedTx(ctx context.Context, db api, writers, parallel int) *sharedTx {
	return &sharedTx{db: db, ctx: ctx, linger: sharedLinger, live: writers, most: max(parallel, 1)}
}

// leave says one writer is done with the batch.
func (t *sharedTx) leave() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.live--
	if len(t.queue) > 0 && t.allWaitingLocked() {
		t.flushLocked()
	}
}

// allWaitingLocked reports whether every writer that can be working is waiting for an
// answer (t.mu held).
func (t *sharedTx) allWaitingLocked() bool {
	return t.waiting >= min(t.live, t.most)
}

// awaitRead waits until readDone is called, with the writer counted as waiting (the parts
// of the problems known without the read go meanwhile).
func (t *sharedTx) awaitRead() {
	t.mu.Lock()
	if t.read == nil {
		t.mu.Unlock()
		return
	}
	read := t.read
	t.readers++
	t.waiting++
	if len(t.queue) > 0 && t.allWaitingLocked() {
		t.flushLocked()
	}
	t.mu.Unlock()
	<-read
}

// readDone ends awaitRead. Every writer waiting for the read is working again from this
// moment, before any of them runs: none of their parts can be sent before the others
// are built (each would find the rest still counted waiting).
func (t *sharedTx) readDone() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.waiting -= t.readers
	t.readers = 0
	close(t.read)
	t.read = nil
}

// reading reports whether the batch's read is still out (awaitRead would wait).
func (t *sharedTx) reading() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.read != nil
}

// idle runs f (a read, a backoff: anything but building a part) with the writer counted
// as waiting, so that the parts of the others go without waiting for it.
func (t *sharedTx) idle(f func()) {
	t.mu.Lock()
	t.waiting++
	if len(t.queue) > 0 && t.allWaitingLocked() {
		t.flushLocked()
	}
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		t.waiting--
		t.mu.Unlock()
	}()
	f()
}

// write sends items as one part of a shared transaction and returns the part's answer.
// encoded is the items' JSON where the writer encoded it before (nil entries, or nil: the
// request encodes them).
func (t *sharedTx) write(items []types.TransactWriteItem, encoded [][]byte) error {
	if len(items) > maxTransactItems/2 {
		// Too large to share with much: sent alone, the writer waiting like the others.
		var err error
		t.idle(func() { err = t.send1(items, encoded) })
		return err
	}
	p := &txPart{items: items, encoded: encoded, done: make(chan struct{})}
	t.mu.Lock()
	if t.items+len(items) > maxTransactItems {
		t.flushLocked()
	}
	t.queue = append(t.queue, p)
	t.items += len(items)
	t.waiting++
	switch {
	case t.allWaitingLocked():
		t.flushLocked()
	case t.timer == nil:
		t.timer = time.AfterFunc(t.linger, func() {
			t.mu.Lock()
			defer t.mu.Unlock()
			t.timer = nil
			if len(t.queue) > 0 {
				t.flushLocked()
			}
		})
	}
	t.mu.Unlock()
	<-p.done // answer counted it working again
	return p.err
}

// answer gives p its answer (p.err set): from now its writer is working again, counted so
// at once, before it runs (the writers answered together must not find each other still
// waiting and send their next parts one by one).
func (t *sharedTx) answer(p *txPart) {
	t.mu.Lock()
	t.waiting--
	t.mu.Unlock()
	close(p.done)
}

// flushLocked sends the queued parts (t.mu held).
func (t *sharedTx) flushLocked() {
	parts := t.queue
	t.queue, t.items = nil, 0
	if t.timer != nil {
		t.timer.Stop()
		t.timer = nil
	}
	if len(parts) == 0 {
		return
	}
	go t.send(parts)
}

func (t *sharedTx) send1(items []types.TransactWriteItem, encoded [][]byte) error {
	_, err := t.db.TransactWriteItems(t.ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}, withEncoded(encoded))
	return err //nolint:wrapcheck // the writer reads the SDK's error types
}

// send writes parts in one request and answers each.
func (t *sharedTx) send(parts []*txPart) {
	if len(parts) == 0 {
		return
	}
	if len(parts) == 1 {
		parts[0].err = t.send1(parts[0].items, parts[0].encoded)
		t.answer(parts[0])
		return
	}
	var (
		items   []types.TransactWriteItem
		encoded [][]byte
	)
	for _, p := range parts {
		items = append(items, p.items...)
		encoded = append(encoded, p.encoded...)
		// A part with fewer encodings than items (none) has the rest encoded at the call.
		for range len(p.items) - len(p.encoded) {
			encoded = append(encoded, nil)
		}
	}
	err := t.send1(items, encoded)
	var tce *types.TransactionCanceledException
	switch {
	case err == nil:
		t.answerAll(parts)
	case errors.As(err, &tce) && len(tce.CancellationReasons) == len(items):
		var innocent, guilty []*txPart
		at := 0
		for _, p := range parts {
			reasons := tce.CancellationReasons[at : at+len(p.items)]
			at += len(p.items)
			if allNone(reasons) {
				innocent = append(innocent, p)
				continue
			}
			p.err = &types.TransactionCanceledException{Message: tce.Message, CancellationReasons: reasons}
			guilty = append(guilty, p)
		}
		t.answerAll(guilty)
		if len(innocent) < len(parts) {
			t.send(innocent)
		} else {
			t.alone(parts) // no part to blame: each on its own
		}
	default:
		t.alone(parts)
	}
}

// alone sends each part in its own request, at once.
func (t *sharedTx) alone(parts []*txPart) {
	var wg sync.WaitGroup
	for _, p := range parts {
		wg.Go(func() {
			p.err = t.send1(p.items, p.encoded)
			t.answer(p)
		})
	}
	wg.Wait()
}

// answerAll answers parts (their err set) at once.
func (t *sharedTx) answerAll(parts []*txPart) {
	t.mu.Lock()
	t.waiting -= len(parts)
	t.mu.Unlock()
	for _, p := range parts {
		close(p.done)
	}
}

func allNone(reasons []types.CancellationReason) bool {
	for _, r := range reasons {
		if c := aws.ToString(r.Code); c != "None" && c != "" {
			return false
		}
	}
	return true
}
