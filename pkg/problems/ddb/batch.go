package ddb

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/internal/ddbitem"
	"github.com/aient/firehose-drain/pkg/problems"
)

// Sizes of the write path.
const (
	// maxTransactItems is DynamoDB's limit of actions in one TransactWriteItems.
	maxTransactItems = 100
	// problemItems is how many actions of a transaction write the problem's own items
	// (its Update, and the Put of a notice when the write alerts); the others put
	// occurrences.
	problemItems = 2
	// OccurrencesPerWrite is the most occurrences one transaction carries with the problem
	// update: more new occurrences of one problem in a batch take one write per this many.
	OccurrencesPerWrite = maxTransactItems - problemItems
	// maxBatchGetKeys is DynamoDB's limit of keys in one BatchGetItem.
	maxBatchGetKeys = 100
	// DefaultParallel is how many problems RecordBatch writes at once.
	DefaultParallel = 32
	// maxAttempts bounds the attempts of one transaction that make no progress by
	// themselves: conflicts, throttling, and a problem that moved since it was read.
	// Attempts that drop occurrences found recorded always progress and are not counted.
	maxAttempts = 10
)

// seen is what the write path knows of a problem item's times before writing it.
type seen struct {
	exists      bool
	first, last int64 // unix ms; meaningful when exists
	lc          lcSeen
}

// RecordBatch counts each occurrence exactly once per identity (see the package doc):
// one BatchGetItem reads the times of every problem of the batch, then each problem is
// written by its own transactions, problems in parallel. With a seen cache
// (WithSeenCache), the problems it knows are written at once, while the others are read.
// The problems a Prefetch is reading already are not read again: the batch waits for that
// read. While the read is out, the writer of each problem read drafts its first
// transaction (draft): everything the answer cannot change, so that less CPU sits between
// the read's answer and the write.
func (s *Store) RecordBatch(ctx context.Context, occs []problems.Occurrence) []problems.Result {
	plan := problems.PlanBatch(occs)
	known := make(map[string]seen, len(plan.Groups))
	var unknown []string
	for _, g := range plan.Groups {
		if st, ok := s.cache.get(g.ID); ok {
			known[g.ID] = st
		} else {
			unknown = append(unknown, g.ID)
		}
	}
	tx := newSharedTx(ctx, s.db, len(plan.Groups), s.parallel)
	var read map[string]readItem
	if len(unknown) > 0 {
		// The known problems' writes go, and the others' are drafted, while those are read
		// (or their reads that Prefetch started are awaited).
		own, started := s.prefetched.take(unknown)
		tx.read = make(chan struct{})
		go func() {
			r := map[string]readItem{}
			if len(own) > 0 {
				r = s.readItems(ctx, own)
			}
			started.await(ctx, r)
			read = r
			tx.readDone()
		}()
		runtime.Gosched() // the read's request goes out before the writers take the Ps
	}
	return plan.Run(ctx, s.parallel, func(ctx context.Context, g problems.Group) []problems.Result {
		defer tx.leave()
		st, ok := known[g.ID]
		var first *draft
		if !ok {
			first = s.draft(g.ID, g.Occurrences[:chunkEnd(g.Occurrences, 0)], s.now())
			s.speculate(first, tx.reading)
			tx.awaitRead()
			// Each writer reads its own item's state, the writers at once.
			if st, ok = seenOf(read[g.ID]); !ok {
				st = seen{} // malformed: unknown, the transaction will say
			}
		}
		return s.recordGroup(ctx, g, st, tx, first)
	})
}

// Record is RecordBatch of one occurrence.
func (s *Store) Record(ctx context.Context, o problems.Occurrence) (bool, error) {
	return problems.RecordOne(ctx, s, o)
}

// readItem is a problem item as readItems reads it (its attributes the write path needs).
type readItem = map[string]types.AttributeValue

