package chaos_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aient/firehose-drain/internal/testkit/awstest"
	"github.com/aient/firehose-drain/internal/testkit/deploytest"
	"github.com/aient/firehose-drain/internal/testkit/firehosetest"
	"github.com/aient/firehose-drain/pkg/problems"
)

// The drill's flags: `make chaos` runs the long drill; -chaos.seed repeats a run's draws.
var (
	longDrill = flag.Bool("chaos.long", false, "run the long drill (make chaos) instead of the short one (make test)")
	seedFlag  = flag.Uint64("chaos.seed", 0, "seed of the drill's draws (0: from the clock; every run prints its seed)")
)

// TestMain runs the package's tests on one moto server (each test in an account of its own).
func TestMain(m *testing.M) { awstest.Main(m, deploytest.RemoveBuilds) }

func drillSeed(t *testing.T) uint64 {
	if *seedFlag != 0 {
		return *seedFlag
	}
	s := uint64(time.Now().UnixNano())
	t.Logf("seed %d (repeat the draws with -args -chaos.seed=%d)", s, s)
	return s
}

// bugs are the distinct errors of the workload: every occurrence of one is one problem.
var bugs = []struct {
	name  string // in the problem's title
	event func(i int) firehosetest.LogEvent
}{
	{"PaymentError", firehosetest.ErrorEvent},
	{"KeyError", firehosetest.OtherErrorEvent},
}

type record struct {
	group, stream string
	events        []firehosetest.LogEvent
}

// delivery is one Firehose request: its id stays the same across the retries of it.
type delivery struct {
	requestID string
	body      []byte
}

// workload is what the drill sends, and what it must find counted.
type workload struct {
	deliveries []delivery
	// expected is each bug's distinct error events: what its problem's count must be.
	expected map[string]int64
	// sent counts error events in the deliveries, repeats included; distinct is the
	// identities among them.
	sent, distinct int64
}

// newWorkload builds n deliveries of 1-3 records of 2-6 events each (errors of both bugs
// and info lines). About one delivery in five repeats a record an earlier delivery
// carried, as CloudWatch and Firehose deliver at least once: its events count once.
func newWorkload(rng *rand.Rand, n int) workload {
	w := workload{expected: map[string]int64{}}
	seen := map[string]bool{}
	var earlier []record
	next := 0
	for d := range n {
		var recs []record
		if len(earlier) > 0 && rng.IntN(5) == 0 {
			recs = append(recs, earlier[rng.IntN(len(earlier))])
		}
		for range 1 + rng.IntN(3) {
			r := record{
				group:  []string{"/aws/lambda/checkout", "/aws/lambda/payments"}[rng.IntN(2)],
				stream: "2026/12/01/[$LATEST]" + strconv.FormatUint(rng.Uint64()%3, 16) + "f0c9e3a1b2d4c6e8f0a1b2c3d4e5f60",
			}
			for range 2 + rng.IntN(5) {
				next++
				switch k := rng.IntN(10); {
				case k < 5:
					r.events = append(r.events, bugs[0].event(next))
				case k < 8:
					r.events = append(r.events, bugs[1].event(next))
				default:
					r.events = append(r.events, firehosetest.InfoEvent(next))
				}
			}
			recs = append(recs, r)
			earlier = append(earlier, r)
		}
		data := make([]string, len(recs))
		for i, r := range recs {
			data[i] = firehosetest.Record(r.group, r.stream, r.events...)
			for _, e := range r.events {
				b := bugOf(e)
				if b == "" {
					continue
				}
				w.sent++
				if id := r.group + "\x00" + r.stream + "\x00" + e.ID; !seen[id] {
					seen[id] = true
					w.distinct++
					w.expected[b]++
				}
			}
		}
		id := fmt.Sprintf("c0ffee00-chaos-4000-8000-%012d", d)
		w.deliveries = append(w.deliveries, delivery{requestID: id, body: firehosetest.Body(id, data...)})
	}
	return w
}

// bugOf names the bug an event is an occurrence of ("" for an info line).
func bugOf(e firehosetest.LogEvent) string {
	for _, b := range bugs {
		if strings.Contains(e.Message, b.name) {
			return b.name
		}
	}
	return ""
}

// check is the oracle: every bug is one problem whose count is its distinct events, and
// nothing else was counted.
func (w workload) check(ps []problems.Problem) (counted int64, errs []error) {
	got := map[string]int64{}
	for _, p := range ps {
		counted += p.Count
		name := ""
		for _, b := range bugs {
			if strings.Contains(p.Title, b.name) {
				name = b.name
			}
		}
		if name == "" {
			errs = append(errs, fmt.Errorf("problem %s %q (count %d) is none of the workload's bugs", p.ID, p.Title, p.Count))
			continue
		}
		if _, dup := got[name]; dup {
			errs = append(errs, fmt.Errorf("bug %s is more than one problem", name))
		}
		got[name] += p.Count
	}
	for _, b := range bugs {
		switch want, have := w.expected[b.name], got[b.name]; {
		case have < want:
			errs = append(errs, fmt.Errorf("%s: counted %d of %d distinct events: %d LOST", b.name, have, want, want-have))
		case have > want:
			errs = append(errs, fmt.Errorf("%s: counted %d for %d distinct events: %d COUNTED TWICE", b.name, have, want, have-want))
		}
	}
	return counted, errs
}

