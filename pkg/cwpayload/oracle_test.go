package cwpayload

import (
	"bytes"
	stdgzip "compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aient/firehose-drain/internal/jsonscan"
	"github.com/aient/firehose-drain/internal/testkit/jsonref"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/invocation"
	"github.com/aient/firehose-drain/pkg/level"
	"github.com/aient/firehose-drain/pkg/stitch"
)

// The reference decoder: the standard library (encoding/base64, compress/gzip,
// encoding/json into typed values) reading the CloudWatch Logs shape of docs/design.md
// section 4. The differential fuzz targets hold the hand-written decoder to it: the same
// records accepted, the same events counted, the same error-class events with the same
// fields.

// refResult is what the reference makes of one record.
type refResult struct {
	err           error // nil: accepted
	control, data bool
	events        int
	errors        []event.Event
	links         []refLink // breadcrumbs across documents, in document order
}

func refRecord(data []byte, st *Stamp, l Limits) refResult {
	raw, err := base64.StdEncoding.DecodeString(string(data))
	switch {
	case err != nil:
		return refResult{err: err}
	case int64(len(raw)) > l.MaxRecordBytes:
		return refResult{err: errors.New("record over the limit")}
	case len(raw) == 0:
		return refResult{err: errors.New("empty")}
	}
	if len(raw) >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		zr, err := stdgzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return refResult{err: err}
		}
		out, err := io.ReadAll(io.LimitReader(zr, l.MaxRecordInflated+1))
		if err != nil {
			return refResult{err: err}
		}
		if int64(len(out)) > l.MaxRecordInflated {
			return refResult{err: errors.New("inflated over the cap")}
		}
		raw = out
	}
	return refPayload(raw, st)
}

// refPayload decodes one or more concatenated documents.
func refPayload(payload []byte, st *Stamp) refResult {
	var res refResult
	if jsonref.Depth(payload) > jsonscan.MaxDepth-8 {
		// Nesting past the hand-written decoder's bound: the targets skip these.
		return refResult{err: errTooDeep}
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	docs := 0
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF {
			break
		} else if err != nil {
			return refResult{err: err}
		}
		docs++
		if err := refDoc(raw, st, &res); err != nil {
			return refResult{err: err}
		}
	}
	if docs == 0 {
		return refResult{err: errors.New("no document")}
	}
	res.errors = stitch.Join(res.errors) // traces split across events, as the decoder joins them
	newRefLinker().apply(&res)
	return res
}

var errTooDeep = errors.New("nested too deeply for the comparison")

// fields reads the members of the object raw: each member named in into is decoded with
// encoding/json into the pointer given (null leaves it nil) and may appear once; others
// are ignored.
func fields(raw json.RawMessage, into map[string]any) error {
	ms, err := jsonref.Members(raw)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, m := range ms {
		dst, ok := into[m.Name]
		if !ok {
			continue
		}
		if seen[m.Name] {
			return fmt.Errorf("repeated %s", m.Name)
		}
		seen[m.Name] = true
		if err := json.Unmarshal(m.Value, dst); err != nil {
			return fmt.Errorf("%s: %w", m.Name, err)
		}
	}
	return nil
}

