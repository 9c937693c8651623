package ingest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aient/firehose-drain/internal/testkit/logtest"
	"github.com/aient/firehose-drain/pkg/ingest"
)

// Requests refused for their key are counted in memory and booked with the drain's next
// delivery: Deliveries counts them and the log holds one entry saying how many; a drain id
// that does not exist never gets a delivery write.
func TestRefusedRequestsAreBookedWithTheNextDelivery(t *testing.T) {
	r := newRig(t)
	body := fixture(t, "firehose/alloy/cw_logs_mixed.json")
	for i := range 5 {
		r.now = r.now.Add(10 * time.Second)
		if a := r.post(t, "/aws/firehose/"+drainID, body, map[string]string{"x-amz-firehose-access-key": "fhd_wrong"}); a.Status != 401 {
			t.Fatalf("bad key %d answered %d", i, a.Status)
		}
		if a := r.post(t, "/aws/firehose/drn_nosuchdrain", body, nil); a.Status != 401 {
			t.Fatalf("unknown drain answered %d", a.Status)
		}
	}
	if n := len(r.books.deliveries); n != 0 {
		t.Fatalf("%d delivery writes for refused requests, want none until a delivery", n)
	}
	if a := r.post(t, "/aws/firehose/"+drainID, body, nil); a.Status != http.StatusOK {
		t.Fatalf("good delivery answered %d %s", a.Status, a.ErrorMessage)
	}
	if len(r.books.deliveries) != 1 {
		t.Fatalf("%d delivery writes, want 1", len(r.books.deliveries))
	}
	d := r.books.last()
	if d.Counters.Deliveries != 6 {
		t.Errorf("Deliveries %d, want 6: five refused and one delivered", d.Counters.Deliveries)
	}
	if len(d.Log) != 2 || d.Log[0].Status != 401 || !strings.Contains(d.Log[0].Reason, "5 requests refused") || d.Log[1].Status != 200 {
		t.Errorf("log entries %+v", d.Log)
	}
	// Booked once: the next delivery counts itself only.
	r.post(t, "/aws/firehose/"+drainID, body, nil)
	if d := r.books.last(); d.Counters.Deliveries != 1 || len(d.Log) != 1 {
		t.Errorf("the next delivery: %+v", d)
	}
}

// The log line of a delivery names the drain, org and env, is at WARN for 4xx and 5xx, and
// leaves out the fields that are empty.
func TestTheDeliveryLogLine(t *testing.T) {
	r := newRig(t)
	log, lines := logtest.Logger()
	r.h = ingest.New(r.auth, r.books, r.claims, r.sender, ingest.Config{Now: func() time.Time { return r.now }, Logger: log})
	body := fixture(t, "firehose/alloy/cw_logs_mixed.json")
	r.post(t, "/aws/firehose/"+drainID, body, nil)
	r.post(t, "/aws/firehose/"+drainID, body, map[string]string{"x-amz-firehose-access-key": "fhd_wrong"})
	r.post(t, "/aws/firehose/"+drainID, []byte("{}"), nil)
	got := strings.Split(strings.TrimSpace(lines.String()), "\n")
	if len(got) != 3 {
		t.Fatalf("log lines:\n%s", lines.String())
	}
	ok, refused, bad := got[0], got[1], got[2]
	for _, want := range []string{"level=INFO", "status=200", "drain=" + drainID, "org=acme", "env=prod", "records="} {
		if !strings.Contains(ok, want) {
			t.Errorf("the 200 line lacks %q: %s", want, ok)
		}
	}
	if strings.Contains(ok, "error=") || strings.Contains(ok, "busy=") {
		t.Errorf("the 200 line carries empty fields: %s", ok)
	}
	if !strings.Contains(refused, "level=WARN") || !strings.Contains(refused, "status=401") || !strings.Contains(refused, "drain="+drainID) {
		t.Errorf("the 401 line: %s", refused)
	}
	if !strings.Contains(bad, "level=WARN") || !strings.Contains(bad, "status=400") || !strings.Contains(bad, "org=acme") {
		t.Errorf("the 400 line: %s", bad)
	}
}
