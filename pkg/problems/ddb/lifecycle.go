package ddb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/internal/ddbitem"
	"github.com/aient/firehose-drain/pkg/problems"
)

// The lifecycle's attributes of a problem item (see the package doc).
const (
	attrState      = "state"      // S: unresolved | resolved | ignored
	attrLifecycle  = "lifecycle"  // S: JSON of problems.LifecycleRecord
	attrHourly     = "hourly"     // M: "<hour, unix seconds>" -> N
	attrVer        = "ver"        // N: grows by one with every write of the problem
	attrGuardUntil = "guardUntil" // N, unix ms: problems.Guard.Until
	attrGuardRoom  = "guardRoom"  // N: problems.Guard.Room, less what writes took since
	attrGuardFrom  = "guardFrom"  // N, unix ms: problems.Guard.From

	noticePrefix  = "notice#"
	attrBody      = "body"     // S: JSON of problems.Notice
	attrDue       = "due"      // N, unix ms: when the notice is next due
	attrDone      = "done"     // N, unix ms: no destination needs it any more
	attrSent      = "sent"     // M: destination -> N (unix ms)
	attrDead      = "dead"     // M: destination -> BOOL
	attrAttempts  = "attempts" // M: destination -> N
	noticeTTL     = 30 * 24 * time.Hour
	doneNoticeTTL = 14 * 24 * time.Hour
)

// lcSeen is what the write path knows of a problem's lifecycle.
type lcSeen struct {
	count    int64
	life     problems.Lifecycle
	hasLife  bool
	ver      int64
	hasVer   bool
	guard    problems.Guard
	hasGuard bool
	// The attributes a notice needs that the read carries.
	org, env, fingerprint string
	logGroups             []string
}

// readLifecycle reads the lifecycle attributes of a problem item into st.
func readLifecycle(r *ddbitem.Reader, st *seen) {
	lc := &st.lc
	lc.count = r.Num(attrCount)
	lc.org, lc.env, lc.fingerprint = r.Str(attrOrg), r.Str(attrEnv), r.Str(attrFingerprint)
	lc.logGroups = r.StrSet(attrLogGroups)
	_, lc.hasVer = r.Item[attrVer]
	lc.ver = r.Num(attrVer)
	_, until := r.Item[attrGuardUntil]
	_, room := r.Item[attrGuardRoom]
	_, from := r.Item[attrGuardFrom]
	lc.hasGuard = until && room && from
	lc.guard = problems.Guard{Until: time.UnixMilli(r.Num(attrGuardUntil)).UTC(), Room: r.Num(attrGuardRoom), From: time.UnixMilli(r.Num(attrGuardFrom)).UTC()}
	hourly, err := hourlyOf(r.Item[attrHourly])
	if err != nil {
		r.Fail(err)
		return
	}
	var rec problems.LifecycleRecord
	if raw := r.Str(attrLifecycle); raw != "" {
		if err := json.Unmarshal([]byte(raw), &rec); err != nil {
			r.Fail(fmt.Errorf("attribute %s: %w", attrLifecycle, err))
			return
		}
		lc.hasLife = true
	}
	lc.life = rec.Lifecycle(hourly)
}

// hourlyOf reads the hourly map, oldest first.
func hourlyOf(av types.AttributeValue) ([]problems.HourCount, error) {
	if av == nil {
		return nil, nil
	}
	m, ok := av.(*types.AttributeValueMemberM)
	if !ok {
		return nil, fmt.Errorf("attribute %s is %T, want a map", attrHourly, av)
	}
	out := make([]problems.HourCount, 0, len(m.Value))
	for k, v := range m.Value {
		h, err := strconv.ParseInt(k, 10, 64)
		n, ok := v.(*types.AttributeValueMemberN)
		if err != nil || !ok {
			return nil, fmt.Errorf("attribute %s: bucket %q is not an hour and a number", attrHourly, k)
		}
		c, err := strconv.ParseInt(n.Value, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: bucket %q: %w", attrHourly, k, err)
		}
		out = append(out, problems.HourCount{Hour: time.Unix(h, 0).UTC(), Count: c})
	}
	slices.SortFunc(out, func(a, b problems.HourCount) int { return a.Hour.Compare(b.Hour) })
	return out, nil
}

