package otlplogs

import (
	"crypto/sha256"
	"encoding/hex"
	"unicode/utf8"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/aient/firehose-drain/internal/jsonscan"
	"github.com/aient/firehose-drain/pkg/cwpayload"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/grouping"
)

// The http/protobuf body written directly with protowire: the same
// opentelemetry.proto.logs.v1.LogsData as the official types marshal (the tests decode it
// with them and compare), without a message per record. Each (account, region, group,
// stream) of a batch has its Resource encoded once; the log records are appended, as they
// are visited, to one buffer of the batch, in runs of one resource each (a record's
// events are one run, unless their accounts or regions alternate), and the flush writes
// each ResourceLogs around its runs. No record is kept as a value: a batch is its bytes,
// and its buffers keep their size from batch to batch.
//
// Field numbers (opentelemetry/proto/logs/v1/logs.proto, common/v1, resource/v1):
//
//	LogsData.resource_logs 1; ResourceLogs.resource 1, .scope_logs 2; Resource.attributes 1
//	ScopeLogs.scope 1, .log_records 2; InstrumentationScope.name 1, .attributes 3
//	LogRecord.time_unix_nano 1 (fixed64), .severity_number 2, .severity_text 3, .body 5,
//	  .attributes 6, .observed_time_unix_nano 11 (fixed64)
//	KeyValue.key 1, .value 2; AnyValue.string_value 1, .array_value 5; ArrayValue.values 1
const (
	fLogsDataResourceLogs = 1
	fResourceLogsResource = 1
	fResourceLogsScope    = 2
	fResourceAttributes   = 1
	fScopeLogsScope       = 1
	fScopeLogsRecords     = 2
	fScopeName            = 1
	fScopeAttributes      = 3
	fRecordTime           = 1
	fRecordSeverity       = 2
	fRecordSeverityText   = 3
	fRecordBody           = 5
	fRecordAttributes     = 6
	fRecordObserved       = 11
	fKVKey                = 1
	fKVValue              = 2
	fAnyString            = 1
	fAnyArray             = 5
	fArrayValues          = 1
)

// wireRes is one resource of a batch: its Resource field and where its records are.
type wireRes struct {
	res         []byte // ResourceLogs.resource, tag included
	size        int    // its ScopeLogs.log_records' bytes, tags included
	first, last int32  // its first and last run in encoder.runs
}

// wireRun is a run of log records of one resource in encoder.wrecs.
type wireRun struct {
	start, end int32
	next       int32 // the resource's next run, -1: none
}

// scopeField is ScopeLogs.scope, the same for every batch.
var scopeField = func() []byte {
	var scope []byte
	scope = appendStrField(scope, fScopeName, ScopeName)
	scope = appendKV(scope, fScopeAttributes, AttrEncodingFormat, EncodingCloudWatch)
	return appendBytesField(nil, fScopeLogsScope, scope)
}()

func appendBytesField(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendStrField(b []byte, num protowire.Number, v string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(len(v)))
	return append(b, v...)
}

// anyStrSize is the size of AnyValue{string_value: n bytes}.
func anyStrSize(n int) int { return 1 + protowire.SizeVarint(uint64(n)) + n }

// kvSize is the size of KeyValue{key, value: AnyValue{string_value: n bytes}}.
func kvSize(key string, n int) int {
	a := anyStrSize(n)
	return 1 + protowire.SizeVarint(uint64(len(key))) + len(key) + 1 + protowire.SizeVarint(uint64(a)) + a
}

// fieldSize is the size of a length-delimited field of n bytes (one-byte tag).
func fieldSize(n int) int { return 1 + protowire.SizeVarint(uint64(n)) + n }

// appendKV appends field num holding KeyValue{key, AnyValue{string_value: v}}.
func appendKV[S string | []byte](b []byte, num protowire.Number, key string, v S) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(kvSize(key, len(v))))
	b = appendStrField(b, fKVKey, key)
	b = protowire.AppendTag(b, fKVValue, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(anyStrSize(len(v))))
	b = protowire.AppendTag(b, fAnyString, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(len(v)))
	return append(b, v...)
}

