package stormsim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	problemsddb "github.com/aient/firehose-drain/pkg/problems/ddb"
)

// TableConfig is how the simulated DynamoDB table behaves.
type TableConfig struct {
	// Latency is the time every call takes, answer included. Default 5 ms.
	Latency time.Duration
	// Lock is how long a write holds its items: a transaction that touches an item within
	// Lock after another write of it is cancelled with TransactionConflict. Default 2 ms.
	Lock time.Duration
	// ItemWritesPerSecond throttles any single item above this many writes per second
	// (of virtual time): the transaction is cancelled with ThrottlingError. Default 1000.
	ItemWritesPerSecond int
}

// Table is a DynamoDB-like single table (hash key pk) with the operations the problems
// adapter uses: BatchGetItem, TransactWriteItems (Put, Update) and GetItem, evaluating the
// condition and update expressions the adapter writes. It implements problemsddb.API and
// is safe for any number of concurrent callers: each call applies at once, at the time it
// arrives (under the table's lock, so writes of one item are serialized), and answers
// after Latency (time.Sleep: in a synctest bubble, virtual time).
type Table struct {
	cfg   TableConfig
	start time.Time

	mu     sync.Mutex
	items  map[string]map[string]types.AttributeValue
	lockTo map[string]time.Duration // item -> end of the last write's hold
	rate   map[string]*second       // item -> writes in the current second

	// Stats.
	Calls          map[string]int
	Conflicts      int
	Throttles      int
	problemWrites  map[string]int // "problem#..." item -> applied writes
	writesByBatch  map[string]int // batch key + item -> applied writes
	occByBatch     map[string]int // batch key + problem item -> occurrences its applied writes stored
	batchOf        func(ctx context.Context) string
	MaxItemWriteHz int
	// MaxInFlight is the most calls of one batch in flight at once; MaxProblemsPerTransaction
	// the most problem items one TransactWriteItems wrote: what shows the store's
	// parallelism and shared transactions at work.
	MaxInFlight, MaxProblemsPerTransaction int
	inFlight                               map[string]int // batch key -> calls in flight
}

type second struct {
	at time.Duration // start of the second
	n  int
}

var _ problemsddb.API = (*Table)(nil)

// NewTable returns an empty table whose time starts now. batchOf names the batch a call's
// ctx works on, to count the writes of each problem item per batch.
func NewTable(cfg TableConfig, batchOf func(ctx context.Context) string) *Table {
	if cfg.Latency == 0 {
		cfg.Latency = 5 * time.Millisecond
	}
	if cfg.Lock == 0 {
		cfg.Lock = 2 * time.Millisecond
	}
	if cfg.ItemWritesPerSecond == 0 {
		cfg.ItemWritesPerSecond = 1000
	}
	return &Table{
		cfg: cfg, start: time.Now(), batchOf: batchOf,
		items: map[string]map[string]types.AttributeValue{}, lockTo: map[string]time.Duration{},
		rate: map[string]*second{}, Calls: map[string]int{},
		problemWrites: map[string]int{}, writesByBatch: map[string]int{}, occByBatch: map[string]int{},
		inFlight: map[string]int{},
	}
}

// call applies op at the time of the call, then makes the caller wait out the latency.
func (tb *Table) call(ctx context.Context, name string, op func(now time.Duration)) {
	batch := tb.batchOf(ctx)
	tb.mu.Lock()
	tb.Calls[name]++
	tb.inFlight[batch]++
	tb.MaxInFlight = max(tb.MaxInFlight, tb.inFlight[batch])
	op(time.Since(tb.start))
	tb.mu.Unlock()
	time.Sleep(tb.cfg.Latency)
	tb.mu.Lock()
	if tb.inFlight[batch]--; tb.inFlight[batch] == 0 {
		delete(tb.inFlight, batch)
	}
	tb.mu.Unlock()
}