// readItems reads the items of problems ids (what the write path needs of them: seenOf),
// strongly consistent, one BatchGetItem per 100 problems (in parallel), unprocessed keys
// asked again. A problem that does not exist, or that it could not read, is absent from
// the map: its first write assumes it new, and a wrong guess costs one cancelled
// transaction that returns the item (ALL_OLD).
func (s *Store) readItems(ctx context.Context, ids []string) map[string]readItem {
	out := make(map[string]readItem, len(ids))
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for start := 0; start < len(ids); start += maxBatchGetKeys {
		chunk := ids[start:min(start+maxBatchGetKeys, len(ids))]
		read := func() {
			got := s.readChunk(ctx, chunk)
			mu.Lock()
			defer mu.Unlock()
			for id, v := range got {
				out[id] = v
			}
		}
		if s.parallel == 1 {
			read() // one request at a time, as Parallel says
			continue
		}
		wg.Go(read)
	}
	wg.Wait()
	return out
}

func (s *Store) readChunk(ctx context.Context, ids []string) map[string]readItem {
	out := make(map[string]readItem, len(ids))
	keys := make([]map[string]types.AttributeValue, len(ids))
	for i, id := range ids {
		keys[i] = map[string]types.AttributeValue{attrPK: str(problemPrefix + id)}
	}
	for attempt := 1; len(keys) > 0; attempt++ {
		res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			s.table: {
				Keys:           keys,
				ConsistentRead: aws.Bool(true),
				// What the lifecycle needs too; a read costs the whole item's size whatever
				// it projects, and the sample, the largest part, is left out.
				ProjectionExpression: aws.String("#pk, #firstSeen, #lastSeen, #count, #org, #env, #fingerprint, #logGroups, " +
					"#state, #lifecycle, #hourly, #ver, #guardUntil, #guardRoom, #guardFrom"),
				ExpressionAttributeNames: map[string]string{
					"#pk": attrPK, "#firstSeen": attrFirstSeen, "#lastSeen": attrLastSeen,
					"#count": attrCount, "#org": attrOrg, "#env": attrEnv, "#fingerprint": attrFingerprint, "#logGroups": attrLogGroups,
					"#state": attrState, "#lifecycle": attrLifecycle, "#hourly": attrHourly, "#ver": attrVer,
					"#guardUntil": attrGuardUntil, "#guardRoom": attrGuardRoom, "#guardFrom": attrGuardFrom,
				},
			},
		}})
		if err != nil {
			break
		}
		for _, item := range res.Responses[s.table] {
			r := ddbitem.Reader{Item: item}
			out[strings.TrimPrefix(r.Str(attrPK), problemPrefix)] = item
		}
		keys = res.UnprocessedKeys[s.table].Keys
		if len(keys) == 0 || attempt >= maxAttempts || s.sleep(ctx, backoff(attempt)) != nil {
			break
		}
	}
	return out // keys still unprocessed: unknown
}

// recordGroup writes one problem's new occurrences, OccurrencesPerWrite per transaction,
// one transaction after another (they write the same problem item). first, when not nil,
// is the draft of the first transaction.
func (s *Store) recordGroup(ctx context.Context, g problems.Group, st seen, tx *sharedTx, first *draft) []problems.Result {
	res := make([]problems.Result, len(g.Occurrences))
	for start := 0; start < len(g.Occurrences); {
		end := chunkEnd(g.Occurrences, start)
		st = s.writeChunk(ctx, g.ID, g.Occurrences[start:end], st, res[start:end], tx, first)
		first = nil
		start = end
	}
	return res
}

// draft is the part of a transaction of occs (one problem's) that does not depend on what
// is known of the problem: the occurrences' Puts, the hour items' Updates (both also
// encoded as the request's JSON, wire.go), the aggregate and the newest occurrence's
// encoded sample. A writer builds it while its problem is being read; the rest (the
// problem's Update and the lifecycle's part) follows the answer.
type draft struct {
	id        string
	occs      []problems.Occurrence
	agg       problems.Aggregate
	puts      []types.TransactWriteItem
	hours     []types.TransactWriteItem
	encoded   [][]byte // the JSON of puts, then of hours; nil where it could not be encoded
	affected  []affectedCount
	steady    *steadyTx // speculate's; nil when none
	sample    string    // agg.Newest's trimmed sample, JSON
	search    string
	sampleErr error
}

