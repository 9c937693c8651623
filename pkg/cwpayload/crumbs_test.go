package cwpayload

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aient/firehose-drain/pkg/event"
)

// crumbDoc is a CloudWatch Logs document of one stream with the given messages, event i
// at time 1700000000000+i.
func crumbDoc(t *testing.T, stream string, msgs ...string) []byte {
	t.Helper()
	evs := make([]map[string]any, len(msgs))
	for i, m := range msgs {
		evs[i] = map[string]any{"id": fmt.Sprintf("%s-%03d", stream, i), "timestamp": 1700000000000 + i, "message": m}
	}
	b, err := json.Marshal(map[string]any{
		"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/checkout",
		"logStream": stream, "subscriptionFilters": []string{"f"}, "logEvents": evs,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const (
	reqA = "aaaaaaaa-1111-4222-8333-444455556666"
	reqB = "bbbbbbbb-1111-4222-8333-444455556666"
)

func textLine(req, lvl, msg string) string {
	return "2026-11-21T12:00:00.000Z\t" + req + "\t" + lvl + "\t" + msg + "\n"
}

func jsonLine(req, lvl, msg string) string {
	b, _ := json.Marshal(map[string]string{"timestamp": "2026-11-21T12:00:00Z", "level": lvl, "requestId": req, "message": msg})
	return string(b)
}

// decodeAll decodes one record of raw documents on every path (Firehose records, Kinesis
// data, a stream), with and without a Visitor, checks that all agree, and returns the
// error events.
func decodeAll(t *testing.T, docs ...[]byte) []event.Event {
	t.Helper()
	var raw []byte
	for _, d := range docs {
		raw = append(raw, d...)
	}
	d := NewDecoder(Limits{})
	ctx := context.Background()
	var runs [][]event.Event
	for _, visit := range []bool{false, true} {
		st := &Stamp{Drain: "drn_c"}
		if visit {
			var s seen
			st.Visit = s.visit
		}
		r := d.DecodeData(ctx, [][]byte{raw}, st, 1)
		if r[0].Err != nil {
			t.Fatal(r[0].Err)
		}
		runs = append(runs, r[0].Errors)
		var evs []event.Event
		if visit {
			var s seen
			st.Visit = s.visit
		}
		if _, err := d.DecodeStream(ctx, strings.NewReader(string(raw)), st, func(dr *DocResult) error {
			if dr.Err != nil {
				return dr.Err
			}
			evs = append(evs, dr.Result.Errors...)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(crumbsOf(evs)) != fmt.Sprint(crumbsOf(r[0].Errors)) {
			t.Fatalf("DecodeStream's breadcrumbs differ from DecodeData's:\n%v\n%v", crumbsOf(evs), crumbsOf(r[0].Errors))
		}
	}
	for i := range runs[0] {
		if fmt.Sprint(runs[0][i].Breadcrumbs) != fmt.Sprint(runs[1][i].Breadcrumbs) {
			t.Fatalf("error %d: breadcrumbs differ with a Visitor:\n%v\n%v", i, runs[0][i].Breadcrumbs, runs[1][i].Breadcrumbs)
		}
	}
	return runs[0]
}

func crumbsOf(evs []event.Event) [][]event.Breadcrumb {
	out := make([][]event.Breadcrumb, len(evs))
	for i := range evs {
		out[i] = evs[i].Breadcrumbs
	}
	return out
}

func messages(bs []event.Breadcrumb) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = strings.TrimSpace(b.Message)
	}
	return out
}

// TestBreadcrumbsOfInterleavedInvocations: a stream whose lines interleave two invocations
// gives each error only its own invocation's lines, in the Lambda text and JSON formats.
func TestBreadcrumbsOfInterleavedInvocations(t *testing.T) {
	for _, f := range []struct {
		name string
		line func(req, lvl, msg string) string
	}{{"text", textLine}, {"json", jsonLine}} {
		t.Run(f.name, func(t *testing.T) {
			doc := crumbDoc(t, "2026/11/21/[$LATEST]0001",
				"START RequestId: "+reqA+" Version: $LATEST\n",
				f.line(reqA, "INFO", "a: loading cart"),
				"START RequestId: "+reqB+" Version: $LATEST\n",
				f.line(reqB, "INFO", "b: loading cart"),
				f.line(reqA, "WARN", "a: cart is large"),
				"a line of no invocation\n",
				f.line(reqB, "INFO", "b: charging"),
				f.line(reqA, "ERROR", "a: charge failed"),
				f.line(reqB, "ERROR", "b: charge failed"),
			)
			errs := decodeAll(t, doc)
			if len(errs) != 2 {
				t.Fatalf("%d error events, want 2", len(errs))
			}
			wantA := []string{"START RequestId: " + reqA + " Version: $LATEST", strings.TrimSpace(f.line(reqA, "INFO", "a: loading cart")), strings.TrimSpace(f.line(reqA, "WARN", "a: cart is large"))}
			wantB := []string{"START RequestId: " + reqB + " Version: $LATEST", strings.TrimSpace(f.line(reqB, "INFO", "b: loading cart")), strings.TrimSpace(f.line(reqB, "INFO", "b: charging"))}
			if got := messages(errs[0].Breadcrumbs); fmt.Sprint(got) != fmt.Sprint(wantA) {
				t.Errorf("invocation A's error: breadcrumbs\n%q\nwant\n%q", got, wantA)
			}
			if got := messages(errs[1].Breadcrumbs); fmt.Sprint(got) != fmt.Sprint(wantB) {
				t.Errorf("invocation B's error: breadcrumbs\n%q\nwant\n%q", got, wantB)
			}
			b := errs[0].Breadcrumbs
			if b[1].Level != event.Info || b[2].Level != event.Warn || b[0].Time.UnixMilli() != 1700000000000 || b[2].Time.UnixMilli() != 1700000000004 {
				t.Errorf("breadcrumb levels/times: %+v", b)
			}
		})
	}
}

// TestBreadcrumbCaps: at most 20 lines and 8 KiB, the oldest dropped first; a newest line
// over 8 KiB alone is cut to it.
func TestBreadcrumbCaps(t *testing.T) {
	var msgs []string
	for i := range 30 {
		msgs = append(msgs, textLine(reqA, "INFO", fmt.Sprintf("step %02d", i)))
	}
	msgs = append(msgs, textLine(reqA, "ERROR", "failed"))
	errs := decodeAll(t, crumbDoc(t, "s", msgs...))
	got := messages(errs[0].Breadcrumbs)
	if len(got) != event.MaxBreadcrumbs || !strings.HasSuffix(got[0], "step 10") || !strings.HasSuffix(got[19], "step 29") {
		t.Errorf("30 lines before the error: %d breadcrumbs, %q .. %q; want steps 10..29", len(got), got[0], got[len(got)-1])
	}

	msgs = msgs[:0]
	for i := range 12 {
		msgs = append(msgs, textLine(reqA, "INFO", fmt.Sprintf("%02d ", i)+strings.Repeat("x", 950)))
	}
	msgs = append(msgs, textLine(reqA, "ERROR", "failed"))
	errs = decodeAll(t, crumbDoc(t, "s", msgs...))
	size := 0
	for _, b := range errs[0].Breadcrumbs {
		size += len(b.Message)
	}
	n := len(errs[0].Breadcrumbs)
	lineLen := len(msgs[0])
	if size > event.MaxBreadcrumbBytes || n != event.MaxBreadcrumbBytes/lineLen || !strings.Contains(errs[0].Breadcrumbs[n-1].Message, "\t11 ") {
		t.Errorf("lines of %d bytes: %d breadcrumbs of %d bytes, want the newest %d within %d bytes", lineLen, n, size, event.MaxBreadcrumbBytes/lineLen, event.MaxBreadcrumbBytes)
	}

	huge := textLine(reqA, "INFO", strings.Repeat("é", 6000))
	errs = decodeAll(t, crumbDoc(t, "s", textLine(reqA, "INFO", "older"), huge, textLine(reqA, "ERROR", "failed")))
	b := errs[0].Breadcrumbs
	if len(b) != 1 || len(b[0].Message) > event.MaxBreadcrumbBytes || len(b[0].Message) < event.MaxBreadcrumbBytes-1 || !strings.HasPrefix(huge, b[0].Message) {
		t.Errorf("a newest line of %d bytes: %d breadcrumbs, first of %d bytes; want it alone, cut to %d at a rune boundary", len(huge), len(b), len(b[0].Message), event.MaxBreadcrumbBytes)
	}
}

// TestBreadcrumbsNeverCrossStreams: lines of another stream — another document of the
// same record, with the same request id — never appear; an error without a request id
// takes the lines before it in its own stream.
func TestBreadcrumbsNeverCrossStreams(t *testing.T) {
	other := crumbDoc(t, "other-stream", textLine(reqA, "INFO", "other stream, same request id"), "other stream, plain line")
	mine := crumbDoc(t, "my-stream", "plain line 1", textLine(reqA, "INFO", "mine"), "[ERROR] KeyError: 'x' (no request id)", textLine(reqA, "ERROR", "failed"))
	errs := decodeAll(t, other, mine)
	if len(errs) != 2 {
		t.Fatalf("%d errors, want 2", len(errs))
	}
	for _, e := range errs {
		for _, b := range e.Breadcrumbs {
			if strings.Contains(b.Message, "other stream") {
				t.Errorf("error %q got a breadcrumb of another stream: %q", e.Message, b.Message)
			}
		}
	}
	if got := messages(errs[0].Breadcrumbs); len(got) != 2 || got[0] != "plain line 1" {
		t.Errorf("an error without a request id: breadcrumbs %q, want the 2 lines before it in its stream", got)
	}
	if got := messages(errs[1].Breadcrumbs); len(got) != 1 || !strings.HasSuffix(got[0], "mine") {
		t.Errorf("an error with a request id: breadcrumbs %q, want its invocation's one line", got)
	}
	// The first event of a document has none.
	errs = decodeAll(t, crumbDoc(t, "s", textLine(reqA, "ERROR", "first")))
	if errs[0].Breadcrumbs != nil {
		t.Errorf("the first line's breadcrumbs: %v, want none", errs[0].Breadcrumbs)
	}
}