// appendArrayKV appends field num holding KeyValue{key, AnyValue{array_value: [v]}}.
func appendArrayKV(b []byte, num protowire.Number, key, v string) []byte {
	arr := fieldSize(anyStrSize(len(v))) // ArrayValue{values: [AnyValue{string}]}
	val := fieldSize(arr)                // AnyValue{array_value}
	kv := fieldSize(len(key)) + fieldSize(val)
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(kv))
	b = appendStrField(b, fKVKey, key)
	b = protowire.AppendTag(b, fKVValue, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(val))
	b = protowire.AppendTag(b, fAnyArray, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(arr))
	b = protowire.AppendTag(b, fArrayValues, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(anyStrSize(len(v))))
	return appendStrField(b, fAnyString, v)
}

// wireResource returns the batch's resource of key k, encoding its Resource when new.
func (e *encoder) wireResource(k resKey) *wireRes {
	if i, ok := e.wkeys[k]; ok {
		return e.wres[i]
	}
	if e.nres == len(e.wres) {
		e.wres = append(e.wres, &wireRes{})
	}
	r := e.wres[e.nres]
	e.wkeys[k] = e.nres
	e.nres++
	k = resKey{jsonscan.ValidText(k.account), jsonscan.ValidText(k.region), jsonscan.ValidText(k.group), jsonscan.ValidText(k.stream)}
	attrs := e.wattrs[:0]
	resourceAttributes(k, e.s.d, func(key, v string, array bool) {
		if array {
			attrs = appendArrayKV(attrs, fResourceAttributes, key, v)
		} else {
			attrs = appendKV(attrs, fResourceAttributes, key, jsonscan.ValidText(v))
		}
	})
	e.wattrs = attrs
	r.res = appendBytesField(r.res[:0], fResourceLogsResource, attrs)
	r.size, r.first, r.last = 0, -1, -1
	e.size += len(r.res) + len(scopeField) + 16
	return r
}

// visitWire encodes one event into its resource's records.
func (e *encoder) visitWire(v *cwpayload.View) {
	s := e.s
	cfg := &s.x.cfg
	msg := v.Message
	if !v.MessageUTF8 && !utf8.Valid(msg) {
		e.fix = jsonscan.AppendValid(e.fix[:0], msg)
		msg = e.fix
	}
	var typ, emsg string
	var stack []byte
	if v.Level.IsErrorClass() {
		// The message is valid for the call: the chain's strings (parts of it, or
		// unescaped) are written before it returns.
		if chain := grouping.Exceptions(unsafe.String(unsafe.SliceData(msg), len(msg))); len(chain) > 0 {
			typ, emsg = chain[0].Type, chain[0].Message
			e.stack = appendStack(e.stack[:0], chain)
			stack = e.stack
		}
	}
	rid := v.RequestID
	sev := severityFields(v.Level)

	// The record's size, field by field.
	n := 0
	if v.Timestamp > 0 {
		n += 1 + 8
	}
	n += len(sev)
	n += fieldSize(anyStrSize(len(msg)))
	n += len(uidAttrHead) + 2*sha256.Size
	if rid != nil {
		n += fieldSize(kvSize(AttrInvocationID, len(rid)))
	}
	if typ != "" {
		n += fieldSize(kvSize(AttrExceptionType, len(typ)))
	}
	if emsg != "" {
		n += fieldSize(kvSize(AttrExceptionMessage, len(emsg)))
	}
	if len(stack) > 0 {
		n += fieldSize(kvSize(AttrExceptionStack, len(stack)))
	}
	n += 1 + 8 // observed
	need := fieldSize(n)

	if e.nrec >= cfg.MaxBatchRecords || (e.nrec > 0 && e.size+need > cfg.MaxBatchBytes) {
		e.flush()
	}
	key := resKey{v.Account, v.Region, v.LogGroup, v.LogStream}
	r := e.lastW
	// (The resource's strings are made valid UTF-8 where it is encoded.)
	if r == nil || key != e.last {
		r = e.wireResource(key)
		e.last, e.lastW = key, r
	}
	if r.last < 0 || e.runs[r.last].end != int32(len(e.wrecs)) {
		// A new run: the resource's records so far (if any) end elsewhere.
		e.runs = append(e.runs, wireRun{start: int32(len(e.wrecs)), end: int32(len(e.wrecs)), next: -1})
		i := int32(len(e.runs) - 1)
		if r.last >= 0 {
			e.runs[r.last].next = i
		} else {
			r.first = i
		}
		r.last = i
	}
	b := e.wrecs
	start := len(b)
	b = protowire.AppendTag(b, fScopeLogsRecords, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(n))
	if v.Timestamp > 0 {
		b = protowire.AppendTag(b, fRecordTime, protowire.Fixed64Type)
		b = protowire.AppendFixed64(b, uint64(v.Timestamp)*1e6)
	}
	b = append(b, sev...)
	b = protowire.AppendTag(b, fRecordBody, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(anyStrSize(len(msg))))
	b = protowire.AppendTag(b, fAnyString, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(len(msg)))
	b = append(b, msg...)
	b = append(b, uidAttrHead...)
	b = e.appendUID(b, v)
	if rid != nil {
		if len(rid) != e.ridLen || e.ridHead == nil {
			e.ridHead, e.ridLen = appendKVHead(e.ridHead[:0], AttrInvocationID, len(rid)), len(rid)
		}
		b = append(b, e.ridHead...)
		b = append(b, rid...)
	}
	if typ != "" {
		b = appendKV(b, fRecordAttributes, AttrExceptionType, typ)
	}
	if emsg != "" {
		b = appendKV(b, fRecordAttributes, AttrExceptionMessage, emsg)
	}
	if len(stack) > 0 {
		b = appendKV(b, fRecordAttributes, AttrExceptionStack, stack)
	}
	b = protowire.AppendTag(b, fRecordObserved, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, s.observed)
	e.wrecs = b
	e.runs[r.last].end = int32(len(b))
	r.size += len(b) - start
	e.nrec++
	e.size += need
}