// Firehose's request headers for a delivery to drain with key.
func firehoseHeaders(d delivery, key string) map[string]string {
	return map[string]string{
		"content-type":                    "application/json",
		"x-amz-firehose-protocol-version": "1.0",
		"x-amz-firehose-request-id":       d.requestID,
		"x-amz-firehose-source-arn":       "arn:aws:firehose:us-east-1:123456789012:deliverystream/chaos",
		"x-amz-firehose-access-key":       key,
	}
}

// urlEvent is the Function URL event (payload format 2.0) of a delivery.
func urlEvent(d delivery, drainID, key string) []byte {
	path := "/aws/firehose/" + drainID
	headers := firehoseHeaders(d, key)
	headers["host"] = "chaos0123456789abcdef0123456789ab.lambda-url.us-east-1.on.aws"
	headers["content-length"] = strconv.Itoa(len(d.body))
	ev := events.LambdaFunctionURLRequest{
		Version: "2.0", RawPath: path, Headers: headers, Body: string(d.body),
		RequestContext: events.LambdaFunctionURLRequestContext{
			AccountID: "anonymous", RequestID: d.requestID, DomainName: headers["host"],
			TimeEpoch: time.Now().UnixMilli(),
			HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{
				Method: "POST", Path: path, Protocol: "HTTP/1.1", SourceIP: "203.0.113.10",
			},
		},
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err) // plain values only
	}
	return b
}

var digits = regexp.MustCompile(`[0-9]+`)

// firehoseAnswer checks an answer as Firehose does: only 200 with a JSON body carrying
// the request's id (and a numeric timestamp) is success. Every answer, 200 or not, must
// be such a body; err says how one is not. The status and errorMessage come back as what,
// for the tally.
func firehoseAnswer(status int, body []byte, requestID string) (ok bool, what string, err error) {
	var a struct {
		RequestID    *string      `json:"requestId"`
		Timestamp    *json.Number `json:"timestamp"`
		ErrorMessage string       `json:"errorMessage"`
	}
	what = strconv.Itoa(status)
	if err := json.Unmarshal(body, &a); err != nil {
		return false, what, fmt.Errorf("status %d: the body is not Firehose's JSON answer: %w (%.200q)", status, err, body)
	}
	if a.ErrorMessage != "" {
		what += " " + digits.ReplaceAllString(a.ErrorMessage, "N")
	}
	if a.RequestID == nil || *a.RequestID != requestID || a.Timestamp == nil {
		return false, what, fmt.Errorf("status %d: the answer %.200q does not name request %s with a timestamp", status, body, requestID)
	}
	return status == 200, what, nil
}

// TestTheOracleNamesLostAndDoubleCountedEvents checks the drills' oracle itself: a count
// short of the distinct events is reported lost, one over it counted twice, and a problem
// of no bug (or a bug split in two problems) is reported too.
func TestTheOracleNamesLostAndDoubleCountedEvents(t *testing.T) {
	w := newWorkload(rand.New(rand.NewPCG(1, 2)), 20)
	if w.distinct == 0 || w.sent <= w.distinct {
		t.Fatalf("the workload has %d distinct of %d error events: want repeats", w.distinct, w.sent)
	}
	exact := func() []problems.Problem {
		return []problems.Problem{
			{ID: "p1", Title: "PaymentError: charge failed", Count: w.expected["PaymentError"]},
			{ID: "p2", Title: "KeyError: 'customer_1'", Count: w.expected["KeyError"]},
		}
	}
	if counted, errs := w.check(exact()); len(errs) != 0 || counted != w.distinct {
		t.Fatalf("exact counts: %d counted, errors %v", counted, errs)
	}
	for name, tc := range map[string]struct {
		change func([]problems.Problem) []problems.Problem
		want   string
	}{
		"lost":          {func(ps []problems.Problem) []problems.Problem { ps[0].Count--; return ps }, "1 LOST"},
		"counted twice": {func(ps []problems.Problem) []problems.Problem { ps[1].Count += 2; return ps }, "2 COUNTED TWICE"},
		"stray problem": {func(ps []problems.Problem) []problems.Problem {
			return append(ps, problems.Problem{ID: "p3", Title: "TypeError: x", Count: 1})
		}, "none of the workload's bugs"},
		"split bug": {func(ps []problems.Problem) []problems.Problem {
			ps[0].Count--
			return append(ps, problems.Problem{ID: "p4", Title: "PaymentError: again", Count: 1})
		}, "more than one problem"},
		"no problems": {func([]problems.Problem) []problems.Problem { return nil }, "LOST"},
	} {
		_, errs := w.check(tc.change(exact()))
		if !strings.Contains(fmt.Sprint(errs), tc.want) {
			t.Errorf("%s: errors %v, want one naming %q", name, errs, tc.want)
		}
	}
}