func refDoc(raw json.RawMessage, st *Stamp, res *refResult) error {
	var messageType, owner, group, stream *string
	var events *[]json.RawMessage
	if err := fields(raw, map[string]any{
		"messageType": &messageType, "owner": &owner, "logGroup": &group, "logStream": &stream, "logEvents": &events,
	}); err != nil {
		return err
	}
	if messageType == nil || events == nil {
		return errors.New("no messageType or no logEvents")
	}
	switch *messageType {
	case "CONTROL_MESSAGE":
		for _, e := range *events {
			if jsonref.Kind(e) != '{' {
				return errors.New("a log event is not an object")
			}
		}
		res.control = true
		return nil
	case "DATA_MESSAGE":
	default:
		return errors.New("unknown messageType")
	}
	deref := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	var lines []refLine // the document's events so far, for breadcrumbs
	var conts []refLink
	for _, e := range *events {
		if jsonref.Kind(e) != '{' {
			return errors.New("a log event is not an object")
		}
		var id, ts json.RawMessage
		var message, account, region, xAccount, xRegion *string
		var extracted json.RawMessage
		if err := fields(e, map[string]any{
			"id": &id, "timestamp": &ts, "message": &message, "extractedFields": &extracted,
			"@aws.account": &account, "@aws.region": &region,
		}); err != nil {
			return err
		}
		switch jsonref.Kind(extracted) {
		case 0, 'n':
		case '{':
			if err := fields(extracted, map[string]any{"@aws.account": &xAccount, "@aws.region": &xRegion}); err != nil {
				return err
			}
		default:
			return errors.New("extractedFields is not an object")
		}
		ev := event.Event{
			Drain: st.Drain, Org: st.Org, Env: st.Env, Account: deref(owner), Region: st.Region,
			LogGroup: deref(group), LogStream: deref(stream), Message: deref(message),
			FirehoseRequestID: st.RequestID, Attributes: st.Attributes,
		}
		switch jsonref.Kind(id) {
		case '"':
			if err := json.Unmarshal(id, &ev.ID); err != nil {
				return err
			}
		case '0':
			ev.ID, ev.IDIsNumber = string(id), true
		case 0, 'n':
		default:
			return errors.New("id is not a string or a number")
		}
		res.events++
		if ev.ID == "" {
			return errors.New("no id")
		}
		switch jsonref.Kind(ts) {
		case 0, 'n':
		case '0':
			n := json.Number(ts)
			if v, err := n.Int64(); err == nil {
				ev.Timestamp = v
			} else if f, err := n.Float64(); err == nil && f >= math.MinInt64 && f < math.MaxInt64 {
				ev.Timestamp = int64(f)
			} else {
				return errors.New("timestamp out of range")
			}
		default:
			return errors.New("timestamp is not a number")
		}
		ev.Seq = res.events
		line := refLine{msg: ev.Message, ts: ev.Timestamp, hasTS: jsonref.Kind(ts) == '0', rid: string(invocation.RequestID([]byte(ev.Message)))}
		ev.Level = level.Of([]byte(ev.Message))
		var cont *refLink
		if ev.Level.IsErrorClass() {
			picked, c := refWalk(lines, line.rid)
			ev.Breadcrumbs = refCrumbs(picked)
			if c {
				cont = &refLink{key: refKey(owner, group, stream, line.rid), lines: 20 - len(picked), bytes: 8192 - refSize(picked)}
			}
		}
		lines = append(lines, line)
		if !ev.Level.IsErrorClass() && (message == nil || !stitch.CandidateText(ev.Message)) {
			continue
		}
		if v := deref(xAccount); v != "" {
			ev.Account = v
		} else if v := deref(account); v != "" {
			ev.Account = v
		}
		if v := deref(xRegion); event.ValidRegion(v) {
			ev.Region = v
		} else if v := deref(region); event.ValidRegion(v) {
			ev.Region = v
		}
		if cont != nil {
			cont.ident = ev.ComputeIdentity()
			conts = append(conts, *cont)
		}
		res.errors = append(res.errors, ev)
	}
	// The decoder notes a document's continued errors newest first, then its carries.
	slices.Reverse(conts)
	res.links = append(res.links, conts...)
	res.links = append(res.links, refCarries(lines, owner, group, stream)...)
	res.data = true
	return nil
}

// refLine is one event of a document as the reference sees it, for breadcrumbs.
type refLine struct {
	msg   string
	ts    int64
	hasTS bool
	rid   string
}

// refWalk is the reference's reading of item 5 of issue 10: the lines before an error
// with its request id back to its START line (all lines before it when it has none), at
// most 1024 lines back, newest first until 20 lines or 8 KiB of text (the newest alone cut
// to 8 KiB at a rune boundary). cont: with a request id, the walk went through every line
// of the document without meeting its START or a cap, so older documents may hold more.
func refWalk(lines []refLine, rid string) (picked []refLine, cont bool) {
	size := 0
	full, started := false, false
	i := len(lines) - 1
	for ; i >= 0 && i >= len(lines)-1024 && len(picked) < 20; i-- {
		l := lines[i]
		if rid != "" && l.rid != rid {
			continue
		}
		if size+len(l.msg) > 8192 {
			if len(picked) > 0 {
				full = true
				break
			}
			cut := 8192
			for !utf8.RuneStart(l.msg[cut]) {
				cut--
			}
			l.msg = l.msg[:cut]
		}
		size += len(l.msg)
		picked = append(picked, l)
		if m := lines[i].msg; rid != "" && (strings.HasPrefix(m, "START RequestId: ") || strings.Contains(m, `"type":"platform.start"`)) {
			started = true // the invocation's first line
			break
		}
	}
	cont = rid != "" && !full && !started && i < 0 && len(picked) < 20 && size < 8192
	return picked, cont
}

