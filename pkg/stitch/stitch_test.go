package stitch

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/level"
)

// Traces as the runtimes print them, one CloudWatch event per line.
var traces = map[string][]string{
	"java": {
		"2026-11-21 01:02:03.456 ERROR [main] c.a.o.OrderService - order failed",
		"java.lang.IllegalStateException: order 42 has no lines",
		"\tat com.acme.orders.OrderService.validate(OrderService.java:88)",
		"\tat com.acme.orders.Handler.handleRequest(Handler.java:31)",
		"Caused by: java.io.IOException: stream closed",
		"\tat com.acme.io.Reader.read(Reader.java:12)",
		"\t... 2 more",
	},
	"java-bare": {
		"java.lang.NullPointerException: Cannot invoke \"String.length()\"",
		"\tat com.acme.Names.format(Names.java:10)",
		"\tat com.acme.Main.main(Main.java:3)",
	},
	"python": {
		"Traceback (most recent call last):",
		"  File \"/app/worker.py\", line 12, in handle",
		"    order = msg[\"order\"]",
		"KeyError: 'order'",
	},
	"python-chained": {
		"Traceback (most recent call last):",
		"  File \"/app/db.py\", line 3, in fetch",
		"    row = cur.fetchone()[0]",
		"TypeError: 'NoneType' object is not subscriptable",
		"",
		"During handling of the above exception, another exception occurred:",
		"",
		"Traceback (most recent call last):",
		"  File \"/app/api.py\", line 9, in get_item",
		"    return db.fetch(item_id)",
		"svc.errors.NotFound: 42",
	},
	"go": {
		"panic: runtime error: invalid memory address or nil pointer dereference",
		"[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a2b3c]",
		"",
		"goroutine 1 [running]:",
		"main.(*api).getOrder(0x0, {0x6b1f40, 0xc000012345})",
		"\t/app/api.go:42 +0x1d",
		"main.main()",
		"\t/app/main.go:10 +0x5f",
		"exit status 2",
	},
	"node": {
		"TypeError: Cannot read properties of undefined (reading 'id')",
		"    at getUser (/app/src/users.js:42:18)",
		"    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
		"    at async handler (/app/src/server.js:10:5)",
	},
	"ruby": {
		"/app/lib/sync.rb:10:in `pull': undefined method `fetch' for nil (NoMethodError)",
		"\tfrom /app/lib/sync.rb:20:in `run'",
		"\tfrom /app/bin/worker:5:in `<main>'",
	},
	"dotnet": {
		"Unhandled exception. System.InvalidOperationException: Sequence contains no elements",
		"   at System.Linq.ThrowHelper.ThrowNoElementsException()",
		"   at Shop.Cart.Total() in /src/Cart.cs:line 12",
	},
}

func events(stream string, seq0 int, lines []string) []event.Event {
	evs := make([]event.Event, len(lines))
	for i, l := range lines {
		evs[i] = event.Event{
			Drain: "d", LogGroup: "g", LogStream: stream, ID: fmt.Sprintf("%s-%d", stream, seq0+i),
			Message: l, Level: level.OfString(l), Seq: seq0 + i,
		}
	}
	return evs
}

// kept is what the decoder keeps of a record: error-class events and candidates.
func kept(evs []event.Event) []event.Event {
	var out []event.Event
	for _, e := range evs {
		if e.Level.IsErrorClass() || CandidateText(e.Message) {
			out = append(out, e)
		}
	}
	return out
}

func TestEachTraceBecomesOneErrorEvent(t *testing.T) {
	for name, lines := range traces {
		t.Run(name, func(t *testing.T) {
			got := Join(kept(events("s", 1, lines)))
			if len(got) != 1 {
				t.Fatalf("%d events, want 1: %+v", len(got), got)
			}
			e := got[0]
			if e.ID != "s-1" || e.Message != strings.Join(lines, "\n") || !e.Level.IsErrorClass() || e.Seq != 0 {
				t.Fatalf("stitched event %+v", e)
			}
		})
	}
}

// TestInterleavedWithOrdinaryLinesAndAnotherStream: an ordinary line ends a
// trace, a line of another stream is no continuation, and the lines of one
// trace are no errors of their own.
func TestInterleavedWithOrdinaryLinesAndAnotherStream(t *testing.T) {
	var rec []event.Event
	seq := 1
	add := func(stream string, lines ...string) {
		rec = append(rec, events(stream, seq, lines)...)
		seq += len(lines)
	}
	add("a", "INFO request started")
	add("a", traces["java-bare"]...)
	add("a", "INFO request done")
	add("b", traces["python"][:2]...)
	add("a", "    at orphan (/app/x.js:1:1)") // a frame line alone: no error
	add("b", traces["python"][2:]...)         // another stream came between: not the same trace
	add("a", traces["go"]...)
	add("a", "ERROR plain error line")
	got := Join(kept(rec))
	var msgs []string
	for _, e := range got {
		msgs = append(msgs, e.Message)
	}
	want := []string{strings.Join(traces["java-bare"], "\n"), strings.Join(traces["python"][:2], "\n"), strings.Join(traces["go"], "\n"), "ERROR plain error line"}
	if strings.Join(msgs, "\n--\n") != strings.Join(want, "\n--\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(msgs, "\n--\n"), strings.Join(want, "\n--\n"))
	}
}