// draft builds the draft of a transaction of occs of problem id, written at now.
func (s *Store) draft(id string, occs []problems.Occurrence, now time.Time) *draft {
	d := &draft{id: id, occs: occs, agg: problems.AggregateOf(occs), affected: affectedCounts(occs)}
	expires := num(now.Add(OccurrenceTTL).Unix())
	table := aws.String(s.table)
	d.puts = make([]types.TransactWriteItem, len(occs))
	for i, o := range occs {
		d.puts[i] = types.TransactWriteItem{Put: s.occurrencePut(id, o, expires, table)}
	}
	for _, u := range s.hourUpdates(id, occs) {
		d.hours = append(d.hours, types.TransactWriteItem{Update: u})
	}
	// Encoded into one buffer, each action a slice of it.
	d.encoded = make([][]byte, 0, len(d.puts)+len(d.hours))
	buf := make([]byte, 0, actionSize/2*(len(d.puts)+len(d.hours)))
	for _, actions := range [][]types.TransactWriteItem{d.puts, d.hours} {
		for i := range actions {
			start := len(buf)
			b, err := appendAction(buf, &actions[i])
			if err != nil {
				d.encoded = append(d.encoded, nil) // the request encodes it
				continue
			}
			buf = b
			d.encoded = append(d.encoded, buf[start:len(buf):len(buf)])
		}
	}
	o := d.agg.Newest
	// Its own MarshalJSON, called directly: json.Marshal would only check and compact the
	// compact JSON it returns.
	sample, err := trimSample(o.Sample).MarshalJSON()
	if err != nil {
		d.sampleErr = fmt.Errorf("encode sample: %w", err)
	}
	d.sample = string(sample)
	d.search = searchText(o.Title, o.Culprit, o.Sample.Message)
	return d
}

// transaction is the whole transaction of d written to the problem as st knows it, with
// the lifecycle part lp: the occurrences' Puts first (their cancellation reasons are
// indexed by occurrence), then the problem's Update, the hours' Updates and the notice's
// Put; and the JSON of those of its actions the draft encoded (nil for the others).
func (s *Store) transaction(id string, d *draft, st seen, lp lcPart) ([]types.TransactWriteItem, [][]byte, error) {
	update, err := s.problemUpdate(id, d, st, lp)
	if err != nil {
		return nil, nil, err
	}
	n := len(d.puts) + 1 + len(d.hours) + 1
	items := make([]types.TransactWriteItem, 0, n)
	items = append(items, d.puts...)
	items = append(items, types.TransactWriteItem{Update: update})
	items = append(items, d.hours...)
	encoded := make([][]byte, 0, n)
	encoded = append(encoded, d.encoded[:len(d.puts)]...)
	encoded = append(encoded, nil)
	encoded = append(encoded, d.encoded[len(d.puts):]...)
	if lp.notice != nil {
		put, err := s.noticePut(*lp.notice)
		if err != nil {
			return nil, nil, err
		}
		items = append(items, types.TransactWriteItem{Put: put})
		encoded = append(encoded, nil)
	}
	return items, encoded, nil
}

// chunkEnd is where the transaction of the occurrences from start ends: at most
// OccurrencesPerWrite of them, and room for one hour item per hour they fall in.
func chunkEnd(occs []problems.Occurrence, start int) int {
	hours := map[int64]bool{}
	end := start
	for end < len(occs) && end-start < OccurrencesPerWrite {
		h := hourOf(occs[end].At.UnixMilli())
		extra := 0
		if !hours[h] {
			extra = 1
		}
		if (end-start+1)+len(hours)+extra+problemItems > maxTransactItems {
			break
		}
		hours[h] = true
		end++
	}
	return end
}

