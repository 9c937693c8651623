package ingest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/grouper"
	"github.com/aient/firehose-drain/pkg/ingest"
)

// rawRecord is a gzip record of the CloudWatch document doc as given (json.Marshal would
// turn invalid UTF-8 into U+FFFD before the ingest sees it).
func rawRecord(doc string) string {
	return base64.StdEncoding.EncodeToString(fht.Gzip([]byte(doc)))
}

// TestIdentityIsComputedOnceAndCarried pins defect 6 of issue 14: with invalid UTF-8 in
// the stream name or the event id, the queue's JSON turned the bytes into U+FFFD and the
// grouper hashed another identity than the one the ingest claimed (two claims, one count).
// The ingest's identity now travels with the event and is what the grouper counts by.
func TestIdentityIsComputedOnceAndCarried(t *testing.T) {
	r := newRig(t)
	body := fht.Body(reqID, rawRecord(`{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"g","logStream":"s`+"\xff"+`","logEvents":[`+
		`{"id":"1`+"\xfe"+`","timestamp":1,"message":"ERROR a"},{"id":"2","timestamp":1,"message":"ERROR b"}]}`))
	if a := r.post(t, "/aws/firehose/"+drainID, body, nil); a.Status != 200 {
		t.Fatalf("answer %d %q", a.Status, a.ErrorMessage)
	}
	sent := r.sender.events()
	if len(sent) != 2 {
		t.Fatalf("sent %d events", len(sent))
	}
	for _, e := range sent {
		claimed := e.ComputeIdentity() // what the ingest claimed, from the bytes it decoded
		if e.IdentityKey != claimed {
			t.Errorf("event %q carries identity %q, claimed %q", e.ID, e.IdentityKey, claimed)
		}
		raw, err := json.Marshal(e) // the queue's message body
		if err != nil {
			t.Fatal(err)
		}
		var got event.Event
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		if o := grouper.Occurrence(&got); o.Identity != claimed {
			t.Errorf("the grouper counts event %q under %q, the ingest claimed %q", e.ID, o.Identity, claimed)
		}
	}
}

// TestUnknownDrainsWriteNothing pins defect 3 of issue 14 for the ingest: an unknown drain
// id answers 401 like a wrong key, but writes no auth-failure bookkeeping (before, every
// fresh unknown id cost a conditional write); a malformed id costs no lookup at all.
func TestUnknownDrainsWriteNothing(t *testing.T) {
	r := newRig(t)
	for _, id := range []string{"drn_nosuch1", "drn_nosuch2", "drn_nosuch3"} {
		if a := r.post(t, "/aws/firehose/"+id, fht.Body(reqID, fht.Record("g", "s", fht.InfoEvent(1))), nil); a.Status != 401 {
			t.Fatalf("unknown drain answered %d", a.Status)
		}
	}
	if n := len(r.books.authFailures); n != 0 {
		t.Errorf("unknown drains wrote %d auth-failure notes, want none", n)
	}
	if a := r.post(t, "/aws/firehose/"+drainID, fht.Body(reqID, fht.Record("g", "s", fht.InfoEvent(1))), map[string]string{"x-amz-firehose-access-key": "fhd_wrong"}); a.Status != 401 {
		t.Fatalf("wrong key answered %d", a.Status)
	}
	if n := len(r.books.authFailures); n != 1 {
		t.Errorf("a wrong key on a real drain wrote %d notes, want 1", n)
	}
}

// TestEveryAnswerOnTheRouteIsAFirehoseAnswer pins defect 7 of issue 14 for the handler
// (the Lambda's rawPath is taken as it came): paths a router would clean are not the
// endpoint (404), malformed drain ids answer as an unknown drain (401, not 404), and
// every answer is the Firehose JSON body, through Handle and through Invoke.
func TestEveryAnswerOnTheRouteIsAFirehoseAnswer(t *testing.T) {
	r := newRig(t)
	good := fht.Body(reqID, fht.Record("g", "s", fht.InfoEvent(1)))
	cases := []struct {
		path   string
		status int
	}{
		{"/aws/firehose/" + drainID, 200},
		{"/aws//firehose/" + drainID, 404},
		{"/aws/firehose/../firehose/" + drainID, 401},
		{"/aws/firehose/./" + drainID, 401},
		{"/aws/firehose/", 401},
		{"/aws/firehose/" + drainID + "/", 401},
		{"/aws/firehose/" + strings.Repeat("a", 65), 401},
		{"//aws/firehose/" + drainID, 404},
		{"/", 404},
	}
	for _, c := range cases {
		if a := r.post(t, c.path, good, nil); a.Status != c.status || a.RequestID != reqID {
			t.Errorf("Handle %s: %d %q, want %d", c.path, a.Status, a.RequestID, c.status)
		}
		ev, _ := json.Marshal(map[string]any{
			"rawPath": c.path, "requestContext": map[string]any{"http": map[string]string{"method": "POST"}},
			"headers": map[string]string{"x-amz-firehose-request-id": reqID, "x-amz-firehose-access-key": key}, "body": string(good),
		})
		out, err := r.h.Invoke(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		var resp struct {
			StatusCode int               `json:"statusCode"`
			Headers    map[string]string `json:"headers"`
			Body       string            `json:"body"`
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatal(err)
		}
		a := decodeAnswer(t, resp.StatusCode, []byte(resp.Body))
		if a.Status != c.status || resp.Headers["Content-Type"] != "application/json" {
			t.Errorf("Invoke %s: %d %v, want %d", c.path, a.Status, resp.Headers, c.status)
		}
	}
	_ = http.StatusOK
	_ = ingest.PathPrefix
}