// flushWire writes the batch's LogsData into a pooled buffer.
func (e *encoder) flushWire() []byte {
	out := e.s.x.getBuf()
	for _, r := range e.wres[:e.nres] {
		scope := len(scopeField) + r.size
		out = protowire.AppendTag(out, fLogsDataResourceLogs, protowire.BytesType)
		out = protowire.AppendVarint(out, uint64(len(r.res)+fieldSize(scope)))
		out = append(out, r.res...)
		out = protowire.AppendTag(out, fResourceLogsScope, protowire.BytesType)
		out = protowire.AppendVarint(out, uint64(scope))
		out = append(out, scopeField...)
		for i := r.first; i >= 0; i = e.runs[i].next {
			out = append(out, e.wrecs[e.runs[i].start:e.runs[i].end]...)
		}
	}
	return out
}

// resetWire empties the batch, keeping the buffers.
func (e *encoder) resetWire() {
	e.wrecs, e.runs = e.wrecs[:0], e.runs[:0]
	e.nres = 0
	clear(e.wkeys)
	e.lastW = nil
}

// appendUID appends the event's identity (the dedup's: event.IdentityHasher) in hex.
func (e *encoder) appendUID(b []byte, v *cwpayload.View) []byte {
	sum := e.ids.Sum(e.s.d.Drain, v.Account, v.LogGroup, v.LogStream, v.ID, v.IDIsNumber)
	return hex.AppendEncode(b, sum[:])
}

// appendKVHead appends LogRecord.attributes' KeyValue{key, AnyValue{string_value}} for a
// value of n bytes, up to the value's bytes: what every record's attribute of that key and
// length starts with.
func appendKVHead(b []byte, key string, n int) []byte {
	b = protowire.AppendTag(b, fRecordAttributes, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(kvSize(key, n)))
	b = appendStrField(b, fKVKey, key)
	b = protowire.AppendTag(b, fKVValue, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(anyStrSize(n)))
	b = protowire.AppendTag(b, fAnyString, protowire.BytesType)
	return protowire.AppendVarint(b, uint64(n))
}

// uidAttrHead is the head of every record's log.record.uid attribute (64 hex digits).
var uidAttrHead = appendKVHead(nil, AttrLogRecordUID, 2*sha256.Size)

// The LogRecord.severity_number and .severity_text fields of each level (Severity), as
// every record of that level starts them.
var sevDebug, sevInfo, sevWarn, sevError, sevFatal = sevField(event.Debug), sevField(event.Info),
	sevField(event.Warn), sevField(event.Error), sevField(event.Fatal)

func sevField(l event.Level) []byte {
	num, text := Severity(l)
	var b []byte
	if num != 0 {
		b = protowire.AppendTag(b, fRecordSeverity, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(num))
	}
	if text != "" {
		b = appendStrField(b, fRecordSeverityText, text)
	}
	return b
}

// severityFields returns the severity fields of a record of level l (none when unknown).
func severityFields(l event.Level) []byte {
	switch l {
	case event.Debug:
		return sevDebug
	case event.Info:
		return sevInfo
	case event.Warn:
		return sevWarn
	case event.Error:
		return sevError
	case event.Fatal:
		return sevFatal
	}
	return nil
}