// writeChunk records occs (at most OccurrencesPerWrite, all of problem id) in one
// transaction, retried without the occurrences found recorded, and fills res. It returns
// what it then knows of the problem's times. first, when not nil, is the draft of occs.
func (s *Store) writeChunk(ctx context.Context, id string, occs []problems.Occurrence, st seen, res []problems.Result, tx *sharedTx, first *draft) seen {
	pending := make([]int, len(occs))
	for i := range pending {
		pending[i] = i
	}
	fail := func(err error) seen {
		s.cache.forget(id)
		for _, i := range pending {
			res[i].Err = fmt.Errorf("record occurrence of problem %s: %w", id, err)
		}
		return st
	}
	d := first
	for attempts := 0; ; {
		if len(pending) == 0 {
			return st
		}
		if d == nil || len(d.occs) != len(pending) {
			batch := make([]problems.Occurrence, len(pending))
			for k, i := range pending {
				batch[k] = occs[i]
			}
			d = s.draft(id, batch, s.now())
		}
		agg := d.agg
		items, encoded, lp, err := s.build(ctx, id, d, st, tx)
		if errors.Is(err, errMoved) {
			// Read it again as it now is, and decide again.
			if attempts++; attempts >= maxAttempts {
				return fail(err)
			}
			var item map[string]types.AttributeValue
			tx.idle(func() { item, err = s.getItem(ctx, id) })
			if err != nil {
				return fail(err)
			}
			if st, _ = seenOf(item); !st.exists {
				return fail(fmt.Errorf("the problem item has no firstSeen/lastSeen: %w", errMoved))
			}
			continue
		}
		if err != nil {
			return fail(err)
		}
		// One part of the batch's shared transactions: answered as if sent alone.
		if err = tx.write(items, encoded); err == nil {
			for _, i := range pending {
				res[i].Recorded = true
			}
			next := st.after(agg)
			next.lc = lp.next
			s.cache.put(id, next)
			return next
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			return fail(err)
		}
		// Occurrences whose condition failed are recorded already: drop exactly those.
		var still []int
		for k, i := range pending {
			if reason(tce, k).code != codeConditionalCheckFailed {
				still = append(still, i)
			}
		}
		dropped := len(still) < len(pending)
		prob := reason(tce, len(pending))
		transient := false
		for k := range len(items) {
			transient = transient || retryable(reason(tce, k).code)
		}
		switch {
		case prob.code == codeConditionalCheckFailed:
			// The problem moved since it was read (a concurrent writer): the cancellation
			// carries it as it is now.
			next, ok := seenOf(prob.item)
			if !ok {
				pending = still
				return fail(fmt.Errorf("the problem item has no firstSeen/lastSeen: %w", err))
			}
			st = next
			s.cache.put(id, st)
		case transient:
		case dropped:
			pending = still
			continue
		default:
			return fail(fmt.Errorf("cancelled (%s): %w", reasonCodes(tce), err))
		}
		pending = still
		if attempts++; attempts >= maxAttempts {
			return fail(fmt.Errorf("still cancelled after %d attempts: %w", attempts, err))
		}
		if transient {
			var err error
			tx.idle(func() { err = s.sleep(ctx, backoff(attempts)) })
			if err != nil {
				return fail(err)
			}
		}
	}
}

// build is the transaction of d written to the problem as st knows it, its encoded
// actions and its lifecycle part: the one the draft speculated when st is steady for it
// (steadyFor), else built now.
func (s *Store) build(ctx context.Context, id string, d *draft, st seen, tx *sharedTx) ([]types.TransactWriteItem, [][]byte, lcPart, error) {
	if items, encoded, lp, ok := d.steadyFor(st); ok {
		return items, encoded, lp, nil
	}
	lp, err := s.lifecyclePart(ctx, id, d.occs, d.agg, st, s.now(), tx.idle)
	if err != nil {
		return nil, nil, lcPart{}, err
	}
	items, encoded, err := s.transaction(id, d, st, lp)
	return items, encoded, lp, err
}

// steadySeen is what the write of a steady problem assumes of it (see speculate): it
// exists, and the batch is neither before its first nor before its last occurrence.
var steadySeen = seen{exists: true, first: math.MinInt64, last: math.MinInt64}

// steadyTx is the transaction of a draft's occurrences to a steady problem, built at now.
type steadyTx struct {
	now     time.Time
	times   []time.Time
	items   []types.TransactWriteItem
	encoded [][]byte
}

// speculate builds, while d's problem is being read, the transaction d's write has when
// the answer is what a known problem's write almost always meets: the item exists, the
// batch is at or past its lastSeen and not before its firstSeen, and its guard admits the
// batch (lifecyclePart counts it without a decision). Nothing of that transaction depends
// on the item's values — only the choice of it does (steadyFor) — so it is built and
// encoded whole before the answer, and the writer of a known problem has only to send it
// when the answer comes. Its conditions are the ones lifecyclePart and problemUpdate give
// that answer, and they hold it true when the transaction applies, as always. It is built
// only while the read is still out (reading): the CPU would be idle then, and once the
// answer is in, the writer builds the transaction it needs.
func (s *Store) speculate(d *draft, reading func() bool) {
	if !reading() {
		return
	}
	now := s.now()
	times := make([]time.Time, len(d.occs))
	for i, o := range d.occs {
		times[i] = o.At
	}
	items, encoded, err := s.transaction(d.id, d, steadySeen, admittedPart(times, now))
	if err != nil {
		return // built after the answer, which reports the error
	}
	u := len(d.puts) // the problem's Update
	if encoded[u], err = appendAction(nil, &items[u]); err != nil {
		encoded[u] = nil
	}
	d.steady = &steadyTx{now: now, times: times, items: items, encoded: encoded}
}

