package otlplogs

import (
	"crypto/sha256"
	"unicode/utf8"
	"unsafe"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/aient/firehose-drain/internal/jsonscan"
	"github.com/aient/firehose-drain/pkg/cwpayload"
	"github.com/aient/firehose-drain/pkg/event"
)

// resKey is what one ResourceLogs stands for within a delivery (the drain is the
// delivery's).
type resKey struct{ account, region, group, stream string }

// encoder turns visited events into one export request at a time, with the official OTLP
// types (logs.v1.LogsData, wire-identical to ExportLogsServiceRequest). Its messages,
// values and text arena are reused from batch to batch, so that encoding a delivery costs
// a few allocations per batch rather than several per event. One decoding goroutine uses
// an encoder at a time.
type encoder struct {
	s *Session

	data  logspb.LogsData
	byKey map[resKey]*logspb.ScopeLogs
	last  resKey
	lastS *logspb.ScopeLogs

	// Reused messages: the first n of each are in use by the current batch.
	rls    []*logspb.ResourceLogs
	nrl    int
	recs   []*logspb.LogRecord
	nrec   int
	vals   []*commonpb.AnyValue
	nval   int
	strs   []*commonpb.AnyValue_StringValue
	nstr   int
	kvs    []*commonpb.KeyValue
	nkv    int
	kvPtrs []*commonpb.KeyValue // backing of the records' attribute slices
	nptr   int

	// arena holds the batch's strings (messages, uids); reset after each flush, when no
	// message of the batch refers to it any more.
	arena []byte
	size  int // the batch's estimated encoded size

	ids event.IdentityHasher // log.record.uid

	// The http/protobuf batch (wire.go): the resources in order of first record.
	wkeys   map[resKey]int
	wres    []*wireRes
	nres    int
	lastW   *wireRes
	wattrs  []byte
	wrecs   []byte    // the batch's log records (ScopeLogs.log_records), in runs
	runs    []wireRun // the runs of wrecs
	fix     []byte    // a message made valid UTF-8
	stack   []byte    // an error-class record's exception.stacktrace
	ridHead []byte    // the head of faas.invocation_id for a request id of ridLen bytes
	ridLen  int
}

func newEncoder() *encoder {
	return &encoder{byKey: map[resKey]*logspb.ScopeLogs{}, wkeys: map[resKey]int{}}
}

// Visit encodes one event; the batch goes out when it is full.
func (e *encoder) Visit(v *cwpayload.View) {
	s := e.s
	if s.failed.Load() {
		return // the delivery is answered 503 and retried whole: stop encoding
	}
	if s.x.cfg.Protocol != ProtocolJSON {
		e.visitWire(v)
		return
	}
	need := len(v.Message) + 2*sha256.Size + 64
	if e.nrec >= s.x.cfg.MaxBatchRecords || (e.nrec > 0 && (e.size+need+128 > s.x.cfg.MaxBatchBytes || len(e.arena)+need > cap(e.arena))) {
		e.flush()
	}
	key := resKey{v.Account, v.Region, v.LogGroup, v.LogStream}
	sl := e.lastS
	if sl == nil || key != e.last {
		sl = e.scopeLogs(key)
		e.last, e.lastS = key, sl
	}
	lr := e.record()
	if v.Timestamp > 0 {
		lr.TimeUnixNano = uint64(v.Timestamp) * 1e6
	}
	lr.ObservedTimeUnixNano = s.observed
	lr.SeverityNumber, lr.SeverityText = Severity(v.Level)

	raw := v.Message
	if !v.MessageUTF8 && !utf8.Valid(raw) {
		e.fix = jsonscan.AppendValid(e.fix[:0], raw)
		raw = e.fix
	}
	msg := e.keep(raw)
	lr.Body = e.str(msg)
	attrs := e.attrs(6)
	attrs = append(attrs, e.kv(AttrLogRecordUID, e.str(e.uid(v))))
	if v.RequestID != nil {
		attrs = append(attrs, e.kv(AttrInvocationID, e.str(e.keep(v.RequestID))))
	}
	if v.Level.IsErrorClass() {
		typ, m, stack := Exception(msg)
		if typ != "" {
			attrs = append(attrs, e.kv(AttrExceptionType, e.str(typ)))
		}
		if m != "" {
			attrs = append(attrs, e.kv(AttrExceptionMessage, e.str(m)))
		}
		if stack != "" {
			attrs = append(attrs, e.kv(AttrExceptionStack, e.str(stack)))
		}
		e.size += len(typ) + len(m) + len(stack) + 64
	}
	lr.Attributes = attrs
	sl.LogRecords = append(sl.LogRecords, lr)
	e.size += need
}

// End leaves the encoder, and its batch in progress, to the next record.
func (e *encoder) End() { e.s.idle(e) }

// flush marshals the batch, hands it to the session and resets the encoder.
func (e *encoder) flush() {
	if e.nrec == 0 {
		return
	}
	s := e.s
	n := e.nrec
	var buf []byte
	var err error
	if s.x.cfg.Protocol == ProtocolJSON {
		buf, err = protojson.MarshalOptions{UseEnumNumbers: true}.Marshal(&e.data)
	} else {
		buf = e.flushWire()
	}
	e.reset()
	if err != nil {
		s.fail(err) // cannot happen with these types; a delivery that hits it is retried
		return
	}
	s.submit(buf, n)
}