func hourlyAttr(b []problems.HourCount) types.AttributeValue {
	m := make(map[string]types.AttributeValue, len(b))
	for _, x := range b {
		m[strconv.FormatInt(x.Hour.Unix(), 10)] = num(x.Count)
	}
	return &types.AttributeValueMemberM{Value: m}
}

// lcPart is what the lifecycle adds to one problem write.
type lcPart struct {
	set, add []string
	cond     string
	names    map[string]string
	values   map[string]types.AttributeValue
	notice   *problems.Notice
	// next is the lifecycle the problem has once the write commits.
	next lcSeen
}

// admits reports whether the problem as st knows it has a guard that admits a write of
// occurrences at times, at now: the write counts them without a decision (admittedPart).
func admits(st seen, times []time.Time, now time.Time) bool {
	return st.exists && st.lc.hasLife && st.lc.hasGuard && st.lc.guard.Admits(times, now)
}

// admittedPart is the lifecycle part of a write the guard admits (admits): the hourly
// buckets grow, the guard's room shrinks, under the condition that the guard still admits
// it. Nothing of it depends on what is known of the problem but that the guard admits.
func admittedPart(times []time.Time, now time.Time) lcPart {
	n := int64(len(times))
	p := lcPart{
		names:  map[string]string{"#ver": attrVer, "#guardUntil": attrGuardUntil, "#guardRoom": attrGuardRoom, "#guardFrom": attrGuardFrom},
		values: map[string]types.AttributeValue{":lcOne": num(1)},
		add:    []string{"#ver :lcOne"},
	}
	hours := map[int64]int64{}
	oldest := problems.OldestHour(now)
	for _, t := range times {
		if h := problems.HourOf(t); !h.Before(oldest) { // older ones count, without a bucket
			hours[h.Unix()]++
		}
	}
	if len(hours) > 0 {
		p.names["#hourly"], p.values[":lcZero"] = attrHourly, num(0)
	}
	for i, h := range slices.Sorted(maps.Keys(hours)) {
		k := strconv.Itoa(i)
		p.names["#h"+k] = strconv.FormatInt(h, 10)
		p.values[":h"+k] = num(hours[h])
		p.set = append(p.set, fmt.Sprintf("#hourly.#h%s = if_not_exists(#hourly.#h%s, :lcZero) + :h%s", k, k, k))
	}
	p.values[":lcNow"], p.values[":lcN"], p.values[":lcNegN"] = num(now.UnixMilli()), num(n), num(-n)
	p.values[":lcOldest"] = num(slices.MinFunc(times, time.Time.Compare).UnixMilli())
	p.add = append(p.add, "#guardRoom :lcNegN")
	p.cond = "#guardUntil > :lcNow AND #guardRoom >= :lcN AND #guardFrom <= :lcOldest"
	return p
}

// admittedNext is the lifecycle lc has once a write of occurrences at times, admitted at
// now, commits.
func admittedNext(lc lcSeen, times []time.Time, now time.Time) lcSeen {
	n := int64(len(times))
	next := lc
	next.count += n
	next.ver++
	next.guard.Room -= n
	next.life.Hourly = problems.AddHourly(lc.life.Hourly, times, now)
	return next
}

// errMoved: the problem changed between the read and a second read; decide again.
var errMoved = errors.New("the problem moved while its lifecycle was decided")