func TestStitchingIsBounded(t *testing.T) {
	lines := []string{"java.lang.IllegalStateException: x"}
	for i := 0; i < 3*MaxLines; i++ {
		lines = append(lines, fmt.Sprintf("\tat com.acme.F.f%d(F.java:%d)", i, i))
	}
	got := Join(kept(events("s", 1, lines)))
	for _, e := range got {
		if n := strings.Count(e.Message, "\n") + 1; n > MaxLines || len(e.Message) > MaxBytes {
			t.Fatalf("a stitched event of %d lines, %d bytes", n, len(e.Message))
		}
	}
	if len(got) == 0 || got[0].ID != "s-1" {
		t.Fatalf("the trace's head is not the first event: %+v", got)
	}
	big := []string{"java.lang.IllegalStateException: x", "\tat " + strings.Repeat("a", MaxBytes)}
	if got := Join(kept(events("s", 1, big))); len(got) != 0 && len(got[0].Message) > MaxBytes {
		t.Fatalf("%d bytes", len(got[0].Message))
	}
}

// TestCandidateReadsEscapedMessages: Candidate on a message's JSON-escaped
// bytes says what CandidateText says on the decoded message.
func TestCandidateReadsEscapedMessages(t *testing.T) {
	for _, m := range []string{
		"\tat a.B.c(B.java:1)", "\u00a0\u00a0File \"x\"", "é java.lang.X: y", "java.lang.X: y", "\"quoted\"", "INFO x",
		"main.main()", "KeyError: 'k'", "Caused by: x", "a\nb", "\x00\x01", "\U0001F600 x",
	} {
		raw, _ := json.Marshal(m)
		if got, want := Candidate(raw[1:len(raw)-1]), CandidateText(m); got != want {
			t.Errorf("%q: Candidate(escaped) %v, CandidateText %v", m, got, want)
		}
	}
}

// FuzzJoin: whatever the lines, the output is the input's error-class events
// and stitched runs, in order: every output event is one input event (its
// identity) whose message is the input messages of a run of consecutive
// events of its stream joined by newlines; every input event left out of all
// runs is not error-class; nothing is stitched past the bounds.
func FuzzJoin(f *testing.F) {
	for _, lines := range traces {
		f.Add(strings.Join(lines, "\n"), uint16(0))
	}
	f.Add("ERROR a\n\tat x\nINFO b\n  File \"y\"", uint16(0b1010))
	// Split traces among ordinary lines and a second stream's lines: bit i of streams puts
	// line i on stream b.
	for _, name := range []string{"java", "python", "go", "node"} {
		var mixed []string
		var mask uint16
		for i, l := range traces[name] {
			mixed = append(mixed, l)
			if i%2 == 1 && len(mixed) < 15 {
				mask |= 1 << len(mixed)
				mixed = append(mixed, "INFO GET /health 200")
			}
		}
		f.Add(strings.Join(mixed, "\n"), mask)
		f.Add("INFO starting\n"+strings.Join(traces[name], "\n")+"\nINFO done", uint16(0))
		f.Add(strings.Join(traces[name], "\n")+"\n"+strings.Join(traces["python"], "\n"), uint16(0xff00))
	}
	f.Fuzz(func(t *testing.T, text string, streams uint16) {
		lines := strings.Split(text, "\n")
		if len(lines) > 64 {
			lines = lines[:64]
		}
		var in []event.Event
		for i, l := range lines {
			s := "a"
			if streams>>(i%16)&1 == 1 {
				s = "b"
			}
			in = append(in, event.Event{LogGroup: "g", LogStream: s, ID: fmt.Sprint(i), Message: l, Level: level.OfString(l), Seq: i + 1})
		}
		input := kept(in)
		orig := append([]event.Event(nil), input...)
		out := Join(input)
		k := 0 // next input event not yet accounted for
		for _, o := range out {
			start := -1
			for j := k; j < len(orig); j++ {
				if orig[j].ID == o.ID {
					start = j
					break
				}
			}
			if start < 0 {
				t.Fatalf("output event %q is no input event after %d", o.ID, k)
			}
			for _, skipped := range orig[k:start] {
				if skipped.Level.IsErrorClass() {
					t.Fatalf("error-class event %q (%q) lost", skipped.ID, skipped.Message)
				}
			}
			end := start + 1
			msg := orig[start].Message
			for end < len(orig) && msg != o.Message && len(msg) < len(o.Message) {
				if !sameRun(&orig[end-1], &orig[end]) {
					break
				}
				msg += "\n" + orig[end].Message
				end++
			}
			if msg != o.Message {
				t.Fatalf("output %q is not a run of consecutive input messages from %q", o.Message, orig[start].Message)
			}
			if n := end - start; n > MaxLines || n > 1 && len(o.Message) > MaxBytes {
				t.Fatalf("stitched %d lines, %d bytes", n, len(o.Message))
			}
			if !o.Level.IsErrorClass() || o.Seq != 0 {
				t.Fatalf("output event %+v", o)
			}
			k = end
		}
		for _, skipped := range orig[k:] {
			if skipped.Level.IsErrorClass() {
				t.Fatalf("error-class event %q (%q) lost", skipped.ID, skipped.Message)
			}
		}
	})
}

// FuzzCandidate: reading the escaped form is reading the decoded message.
func FuzzCandidate(f *testing.F) {
	for _, lines := range traces {
		for _, l := range lines {
			f.Add(l)
		}
	}
	f.Fuzz(func(t *testing.T, m string) {
		raw, err := json.Marshal(m)
		if err != nil {
			return
		}
		var decoded string
		if err := json.Unmarshal(raw, &decoded); err != nil {
			t.Fatal(err)
		}
		if got, want := Candidate(raw[1:len(raw)-1]), CandidateText(decoded); got != want {
			t.Fatalf("%q: Candidate(escaped) %v, CandidateText(decoded) %v", m, got, want)
		}
	})
}