func refSize(picked []refLine) int {
	n := 0
	for _, l := range picked {
		n += len(l.msg)
	}
	return n
}

// refCrumbs turns picked lines (newest first) into breadcrumbs, oldest first.
func refCrumbs(picked []refLine) []event.Breadcrumb {
	if len(picked) == 0 {
		return nil
	}
	out := make([]event.Breadcrumb, 0, len(picked))
	for i := len(picked) - 1; i >= 0; i-- {
		l := picked[i]
		b := event.Breadcrumb{Level: level.Of([]byte(l.msg)), Message: l.msg}
		if l.hasTS {
			b.Time = time.UnixMilli(l.ts).UTC()
		}
		out = append(out, b)
	}
	return out
}

// asJSONDecodes is e with its strings as encoding/json decodes them (invalid UTF-8 as
// U+FFFD), for comparing the hand-written decoder's raw bytes with the reference.
func asJSONDecodes(e event.Event) event.Event {
	for _, s := range []*string{&e.Account, &e.Region, &e.LogGroup, &e.LogStream, &e.ID, &e.Message} {
		*s = jsonref.Text([]byte(*s))
	}
	return e
}

// compareWithReference fails t when the decoder's result for one record differs from the
// reference's.
func compareWithReference(t *testing.T, input []byte, got RecordResult, want refResult) {
	t.Helper()
	if errors.Is(want.err, errTooDeep) {
		return
	}
	if got.Err != nil && got.Err.Reason == "internal decoder error" {
		t.Fatalf("decoder panicked: %v", got.Err)
	}
	if (got.Err == nil) != (want.err == nil) {
		t.Fatalf("accept/reject differs on %q:\ndecoder:   %v\nreference: %v", truncateForLog(input), got.Err, want.err)
	}
	if got.Err != nil {
		return
	}
	if got.Control != want.control || got.Data != want.data || got.Events != want.events {
		t.Fatalf("on %q: decoder control=%v data=%v events=%d, reference control=%v data=%v events=%d",
			truncateForLog(input), got.Control, got.Data, got.Events, want.control, want.data, want.events)
	}
	if len(got.Errors) != len(want.errors) {
		t.Fatalf("on %q: decoder kept %d error events, reference %d", truncateForLog(input), len(got.Errors), len(want.errors))
	}
	for i := range got.Errors {
		if e := got.Errors[i]; e.IdentityKey != e.ComputeIdentity() {
			t.Fatalf("on %q: error event %d carries identity %q, its own is %q", truncateForLog(input), i, e.IdentityKey, e.ComputeIdentity())
		}
		g, w := asJSONDecodes(got.Errors[i]), want.errors[i]
		g.IdentityKey = ""
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("on %q: error event %d\ndecoder:   %+v\nreference: %+v", truncateForLog(input), i, g, w)
		}
	}
}