// steadyFor returns the transaction speculate built when st is steady for d (and d's
// first use of it: a retry builds its own, at its own time), with the lifecycle part's
// next state.
func (d *draft) steadyFor(st seen) ([]types.TransactWriteItem, [][]byte, lcPart, bool) {
	sp := d.steady
	d.steady = nil
	if sp == nil || !st.exists || d.agg.Last.UnixMilli() < st.last || d.agg.First.UnixMilli() < st.first || !admits(st, sp.times, sp.now) {
		return nil, nil, lcPart{}, false
	}
	return sp.items, sp.encoded, lcPart{next: admittedNext(st.lc, sp.times, sp.now)}, true
}

// Cancellation reason codes the write path acts on.
const (
	codeConditionalCheckFailed = "ConditionalCheckFailed"
	codeTransactionConflict    = "TransactionConflict"
)

// reasonCodes lists the cancellation's reasons other than None, for the error.
func reasonCodes(tce *types.TransactionCanceledException) string {
	var out []string
	for i, r := range tce.CancellationReasons {
		if c := aws.ToString(r.Code); c != "None" && c != "" {
			out = append(out, fmt.Sprintf("item %d: %s", i, c))
		}
	}
	return strings.Join(out, ", ")
}

// retryable reports whether a cancellation reason is worth another attempt after a wait.
func retryable(code string) bool {
	switch code {
	case codeTransactionConflict, "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
		return true
	}
	return false
}

// after is what a committed write of agg tells about the problem's times (its lifecycle
// is the lifecycle part's to say).
func (st seen) after(agg problems.Aggregate) seen {
	first, last := agg.First.UnixMilli(), agg.Last.UnixMilli()
	if !st.exists {
		return seen{exists: true, first: first, last: last}
	}
	return seen{exists: true, first: min(st.first, first), last: max(st.last, last)}
}

// seenOf reads a problem item's times; a nil item is a problem that does not exist.
func seenOf(item map[string]types.AttributeValue) (seen, bool) {
	if item == nil {
		return seen{}, true
	}
	r := ddbitem.Reader{Item: item}
	st := seen{exists: true, first: r.RequiredNum(attrFirstSeen), last: r.RequiredNum(attrLastSeen)}
	if r.Err() != nil {
		return seen{}, false
	}
	readLifecycle(&r, &st)
	if r.Err() != nil {
		return seen{}, false
	}
	return st, true
}

// putIfAbsent is the condition of every occurrence put: shared, read only (the SDK only
// reads a request's inputs), so a batch's puts do not each build the same expression.
var (
	putIfAbsent      = aws.String("attribute_not_exists(#pk)")
	putIfAbsentNames = map[string]string{"#pk": attrPK}
)

func (s *Store) occurrencePut(id string, o problems.Occurrence, expires types.AttributeValue, table *string) *types.Put {
	at := o.At.UnixMilli()
	problem := str(id)
	item := make(map[string]types.AttributeValue, 13)
	item[attrPK] = str(occurrencePrefix + o.Identity)
	item[attrProblem] = problem
	item[attrAt] = num(at)
	item[attrExpiresAt] = expires
	// In the byProblem index: a problem's occurrences, newest last (query.go).
	item[attrOf] = problem
	item[attrSK] = str(occurrenceSK(at, o.Identity))
	optional := func(attr, v string) {
		if v != "" {
			item[attr] = str(v)
		}
	}
	optional(attrAccount, o.Sample.Account)
	optional(attrRegion, o.Sample.Region)
	optional(attrLogGroup, o.Sample.LogGroup)
	optional(attrLogStream, o.Sample.LogStream)
	optional(attrEventID, o.Sample.EventID)
	optional(attrRequestID, o.Sample.RequestID)
	if b := breadcrumbsAttr(o.Sample.Breadcrumbs); b != nil {
		item[attrBreadcrumbs] = b
	}
	return &types.Put{
		TableName:                table,
		Item:                     item,
		ConditionExpression:      putIfAbsent,
		ExpressionAttributeNames: putIfAbsentNames,
	}
}

