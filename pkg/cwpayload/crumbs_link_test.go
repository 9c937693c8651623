package cwpayload

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aient/firehose-drain/pkg/event"
)

// decodeDelivery decodes records (each one or more raw documents) as one delivery on every
// path — Firehose records with one and two workers, Kinesis data, the documents as one
// stream — checks that all agree, and returns the error events in record order.
func decodeDelivery(t *testing.T, lim Limits, records ...[]byte) []event.Event {
	t.Helper()
	d := NewDecoder(lim)
	ctx := context.Background()
	var runs [][]event.Event
	var names []string
	collect := func(name string, rs []RecordResult) {
		var evs []event.Event
		for i, r := range rs {
			if r.Err != nil {
				t.Fatalf("%s: record %d: %v", name, i, r.Err)
			}
			evs = append(evs, r.Errors...)
		}
		runs, names = append(runs, evs), append(names, name)
	}
	var b64s [][]byte
	for _, r := range records {
		b64s = append(b64s, b64(gz(t, r)))
	}
	for _, workers := range []int{1, 2} {
		collect(fmt.Sprintf("DecodeRecords/%d", workers), d.DecodeRecords(ctx, b64s, &Stamp{Drain: "drn_c"}, workers))
	}
	collect("DecodeData", d.DecodeData(ctx, records, &Stamp{Drain: "drn_c"}, 2))
	var evs []event.Event
	if _, err := d.DecodeStream(ctx, strings.NewReader(string(bytesJoin(records))), &Stamp{Drain: "drn_c"}, func(dr *DocResult) error {
		if dr.Err != nil {
			return dr.Err
		}
		evs = append(evs, dr.Result.Errors...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	runs, names = append(runs, evs), append(names, "DecodeStream")
	for k := 1; k < len(runs); k++ {
		if fmt.Sprint(crumbsOf(runs[k])) != fmt.Sprint(crumbsOf(runs[0])) {
			t.Fatalf("%s's breadcrumbs differ from %s's:\n%v\n%v", names[k], names[0], crumbsOf(runs[k]), crumbsOf(runs[0]))
		}
	}
	return runs[0]
}

func bytesJoin(bs [][]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
		out = append(out, '\n')
	}
	return out
}

// linkDoc is crumbDoc with the events' ids and times starting at from, so that the
// documents of one stream in several records hold distinct events in time order.
func linkDoc(t *testing.T, stream string, from int, msgs ...string) []byte {
	t.Helper()
	doc := crumbDoc(t, stream, msgs...)
	// crumbDoc numbers events from 0: renumber so every record's events are distinct.
	for i := len(msgs) - 1; i >= 0; i-- {
		doc = []byte(strings.Replace(string(doc), fmt.Sprintf(`"id":"%s-%03d"`, stream, i), fmt.Sprintf(`"id":"%s-%03d"`, stream, from+i), 1))
		doc = []byte(strings.Replace(string(doc), fmt.Sprintf(`"timestamp":%d`, 1700000000000+i), fmt.Sprintf(`"timestamp":%d`, 1700000000000+from+i), 1))
	}
	return doc
}

func trimmed(lines ...string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimSpace(l)
	}
	return out
}

// TestBreadcrumbsAcrossRecords (issue 10 item 5): an invocation whose START is in one
// record of a delivery and whose error is in a later one gets the lines of both, in order;
// two invocations interleaved in the stream each get only their own; a record of another
// stream between them, with the same request id, gives nothing; an invocation continued
// over three records gets the lines of all three.
func TestBreadcrumbsAcrossRecords(t *testing.T) {
	for _, f := range []struct {
		name string
		line func(req, lvl, msg string) string
	}{{"text", textLine}, {"json", jsonLine}} {
		t.Run(f.name, func(t *testing.T) {
			const s = "2026/11/21/[$LATEST]0001"
			startA, startB := "START RequestId: "+reqA+" Version: $LATEST\n", "START RequestId: "+reqB+" Version: $LATEST\n"
			r1 := linkDoc(t, s, 0,
				startA,
				f.line(reqA, "INFO", "a: loading cart"),
				startB,
				f.line(reqB, "INFO", "b: loading cart"),
			)
			other := linkDoc(t, "another-stream", 100,
				f.line(reqA, "INFO", "other stream, same request id"),
				f.line(reqB, "INFO", "other stream, same request id"),
			)
			r2 := linkDoc(t, s, 200,
				f.line(reqA, "WARN", "a: cart is large"),
				f.line(reqB, "INFO", "b: charging"),
			)
			r3 := linkDoc(t, s, 300,
				f.line(reqA, "ERROR", "a: charge failed"),
				f.line(reqB, "INFO", "b: charged"),
				f.line(reqB, "ERROR", "b: receipt failed"),
			)
			errs := decodeDelivery(t, Limits{}, r1, other, r2, r3)
			if len(errs) != 2 {
				t.Fatalf("%d error events, want 2", len(errs))
			}
			wantA := trimmed(startA, f.line(reqA, "INFO", "a: loading cart"), f.line(reqA, "WARN", "a: cart is large"))
			wantB := trimmed(startB, f.line(reqB, "INFO", "b: loading cart"), f.line(reqB, "INFO", "b: charging"), f.line(reqB, "INFO", "b: charged"))
			if got := messages(errs[0].Breadcrumbs); fmt.Sprint(got) != fmt.Sprint(wantA) {
				t.Errorf("invocation A's error (START two records before): breadcrumbs\n%q\nwant\n%q", got, wantA)
			}
			if got := messages(errs[1].Breadcrumbs); fmt.Sprint(got) != fmt.Sprint(wantB) {
				t.Errorf("invocation B's error: breadcrumbs\n%q\nwant\n%q", got, wantB)
			}
			if b := errs[0].Breadcrumbs; len(b) == 3 && (b[0].Time.UnixMilli() != 1700000000000 || b[2].Time.UnixMilli() != 1700000000200 || b[2].Level != event.Warn) {
				t.Errorf("carried breadcrumbs keep their own time and level: %+v", b)
			}
		})
	}
}

// TestBreadcrumbCapsAcrossRecords: the caps hold over the records together, the oldest
// lines dropped first; an invocation that ended in an earlier record gives a later error
// of its request id nothing of it.
func TestBreadcrumbCapsAcrossRecords(t *testing.T) {
	const s = "s"
	step := func(i int) string { return textLine(reqA, "INFO", fmt.Sprintf("step %02d", i)) }
	var first, second []string
	first = append(first, "START RequestId: "+reqA+" Version: $LATEST\n")
	for i := range 15 {
		first = append(first, step(i))
	}
	for i := 15; i < 25; i++ {
		second = append(second, step(i))
	}
	second = append(second, textLine(reqA, "ERROR", "failed"))
	errs := decodeDelivery(t, Limits{}, linkDoc(t, s, 0, first...), linkDoc(t, s, 100, second...))
	got := messages(errs[0].Breadcrumbs)
	if len(got) != event.MaxBreadcrumbs || !strings.HasSuffix(got[0], "step 05") || !strings.HasSuffix(got[19], "step 24") {
		t.Errorf("26 lines over two records: %d breadcrumbs %q, want steps 05..24", len(got), got)
	}

	// Lines of ~1 KiB: 8 KiB holds 7 of them, the newest.
	big := func(i int) string { return textLine(reqA, "INFO", fmt.Sprintf("%02d ", i)+strings.Repeat("x", 1000)) }
	first = []string{"START RequestId: " + reqA + " Version: $LATEST\n", big(0), big(1), big(2), big(3), big(4)}
	second = []string{big(5), big(6), big(7), textLine(reqA, "ERROR", "failed")}
	errs = decodeDelivery(t, Limits{}, linkDoc(t, s, 0, first...), linkDoc(t, s, 100, second...))
	size := 0
	for _, b := range errs[0].Breadcrumbs {
		size += len(b.Message)
	}
	if n := len(errs[0].Breadcrumbs); n != event.MaxBreadcrumbBytes/len(big(0)) || size > event.MaxBreadcrumbBytes || !strings.Contains(errs[0].Breadcrumbs[n-1].Message, "\t07 ") {
		t.Errorf("lines of %d bytes over two records: %d breadcrumbs of %d bytes, want the newest %d", len(big(0)), n, size, event.MaxBreadcrumbBytes/len(big(0)))
	}

	ended := linkDoc(t, s, 0, "START RequestId: "+reqA+" Version: $LATEST\n", step(0), "END RequestId: "+reqA+"\n", "REPORT RequestId: "+reqA+"\tDuration: 1 ms\n")
	errs = decodeDelivery(t, Limits{}, ended, linkDoc(t, s, 100, textLine(reqA, "ERROR", "late line of an ended invocation")))
	if errs[0].Breadcrumbs != nil {
		t.Errorf("an error after its invocation's END in an earlier record: breadcrumbs %q, want none", messages(errs[0].Breadcrumbs))
	}
}

// TestRequestBreadcrumbBudget: the breadcrumbs one request's errors are given weigh at
// most Limits.MaxRequestBreadcrumbs (text and crumbWeight a line, as the queue weighs
// them); with one worker, the newest records' errors have theirs and the oldest go
// without.
func TestRequestBreadcrumbBudget(t *testing.T) {
	var records [][]byte
	for r := range 10 {
		// Ended in its record: nothing is carried.
		records = append(records, linkDoc(t, fmt.Sprintf("stream-%d", r), 0,
			"START RequestId: "+reqA+" Version: $LATEST\n",
			textLine(reqA, "INFO", strings.Repeat("y", 100)),
			textLine(reqA, "ERROR", "failed"),
			"END RequestId: "+reqA+"\n"))
	}
	var b64s [][]byte
	for _, r := range records {
		b64s = append(b64s, b64(gz(t, r)))
	}
	one := len("START RequestId: "+reqA+" Version: $LATEST\n") + len(textLine(reqA, "INFO", strings.Repeat("y", 100))) + 2*crumbWeight
	lim := Limits{MaxRequestBreadcrumbs: int64(3*one + one/2)}
	for _, workers := range []int{1, 2} {
		res := NewDecoder(lim).DecodeRecords(context.Background(), b64s, nil, workers)
		with, spent := 0, 0
		for i, r := range res {
			if len(r.Errors) != 1 {
				t.Fatalf("record %d: %d errors", i, len(r.Errors))
			}
			if b := r.Errors[0].Breadcrumbs; b != nil {
				with++
				for _, c := range b {
					spent += len(c.Message) + crumbWeight
				}
				if workers == 1 && i < 7 {
					t.Errorf("one worker: record %d of 10 has breadcrumbs; want only the newest 3", i)
				}
			}
		}
		if with != 3 || int64(spent) > lim.MaxRequestBreadcrumbs {
			t.Errorf("%d workers: %d errors with breadcrumbs weighing %d, want 3 within %d", workers, with, spent, lim.MaxRequestBreadcrumbs)
		}
	}
	res := NewDecoder(Limits{MaxRequestBreadcrumbs: -1}).DecodeRecords(context.Background(), b64s, nil, 2)
	for i, r := range res {
		if len(r.Errors[0].Breadcrumbs) != 2 {
			t.Errorf("unbounded: record %d has %d breadcrumbs, want 2", i, len(r.Errors[0].Breadcrumbs))
		}
	}
}

// TestCarryBudget: the lines carried across records allocate at most a quarter of the
// request's breadcrumb budget; past it an invocation carries nothing (its later error
// keeps only its own record's lines).
func TestCarryBudget(t *testing.T) {
	r1 := linkDoc(t, "s", 0, "START RequestId: "+reqA+" Version: $LATEST\n",
		textLine(reqA, "INFO", strings.Repeat("a", 100)), textLine(reqA, "INFO", strings.Repeat("b", 100)))
	r2 := linkDoc(t, "s", 100, textLine(reqA, "INFO", "c"), textLine(reqA, "ERROR", "failed"))
	recs := [][]byte{b64(gz(t, r1)), b64(gz(t, r2))}
	for _, c := range []struct {
		budget int64
		want   int
	}{{-1, 4}, {0, 4}, {4 * 200, 1}} {
		res := NewDecoder(Limits{MaxRequestBreadcrumbs: c.budget}).DecodeRecords(context.Background(), recs, nil, 1)
		if got := len(res[1].Errors[0].Breadcrumbs); got != c.want {
			t.Errorf("budget %d (carries a quarter): %d breadcrumbs %q, want %d", c.budget, got, messages(res[1].Errors[0].Breadcrumbs), c.want)
		}
	}
}
