package ingest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
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