func pkOf(item map[string]types.AttributeValue) string {
	s, _ := item["pk"].(*types.AttributeValueMemberS)
	if s == nil {
		return ""
	}
	return s.Value
}

// GetItem reads one item.
func (tb *Table) GetItem(ctx context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	var out dynamodb.GetItemOutput
	tb.call(ctx, "GetItem", func(time.Duration) {
		out.Item = clone(tb.items[pkOf(in.Key)])
	})
	return &out, nil
}

// BatchGetItem reads up to 100 items of the table (projections are ignored: whole items).
func (tb *Table) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}}
	tb.call(ctx, "BatchGetItem", func(time.Duration) {
		for table, ka := range in.RequestItems {
			for _, k := range ka.Keys {
				if it := tb.items[pkOf(k)]; it != nil {
					out.Responses[table] = append(out.Responses[table], clone(it))
				}
			}
		}
	})
	return out, nil
}

// UpdateItem applies one conditional Update as a transaction of one action, answering a
// failed condition with ConditionalCheckFailedException.
func (tb *Table) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	var err error
	batch := tb.batchOf(ctx)
	tb.call(ctx, "UpdateItem", func(now time.Duration) {
		err = tb.transact(now, batch, []types.TransactWriteItem{{Update: &types.Update{
			TableName: in.TableName, Key: in.Key, UpdateExpression: in.UpdateExpression,
			ConditionExpression: in.ConditionExpression, ExpressionAttributeNames: in.ExpressionAttributeNames,
			ExpressionAttributeValues: in.ExpressionAttributeValues,
		}}})
	})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		switch aws.ToString(tce.CancellationReasons[0].Code) {
		case "ConditionalCheckFailed":
			return nil, &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
		case "ThrottlingError":
			return nil, &types.ProvisionedThroughputExceededException{Message: aws.String("throttled")}
		}
		return nil, &types.TransactionConflictException{Message: aws.String("conflict")}
	}
	if err != nil {
		return nil, err
	}
	return &dynamodb.UpdateItemOutput{}, nil
}

// Query is not simulated.
func (tb *Table) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return nil, fmt.Errorf("stormsim: Query is not simulated")
}

// Scan is not simulated.
func (tb *Table) Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	return nil, fmt.Errorf("stormsim: Scan is not simulated")
}

// TransactWriteItems applies every action or none. An action is cancelled when its item
// is held by a write less than Lock ago (TransactionConflict), when its item is over its
// write rate (ThrottlingError), or when its condition fails (ConditionalCheckFailed).
func (tb *Table) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	var err error
	batch := tb.batchOf(ctx)
	tb.call(ctx, "TransactWriteItems", func(now time.Duration) {
		err = tb.transact(now, batch, in.TransactItems)
	})
	if err != nil {
		return nil, err
	}
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

type action struct {
	pk      string
	put     map[string]types.AttributeValue
	update  *types.Update
	cond    *string
	names   map[string]string
	values  map[string]types.AttributeValue
	allOld  bool
	current map[string]types.AttributeValue
}