// lifecyclePart decides the lifecycle part of writing batch (agg) to problem id as st
// knows it, at now. While the problem's guard admits the write, it is counted without a
// decision: its hourly buckets grow, the guard's room shrinks, under the condition that
// the guard still holds. Otherwise the write decides (problems.Decide): it sets the whole
// lifecycle, the pruned buckets and a new guard, under the condition that the problem is
// the version read; an alerting transition adds its notice to the transaction.
// idle runs the read it may need (see sharedTx.idle).
func (s *Store) lifecyclePart(ctx context.Context, id string, batch []problems.Occurrence, agg problems.Aggregate, st seen, now time.Time, idle func(func())) (lcPart, error) {
	times := make([]time.Time, len(batch))
	for i, o := range batch {
		times[i] = o.At
	}
	if admits(st, times, now) {
		p := admittedPart(times, now)
		p.next = admittedNext(st.lc, times, now)
		return p, nil
	}
	p := lcPart{
		names:  map[string]string{"#ver": attrVer, "#guardUntil": attrGuardUntil, "#guardRoom": attrGuardRoom, "#guardFrom": attrGuardFrom},
		values: map[string]types.AttributeValue{":lcOne": num(1)},
		add:    []string{"#ver :lcOne"},
	}

	prev := problems.Problem{
		ID: id, Org: st.lc.org, Env: st.lc.env, Fingerprint: st.lc.fingerprint, Count: st.lc.count,
		FirstSeen: time.UnixMilli(st.first).UTC(), LastSeen: time.UnixMilli(st.last).UTC(),
		LogGroups: st.lc.logGroups, Lifecycle: st.lc.life,
	}
	merged, notice := problems.Decide(problems.Merge(prev, st.exists, agg), st.exists, times, now)
	if notice != nil && st.exists && agg.Last.UnixMilli() < st.last {
		// The problem keeps its own title and sample, which the read left out and the
		// notice needs: read them (rare: an alert on a write that is not the newest), and
		// make sure the problem is still the one decided on.
		var (
			full map[string]types.AttributeValue
			err  error
		)
		idle(func() { full, err = s.getItem(ctx, id) })
		if err != nil {
			return lcPart{}, err
		}
		r := ddbitem.Reader{Item: full}
		if v := r.Num(attrVer); v != st.lc.ver || r.Err() != nil {
			return lcPart{}, errMoved
		}
		if prev, err = unmarshal(full); err != nil {
			return lcPart{}, err
		}
		merged, notice = problems.Decide(problems.Merge(prev, st.exists, agg), st.exists, times, now)
	}
	merged.Hourly = problems.PruneHourly(merged.Hourly, now)
	guard := problems.GuardOf(merged.Lifecycle, merged.Count, now)
	rec, err := json.Marshal(problems.RecordOf(merged.Lifecycle))
	if err != nil {
		return lcPart{}, fmt.Errorf("encode lifecycle: %w", err)
	}
	p.names["#state"], p.names["#lifecycle"], p.names["#hourly"] = attrState, attrLifecycle, attrHourly
	p.values[":lcState"], p.values[":lcRecord"], p.values[":lcHourly"] = str(string(merged.State)), str(string(rec)), hourlyAttr(merged.Hourly)
	p.values[":lcUntil"], p.values[":lcRoom"], p.values[":lcFrom"] = num(guard.Until.UnixMilli()), num(guard.Room), num(guard.From.UnixMilli())
	p.set = append(p.set, "#state = :lcState", "#lifecycle = :lcRecord", "#hourly = :lcHourly", "#guardUntil = :lcUntil", "#guardRoom = :lcRoom", "#guardFrom = :lcFrom")
	switch {
	case !st.exists: // the creation's attribute_not_exists(pk) is condition enough
	case st.lc.hasVer:
		p.values[":lcVer"] = num(st.lc.ver)
		p.cond = "#ver = :lcVer"
	default:
		p.cond = "attribute_not_exists(#ver)"
	}
	p.notice = notice
	p.next = lcSeen{
		count: merged.Count, life: merged.Lifecycle, hasLife: true, ver: st.lc.ver + 1, hasVer: true,
		guard: guard, hasGuard: true, org: merged.Org, env: merged.Env, fingerprint: merged.Fingerprint, logGroups: merged.LogGroups,
	}
	return p, nil
}

// noticePut is the Put of a notice item, written once.
func (s *Store) noticePut(n problems.Notice) (*types.Put, error) {
	body, err := json.Marshal(n)
	if err != nil {
		return nil, fmt.Errorf("encode notice: %w", err)
	}
	at := num(n.At.UnixMilli())
	return &types.Put{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			attrPK:        str(noticePrefix + n.ID),
			attrProblem:   str(n.Problem.ID),
			attrBody:      str(string(body)),
			attrAt:        at,
			attrDue:       at,
			attrSent:      &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
			attrDead:      &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
			attrAttempts:  &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
			attrExpiresAt: num(n.At.Add(noticeTTL).Unix()),
		},
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
	}, nil
}