// reset empties the batch, keeping every message for reuse.
func (e *encoder) reset() {
	for _, rl := range e.rls[:e.nrl] {
		rl.ScopeLogs[0].LogRecords = rl.ScopeLogs[0].LogRecords[:0]
	}
	e.data.ResourceLogs = e.data.ResourceLogs[:0]
	clear(e.byKey)
	e.last, e.lastS = resKey{}, nil
	e.nrl, e.nrec, e.nval, e.nstr, e.nkv, e.nptr = 0, 0, 0, 0, 0, 0
	e.arena = e.arena[:0]
	e.size = 0
	e.resetWire()
}

// scopeLogs returns the batch's ScopeLogs for key, adding its ResourceLogs when new.
func (e *encoder) scopeLogs(k resKey) *logspb.ScopeLogs {
	if sl, ok := e.byKey[k]; ok {
		return sl
	}
	if e.nrl == len(e.rls) {
		e.rls = append(e.rls, &logspb.ResourceLogs{
			Resource: &resourcepb.Resource{},
			ScopeLogs: []*logspb.ScopeLogs{{Scope: &commonpb.InstrumentationScope{
				Name:       ScopeName,
				Attributes: []*commonpb.KeyValue{{Key: AttrEncodingFormat, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: EncodingCloudWatch}}}},
			}}},
		})
	}
	rl := e.rls[e.nrl]
	e.nrl++
	r := rl.Resource
	key := k
	k = resKey{jsonscan.ValidText(k.account), jsonscan.ValidText(k.region), jsonscan.ValidText(k.group), jsonscan.ValidText(k.stream)}
	r.Attributes = r.Attributes[:0]
	resourceAttributes(k, e.s.d, func(key, v string, array bool) {
		if array {
			r.Attributes = append(r.Attributes, e.kv(key, strArray(v)))
		} else {
			r.Attributes = append(r.Attributes, e.kv(key, e.str(v)))
		}
	})
	e.size += 256 + len(k.group) + len(k.stream)
	e.data.ResourceLogs = append(e.data.ResourceLogs, rl)
	sl := rl.ScopeLogs[0]
	e.byKey[key] = sl
	return sl
}

// strArray is a string array value of one element (a resource's, so rare: not reused).
func strArray(s string) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{
		Values: []*commonpb.AnyValue{{Value: &commonpb.AnyValue_StringValue{StringValue: s}}},
	}}}
}

func (e *encoder) record() *logspb.LogRecord {
	if e.nrec == len(e.recs) {
		e.recs = append(e.recs, &logspb.LogRecord{})
	}
	lr := e.recs[e.nrec]
	e.nrec++
	lr.TimeUnixNano, lr.ObservedTimeUnixNano = 0, 0
	lr.Attributes = nil
	return lr
}

func (e *encoder) str(s string) *commonpb.AnyValue {
	if e.nval == len(e.vals) {
		e.vals = append(e.vals, &commonpb.AnyValue{})
		e.strs = append(e.strs, &commonpb.AnyValue_StringValue{})
	}
	v, sv := e.vals[e.nval], e.strs[e.nval]
	e.nval++
	sv.StringValue = s
	v.Value = sv
	return v
}

func (e *encoder) kv(k string, v *commonpb.AnyValue) *commonpb.KeyValue {
	if e.nkv == len(e.kvs) {
		e.kvs = append(e.kvs, &commonpb.KeyValue{})
	}
	kv := e.kvs[e.nkv]
	e.nkv++
	kv.Key, kv.Value = k, v
	return kv
}

// attrs returns an empty attribute slice with room for n, cut from the shared backing.
func (e *encoder) attrs(n int) []*commonpb.KeyValue {
	if e.nptr+n > len(e.kvPtrs) {
		// The old backing stays with the records that use it until the flush.
		e.kvPtrs = make([]*commonpb.KeyValue, max(2*len(e.kvPtrs), 1024*n))
		e.nptr = 0
	}
	a := e.kvPtrs[e.nptr : e.nptr : e.nptr+n]
	e.nptr += n
	return a
}

// keep copies b into the arena and returns it as a string over the arena.
func (e *encoder) keep(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if cap(e.arena)-len(e.arena) < len(b) {
		return string(b) // larger than a whole batch: its own allocation
	}
	start := len(e.arena)
	e.arena = append(e.arena, b...)
	// The arena is not written again before the flush that ends the batch.
	return unsafe.String(unsafe.SliceData(e.arena[start:]), len(b))
}

// uid is the event's identity, the same hash as the dedup's (event.IdentityHasher), hex in
// the arena.
func (e *encoder) uid(v *cwpayload.View) string {
	var x [2 * sha256.Size]byte
	return e.keep(e.appendUID(x[:0], v))
}

// resourceAttributes visits the attributes of the resource of key k for drain d, in the
// order both encoders write them (the official types' and the wire encoder's): values that
// are arrays of one string say so; empty values are skipped.
func resourceAttributes(k resKey, d Delivery, visit func(key, v string, array bool)) {
	add := func(key, v string) {
		if v != "" {
			visit(key, v, false)
		}
	}
	add(AttrCloudProvider, "aws")
	add(AttrCloudAccountID, k.account)
	add(AttrCloudRegion, k.region)
	visit(AttrLogGroupNames, k.group, true)
	visit(AttrLogStreamNames, k.stream, true)
	add(AttrServiceName, ServiceName(k.group))
	if fn, ok := LambdaFunction(k.group); ok {
		add(AttrCloudPlatform, PlatformLambda)
		add(AttrFaaSName, fn)
		add(AttrFaaSVersion, LambdaVersion(k.stream))
		add(AttrFaaSInstance, k.stream)
	}
	add(AttrDeploymentEnv, d.Env)
	add(AttrOrg, d.Org)
	add(AttrDrainID, d.Drain)
}