func (tb *Table) transact(now time.Duration, batch string, items []types.TransactWriteItem) error {
	acts := make([]action, len(items))
	for i, it := range items {
		switch {
		case it.Put != nil:
			acts[i] = action{
				pk: pkOf(it.Put.Item), put: it.Put.Item, cond: it.Put.ConditionExpression,
				names: it.Put.ExpressionAttributeNames, values: it.Put.ExpressionAttributeValues,
				allOld: it.Put.ReturnValuesOnConditionCheckFailure == types.ReturnValuesOnConditionCheckFailureAllOld,
			}
		case it.Update != nil:
			acts[i] = action{
				pk: pkOf(it.Update.Key), update: it.Update, cond: it.Update.ConditionExpression,
				names: it.Update.ExpressionAttributeNames, values: it.Update.ExpressionAttributeValues,
				allOld: it.Update.ReturnValuesOnConditionCheckFailure == types.ReturnValuesOnConditionCheckFailureAllOld,
			}
		default:
			return fmt.Errorf("stormsim: only Put and Update are simulated")
		}
		acts[i].current = tb.items[acts[i].pk]
	}
	reasons := make([]types.CancellationReason, len(acts))
	cancelled := false
	for i, a := range acts {
		code := "None"
		var old map[string]types.AttributeValue
		r := tb.rateOf(a.pk, now)
		switch {
		case tb.lockTo[a.pk] > now:
			code = "TransactionConflict"
			tb.Conflicts++
		case r.n >= tb.cfg.ItemWritesPerSecond:
			code = "ThrottlingError"
			tb.Throttles++
		case a.cond != nil && !evalCond(*a.cond, a.names, a.values, a.current):
			code = "ConditionalCheckFailed"
			if a.allOld {
				old = clone(a.current)
			}
		}
		r.n++ // every attempted write consumes capacity
		if code != "None" {
			cancelled = true
		}
		reasons[i] = types.CancellationReason{Code: aws.String(code), Item: old}
	}
	if cancelled {
		return &types.TransactionCanceledException{Message: aws.String("Transaction cancelled"), CancellationReasons: reasons}
	}
	// A shared transaction carries the parts of several problems, each its occurrence
	// puts first, then its problem's update (the adapter's order): the puts before a
	// problem's update are that problem's.
	puts, problemsWritten := 0, 0
	for _, a := range acts {
		switch {
		case strings.HasPrefix(a.pk, "problem#"):
			tb.occByBatch[batch+"\x00"+a.pk] += puts
			puts = 0
			problemsWritten++
		case strings.HasPrefix(a.pk, "occurrence#"):
			puts++
		}
	}
	tb.MaxProblemsPerTransaction = max(tb.MaxProblemsPerTransaction, problemsWritten)
	for _, a := range acts {
		next := clone(a.put)
		if a.update != nil {
			next = applyUpdate(aws.ToString(a.update.UpdateExpression), a.names, a.values, a.current)
			next["pk"] = &types.AttributeValueMemberS{Value: a.pk}
		}
		tb.items[a.pk] = next
		tb.lockTo[a.pk] = now + tb.cfg.Lock
		if strings.HasPrefix(a.pk, "problem#") {
			tb.problemWrites[a.pk]++
			tb.writesByBatch[batch+"\x00"+a.pk]++
		}
	}
	return nil
}

func (tb *Table) rateOf(pk string, now time.Duration) *second {
	r := tb.rate[pk]
	if r == nil || now-r.at >= time.Second {
		r = &second{at: now - now%time.Second}
		tb.rate[pk] = r
	}
	return r
}

// BatchWrite is what one batch wrote to one problem item.
type BatchWrite struct {
	Batch, Problem string
	// Writes is how many writes of the problem item were applied; Occurrences is how many
	// occurrence items those writes stored with it; Events is how many of the batch's
	// events are of the problem (Storm.Run fills it in: a redelivered batch stores fewer
	// occurrences than it has events).
	Writes, Occurrences, Events int
}

// BatchWrites lists the problem writes of every batch.
func (tb *Table) BatchWrites() []BatchWrite {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	out := make([]BatchWrite, 0, len(tb.writesByBatch))
	for k, n := range tb.writesByBatch {
		b, p, _ := strings.Cut(k, "\x00")
		out = append(out, BatchWrite{Batch: b, Problem: p, Writes: n, Occurrences: tb.occByBatch[k]})
	}
	return out
}

// Item returns a copy of the item pk (nil when absent).
func (tb *Table) Item(pk string) map[string]types.AttributeValue {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return clone(tb.items[pk])
}