// getItem reads a whole problem item, strongly consistent. It is a BatchGetItem of one
// key: the grouper's role reads problems with BatchGetItem only.
func (s *Store) getItem(ctx context.Context, id string) (map[string]types.AttributeValue, error) {
	key := map[string]types.AttributeValue{attrPK: str(problemPrefix + id)}
	for attempt := 1; ; attempt++ {
		out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			s.table: {Keys: []map[string]types.AttributeValue{key}, ConsistentRead: aws.Bool(true)},
		}})
		if err != nil {
			return nil, fmt.Errorf("get problem %s: %w", id, err)
		}
		if items := out.Responses[s.table]; len(items) > 0 {
			return items[0], nil
		}
		if len(out.UnprocessedKeys[s.table].Keys) == 0 {
			return nil, fmt.Errorf("get problem %s: %w", id, problems.ErrNotFound)
		}
		if attempt >= maxAttempts {
			return nil, fmt.Errorf("get problem %s: still unprocessed after %d attempts", id, attempt)
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return nil, fmt.Errorf("get problem %s: %w", id, err)
		}
	}
}

// maxActAttempts bounds the retries of an action whose problem moved meanwhile.
const maxActAttempts = 8

// Act applies an operator's action: a read, then the lifecycle and a new guard written
// under the condition that the problem is the version read (retried when a concurrent
// write moved it). A new guard is what makes concurrent counting writes decide again.
func (s *Store) Act(ctx context.Context, id string, a problems.Action) (problems.Problem, error) {
	if err := a.Check(); err != nil {
		return problems.Problem{}, err
	}
	for attempt := 1; ; attempt++ {
		item, err := s.getItem(ctx, id)
		if err != nil {
			return problems.Problem{}, err
		}
		old, err := unmarshal(item)
		if err != nil {
			return problems.Problem{}, fmt.Errorf("%s problem %s: %w", a.To, id, err)
		}
		now := s.now()
		p, err := problems.Act(old, a, now)
		if err != nil {
			return problems.Problem{}, err
		}
		rec, err := json.Marshal(problems.RecordOf(p.Lifecycle))
		if err != nil {
			return problems.Problem{}, fmt.Errorf("encode lifecycle: %w", err)
		}
		guard := problems.GuardOf(p.Lifecycle, p.Count, now)
		names := map[string]string{
			"#state": attrState, "#lifecycle": attrLifecycle, "#ver": attrVer,
			"#guardUntil": attrGuardUntil, "#guardRoom": attrGuardRoom, "#guardFrom": attrGuardFrom, "#pk": attrPK,
		}
		values := map[string]types.AttributeValue{
			":state": str(string(p.State)), ":rec": str(string(rec)),
			":until": num(guard.Until.UnixMilli()), ":room": num(guard.Room), ":from": num(guard.From.UnixMilli()), ":one": num(1),
		}
		cond := "attribute_exists(#pk) AND attribute_not_exists(#ver)"
		if _, ok := item[attrVer]; ok {
			r := ddbitem.Reader{Item: item}
			values[":ver"] = num(r.Num(attrVer))
			cond = "attribute_exists(#pk) AND #ver = :ver"
		}
		_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(s.table),
			Key:                       map[string]types.AttributeValue{attrPK: str(problemPrefix + id)},
			UpdateExpression:          aws.String("SET #state = :state, #lifecycle = :rec, #guardUntil = :until, #guardRoom = :room, #guardFrom = :from ADD #ver :one"),
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
		})
		var ccf *types.ConditionalCheckFailedException
		switch {
		case err == nil:
			s.cache.forget(id) // its guard and version moved: the next write reads it
			return p, nil
		case errors.As(err, &ccf) && attempt < maxActAttempts:
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return problems.Problem{}, fmt.Errorf("%s problem %s: %w", a.To, id, err)
			}
		default:
			return problems.Problem{}, fmt.Errorf("%s problem %s: %w", a.To, id, err)
		}
	}
}