// problemUpdate is the update of the problem item by a group's new occurrences (d), with
// the condition under which it is right: the problem as st says it is. The count grows by
// agg.Count in any case; the times and the sample move only where agg goes past them.
func (s *Store) problemUpdate(id string, d *draft, st seen, lp lcPart) (*types.Update, error) {
	agg := d.agg
	o := agg.Newest
	first, last := agg.First.UnixMilli(), agg.Last.UnixMilli()
	names := map[string]string{"#count": attrCount, "#pk": attrPK}
	values := map[string]types.AttributeValue{":n": num(agg.Count)}
	add := []string{"#count :n"}
	if len(agg.LogGroups) > 0 {
		names["#logGroups"] = attrLogGroups
		values[":groups"] = &types.AttributeValueMemberSS{Value: agg.LogGroups}
		add = append(add, "#logGroups :groups")
	}
	// Counts by account, region and log group: one top-level attribute each (query.go).
	for i, a := range d.affected {
		n, v := fmt.Sprintf("#aff%d", i), fmt.Sprintf(":aff%d", i)
		names[n], values[v] = a.attr, num(a.n)
		add = append(add, n+" "+v)
	}
	var set, cond []string
	setAttr := func(name, attr string, v types.AttributeValue) {
		names["#"+name], values[":"+name] = attr, v
		set = append(set, "#"+name+" = :"+name)
	}
	newest := !st.exists || last >= st.last
	if newest {
		if d.sampleErr != nil {
			return nil, d.sampleErr
		}
		setAttr("lastSeen", attrLastSeen, num(last))
		setAttr("title", attrTitle, str(o.Title))
		setAttr("culprit", attrCulprit, str(o.Culprit))
		setAttr("level", attrLevel, str(o.Level))
		setAttr("sample", attrSample, str(d.sample))
		setAttr("kind", attrKind, str(kindProblem))
		setAttr("search", attrSearch, str(d.search))
	}
	if !st.exists {
		setAttr("firstSeen", attrFirstSeen, num(first))
		setAttr("id", attrID, str(id))
		setAttr("scope", attrScope, str(Scope(o.Org, o.Env)))
		setAttr("org", attrOrg, str(o.Org))
		setAttr("env", attrEnv, str(o.Env))
		setAttr("fingerprint", attrFingerprint, str(o.Fingerprint))
		cond = []string{"attribute_not_exists(#pk)"}
	} else {
		// The times the problem has, as st says; each part of the condition keeps true
		// the assumption its part of the update makes.
		cond = []string{"attribute_exists(#pk)"}
		if newest {
			cond = append(cond, "#lastSeen <= :lastSeen")
		} else {
			names["#lastSeen"], values[":last"] = attrLastSeen, num(last)
			cond = append(cond, "#lastSeen > :last")
		}
		if first < st.first {
			setAttr("firstSeen", attrFirstSeen, num(first))
			cond = append(cond, "#firstSeen > :firstSeen")
		} else {
			names["#firstSeen"], values[":first"] = attrFirstSeen, num(first)
			cond = append(cond, "#firstSeen <= :first")
		}
	}
	// The lifecycle's part, with its own names and values; its condition comes last, in
	// parentheses.
	maps.Copy(names, lp.names)
	maps.Copy(values, lp.values)
	add = append(add, lp.add...)
	set = append(set, lp.set...)
	if lp.cond != "" {
		cond = append(cond, "("+lp.cond+")")
	}
	expr := "ADD " + strings.Join(add, ", ")
	if len(set) > 0 {
		expr += " SET " + strings.Join(set, ", ")
	}
	return &types.Update{
		TableName:                           aws.String(s.table),
		Key:                                 map[string]types.AttributeValue{attrPK: str(problemPrefix + id)},
		UpdateExpression:                    aws.String(expr),
		ConditionExpression:                 aws.String(strings.Join(cond, " AND ")),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}, nil
}