// Keys returns the item keys with prefix.
func (tb *Table) Keys(prefix string) []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var out []string
	for k := range tb.items {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func clone(m map[string]types.AttributeValue) map[string]types.AttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// evalCond evaluates the conditions the adapter writes: terms joined by AND, each
// attribute_exists(#n), attribute_not_exists(#n), or #n OP :v with OP one of = <= < >= >.
func evalCond(expr string, names map[string]string, values, item map[string]types.AttributeValue) bool {
	if strings.Contains(expr, " OR ") || strings.Contains(expr, "NOT ") {
		panic("stormsim: only conjunctions are simulated: " + expr)
	}
	for _, term := range strings.Split(expr, " AND ") {
		// Conjunctions only, so grouping parentheses can go.
		term = strings.TrimSpace(term)
		for strings.HasPrefix(term, "(") {
			term = term[1:]
		}
		for strings.Count(term, ")") > strings.Count(term, "(") {
			term = strings.TrimSuffix(term, ")")
		}
		switch {
		case strings.HasPrefix(term, "attribute_exists("):
			if item[names[strings.TrimSuffix(strings.TrimPrefix(term, "attribute_exists("), ")")]] == nil {
				return false
			}
		case strings.HasPrefix(term, "attribute_not_exists("):
			if item != nil && item[names[strings.TrimSuffix(strings.TrimPrefix(term, "attribute_not_exists("), ")")]] != nil {
				return false
			}
		default:
			f := strings.Fields(term)
			if len(f) != 3 {
				panic("stormsim: condition term not simulated: " + term)
			}
			got, ok := item[names[f[0]]].(*types.AttributeValueMemberN)
			want, ok2 := values[f[2]].(*types.AttributeValueMemberN)
			if !ok || !ok2 {
				return false // comparisons with a missing attribute are false
			}
			a, b := mustInt(got.Value), mustInt(want.Value)
			var r bool
			switch f[1] {
			case "=":
				r = a == b
			case "<=":
				r = a <= b
			case "<":
				r = a < b
			case ">=":
				r = a >= b
			case ">":
				r = a > b
			default:
				panic("stormsim: operator not simulated: " + f[1])
			}
			if !r {
				return false
			}
		}
	}
	return true
}

// applyUpdate applies "ADD #a :x, #b :y SET #c = :z, #m.#k = if_not_exists(#m.#k, :0) + :n"
// to a copy of item: ADD adds to numbers and unites string sets; SET assigns a value, a path,
// if_not_exists(path, value), or one of those plus or minus another. Paths are names
// joined by dots (map members).
func applyUpdate(expr string, names map[string]string, values, item map[string]types.AttributeValue) map[string]types.AttributeValue {
	out := clone(item)
	if out == nil {
		out = map[string]types.AttributeValue{}
	}
	add, set := "", ""
	switch {
	case strings.HasPrefix(expr, "ADD "):
		add, set, _ = strings.Cut(strings.TrimPrefix(expr, "ADD "), " SET ")
	case strings.HasPrefix(expr, "SET "):
		set = strings.TrimPrefix(expr, "SET ")
	default:
		panic("stormsim: update not simulated: " + expr)
	}
	if strings.Contains(set, " REMOVE ") || strings.Contains(add, " REMOVE ") {
		panic("stormsim: REMOVE not simulated: " + expr)
	}
	e := expression{names: names, values: values}
	for _, part := range splitTop(add) {
		f := strings.Fields(part)
		name, v := names[f[0]], values[f[1]]
		switch v := v.(type) {
		case *types.AttributeValueMemberN:
			old := int64(0)
			if n, ok := out[name].(*types.AttributeValueMemberN); ok {
				old = mustInt(n.Value)
			}
			out[name] = num(old + mustInt(v.Value))
		case *types.AttributeValueMemberSS:
			var all []string
			if ss, ok := out[name].(*types.AttributeValueMemberSS); ok {
				all = append(all, ss.Value...)
			}
			for _, s := range v.Value {
				if !slices.Contains(all, s) {
					all = append(all, s)
				}
			}
			out[name] = &types.AttributeValueMemberSS{Value: all}
		default:
			panic("stormsim: ADD of this type not simulated")
		}
	}
	// Every right-hand side reads the item as it was before the update.
	type assign struct {
		path []string
		v    types.AttributeValue
	}
	var assigns []assign
	for _, part := range splitTop(set) {
		lhs, rhs, ok := strings.Cut(part, " = ")
		if !ok {
			panic("stormsim: SET clause not simulated: " + part)
		}
		assigns = append(assigns, assign{e.path(strings.TrimSpace(lhs)), e.value(strings.TrimSpace(rhs), item)})
	}
	for _, a := range assigns {
		setPath(out, a.path, a.v)
	}
	return out
}

type expression struct {
	names  map[string]string
	values map[string]types.AttributeValue
}

func (e expression) path(p string) []string {
	parts := strings.Split(p, ".")
	for i, n := range parts {
		name, ok := e.names[n]
		if !ok {
			panic("stormsim: unknown name in path " + p)
		}
		parts[i] = name
	}
	return parts
}

// value evaluates a SET operand against item.
func (e expression) value(x string, item map[string]types.AttributeValue) types.AttributeValue {
	for _, op := range []string{" + ", " - "} {
		if l, r, ok := cutTop(x, op); ok {
			a, b := e.value(l, item), e.value(r, item)
			an, ok1 := a.(*types.AttributeValueMemberN)
			bn, ok2 := b.(*types.AttributeValueMemberN)
			if !ok1 || !ok2 {
				panic("stormsim: arithmetic on a non-number: " + x)
			}
			if op == " + " {
				return num(mustInt(an.Value) + mustInt(bn.Value))
			}
			return num(mustInt(an.Value) - mustInt(bn.Value))
		}
	}
	switch {
	case strings.HasPrefix(x, "if_not_exists(") && strings.HasSuffix(x, ")"):
		args := splitTop(strings.TrimSuffix(strings.TrimPrefix(x, "if_not_exists("), ")"))
		if len(args) != 2 {
			panic("stormsim: if_not_exists takes two operands: " + x)
		}
		if v := getPath(item, e.path(args[0])); v != nil {
			return v
		}
		return e.value(args[1], item)
	case strings.HasPrefix(x, ":"):
		v, ok := e.values[x]
		if !ok {
			panic("stormsim: unknown value " + x)
		}
		return v
	case strings.HasPrefix(x, "#"):
		v := getPath(item, e.path(x))
		if v == nil {
			panic("stormsim: SET from a missing attribute " + x)
		}
		return v
	}
	panic("stormsim: operand not simulated: " + x)
}

func getPath(item map[string]types.AttributeValue, path []string) types.AttributeValue {
	var v types.AttributeValue = &types.AttributeValueMemberM{Value: item}
	for _, p := range path {
		m, ok := v.(*types.AttributeValueMemberM)
		if !ok || m.Value == nil {
			return nil
		}
		if v = m.Value[p]; v == nil {
			return nil
		}
	}
	return v
}

// setPath sets path in item, copying the maps on the way (they may be shared with the
// stored item).
func setPath(item map[string]types.AttributeValue, path []string, v types.AttributeValue) {
	if len(path) == 1 {
		item[path[0]] = v
		return
	}
	m, ok := item[path[0]].(*types.AttributeValueMemberM)
	if !ok {
		panic("stormsim: SET of a member of a missing map " + strings.Join(path, "."))
	}
	inner := clone(m.Value)
	if inner == nil {
		inner = map[string]types.AttributeValue{}
	}
	setPath(inner, path[1:], v)
	item[path[0]] = &types.AttributeValueMemberM{Value: inner}
}

// splitTop splits s on commas outside parentheses.
func splitTop(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// cutTop is strings.Cut on the first sep outside parentheses.
func cutTop(s, sep string) (string, string, bool) {
	depth := 0
	for i := 0; i+len(sep) <= len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		}
		if depth == 0 && s[i:i+len(sep)] == sep {
			return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+len(sep):]), true
		}
	}
	return "", "", false
}

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func mustInt(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		panic("stormsim: not an integer: " + s)
	}
	return n
}