func truncateForLog(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

var oracleStamp = &Stamp{Drain: "d", Org: "o", Env: "e", Region: "us-east-2", RequestID: "r"}

// oracleLimits keep fuzzing fast; the reference applies the same caps.
// The request's breadcrumb budget is not the reference's business (TestRequestBreadcrumbBudget).
var oracleLimits = Limits{MaxRecordBytes: DefaultMaxRecordBytes, MaxRecordInflated: 1 << 20, MaxRequestInflated: 2 << 20, MaxRequestBreadcrumbs: -1}

// payloadSeeds are the conformance captures' CloudWatch documents and mutations of them
// that stay valid JSON (re-indented, compacted, spaces after colons, every message an
// error, repeated members, events without ids) or not (cut short).
func payloadSeeds(t testing.TB) [][]byte {
	var docs [][]byte
	for _, dir := range []string{"otel", "decoded"} {
		files, _ := filepath.Glob(filepath.Join(fixtures, dir, "*"))
		for _, file := range files {
			p, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, p)
		}
	}
	var out [][]byte
	for _, p := range docs {
		out = append(out, p, asErrors(p), p[:len(p)/2])
		var buf bytes.Buffer
		if json.Indent(&buf, p, "", "  ") == nil {
			out = append(out, buf.Bytes())
		}
		buf.Reset()
		if json.Compact(&buf, p) == nil {
			c := buf.Bytes()
			out = append(out, c,
				bytes.ReplaceAll(asErrors(c), []byte(`":`), []byte(`": `)),
				bytes.Replace(c, []byte(`"logEvents":`), []byte(`"logEvents":[],"logEvents":`), 1),
				bytes.ReplaceAll(asErrors(c), []byte(`"id":"`), []byte(`"id":"","x":"`)),
				bytes.ReplaceAll(asErrors(c), []byte(`"timestamp":`), []byte(`"timestamp":-0.5e1,"t":`)),
			)
		}
	}
	out = append(out, splitTraceSeeds()...) // traces one line per event: the stitching
	out = append(out, linkSeeds()...)       // invocations over several documents: breadcrumbs across them
	return append(out,
		[]byte(`{"messageType":"DATA_MESSAGE","logEvents":[{"id":5,"message":"ERROR \ud83d\ude00\n\tat x","@aws.region":"eu-west-1"}]}`),
		[]byte(`{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp": 5,"message":"ERROR a"}]}`),
		[]byte("{\"messageType\":\"DATA_MESSAGE\",\"logStream\":\"\xff\",\"logEvents\":[{\"id\":\"\xfe\",\"message\":\"ERROR \xc3\"}]}"),
	)
}

// TestDecoderAgreesWithTheReference runs the comparison on every seed (the fuzz targets
// also run them, as plain and gzip records).
func TestDecoderAgreesWithTheReference(t *testing.T) {
	d := NewDecoder(oracleLimits)
	for i, p := range payloadSeeds(t) {
		for _, rec := range [][]byte{b64(p), b64(gz(t, p))} {
			got := d.DecodeRecords(context.Background(), [][]byte{rec}, oracleStamp, 1)[0]
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				compareWithReference(t, p, got, refRecord(rec, oracleStamp, oracleLimits))
			})
		}
	}
	if !strings.Contains(string(payloadSeeds(t)[1]), "ERROR") {
		t.Fatal("the seeds hold no error events: the comparison would not see the events' fields")
	}
}

// refLink is the reference's note of a document for breadcrumbs across documents.
type refLink struct {
	key          string
	ident        string // a continued error
	lines, bytes int    // the room it has left
	carry        bool
	replace      bool
	ended        bool
	tail         []refLine // oldest first
}

func refKey(owner, group, stream *string, rid string) string {
	d := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	return d(owner) + "\x00" + d(group) + "\x00" + d(stream) + "\x00" + rid
}

// refCarries: of the invocations met walking back over the document's last 64 lines (at
// most 8 of them), one whose last line ends it (END, REPORT, platform.runtimeDone,
// platform.report) drops what was carried of it when it did not start in the document;
// any other carries its newest lines, as an error after its last line would take them.
func refCarries(lines []refLine, owner, group, stream *string) []refLink {
	var out []refLink
	met := map[string]bool{}
	for j := len(lines) - 1; j >= 0 && j >= len(lines)-64 && len(met) < 8; j-- {
		rid := lines[j].rid
		if rid == "" || met[rid] {
			continue
		}
		met[rid] = true
		picked, cont := refWalk(lines[:j+1], rid)
		m := lines[j].msg
		if strings.HasPrefix(m, "END RequestId: ") || strings.HasPrefix(m, "REPORT RequestId: ") ||
			strings.Contains(m, `"type":"platform.runtimeDone"`) || strings.Contains(m, `"type":"platform.report"`) {
			if cont {
				out = append(out, refLink{key: refKey(owner, group, stream, rid), carry: true, ended: true})
			}
			continue
		}
		slices.Reverse(picked)
		out = append(out, refLink{key: refKey(owner, group, stream, rid), carry: true, replace: !cont, tail: picked})
	}
	return out
}

// refLinker applies a record's links in order: a continued error takes the newest carried
// lines of its invocation that fit its room, before its own.
type refLinker struct{ tails map[string][]refLine }

func newRefLinker() *refLinker { return &refLinker{tails: map[string][]refLine{}} }

func (lk *refLinker) apply(res *refResult) {
	for _, l := range res.links {
		switch {
		case !l.carry:
			older := refNewest(lk.tails[l.key], l.lines, l.bytes)
			if len(older) == 0 {
				continue
			}
			for i := range res.errors {
				ev := &res.errors[i]
				if ev.ComputeIdentity() == l.ident && ev.Level.IsErrorClass() {
					ev.Breadcrumbs = append(refCrumbs(reversed(older)), ev.Breadcrumbs...)
					break
				}
			}
		case l.ended:
			delete(lk.tails, l.key)
		case l.replace:
			lk.tails[l.key] = l.tail
		default:
			lk.tails[l.key] = refNewest(append(slices.Clone(lk.tails[l.key]), l.tail...), 20, 8192)
		}
		if t, ok := lk.tails[l.key]; ok && len(t) == 0 {
			delete(lk.tails, l.key)
		}
	}
	res.links = nil
}

// refNewest is the newest lines of ls (oldest first) within n lines and size bytes.
func refNewest(ls []refLine, n, size int) []refLine {
	k, s := 0, 0
	for k < len(ls) && k < n && s+len(ls[len(ls)-1-k].msg) <= size {
		s += len(ls[len(ls)-1-k].msg)
		k++
	}
	return ls[len(ls)-k:]
}

func reversed(ls []refLine) []refLine {
	out := slices.Clone(ls)
	slices.Reverse(out)
	return out
}

// linkSeeds are records of several documents of one stream (and another between them)
// whose invocations run over documents: started in one, continued, ended, with errors.
func linkSeeds() [][]byte {
	const a, b = "aaaaaaaa-1111-4222-8333-444455556666", "bbbbbbbb-1111-4222-8333-444455556666"
	doc := func(stream string, from int, msgs ...string) string {
		evs := make([]map[string]any, len(msgs))
		for i, m := range msgs {
			evs[i] = map[string]any{"id": fmt.Sprintf("%s-%03d", stream, from+i), "timestamp": 1700000000000 + from + i, "message": m}
		}
		out, _ := json.Marshal(map[string]any{"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "/aws/lambda/f", "logStream": stream, "logEvents": evs})
		return string(out)
	}
	text := func(req, lvl, msg string) string {
		return "2026-11-21T12:00:00.000Z\t" + req + "\t" + lvl + "\t" + msg + "\n"
	}
	js := func(req, lvl, msg string) string {
		out, _ := json.Marshal(map[string]string{"level": lvl, "requestId": req, "message": msg})
		return string(out)
	}
	var out [][]byte
	for _, line := range []func(req, lvl, msg string) string{text, js} {
		out = append(out, []byte(doc("s", 0, "START RequestId: "+a+" Version: $LATEST\n", line(a, "INFO", "a1"), "START RequestId: "+b+" Version: $LATEST\n", line(b, "INFO", "b1"))+
			doc("other", 100, line(a, "INFO", "other stream"))+
			doc("s", 200, line(a, "WARN", "a2"), line(b, "INFO", "b2"))+"\n"+
			doc("s", 300, line(a, "ERROR", "a failed"), line(b, "ERROR", "b failed"), "END RequestId: "+b+"\n", line(a, "INFO", "a3"))+
			doc("s", 400, line(b, "ERROR", "b after its end"), line(a, "ERROR", "a failed again"))))
	}
	var long []string
	for i := range 30 {
		long = append(long, text(a, "INFO", fmt.Sprintf("step %02d %s", i, strings.Repeat("x", 300))))
	}
	out = append(out, []byte(doc("s", 0, long[:18]...)+doc("s", 100, append(long[18:], text(a, "ERROR", "failed"))...)))
	return out
}
