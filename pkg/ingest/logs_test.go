package ingest_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
	"github.com/aient/firehose-drain/pkg/cwpayload"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/ingest"
	"github.com/aient/firehose-drain/pkg/logs"
)

// fakeLogs is a log store keyed by uid, as the embedded one is.
type fakeLogs struct {
	mu   sync.Mutex
	rows map[[32]byte]logs.Row
	puts int
	err  error
}

func (f *fakeLogs) Put(_ context.Context, rows []logs.Row) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.puts++
	if f.err != nil {
		return 0, f.err
	}
	if f.rows == nil {
		f.rows = map[[32]byte]logs.Row{}
	}
	n := 0
	for _, r := range rows {
		if _, ok := f.rows[r.UID]; !ok {
			f.rows[r.UID] = r
			n++
		}
	}
	return n, nil
}

func (f *fakeLogs) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.rows)
}

func withLogs(t *testing.T) (*rig, *fakeLogs) {
	t.Helper()
	r := newRig(t)
	store := &fakeLogs{}
	r.h = ingest.New(r.auth, r.books, r.claims, r.sender, ingest.Config{Now: func() time.Time { return r.now }, Logs: store})
	return r, store
}

// Every data event of every capture is kept, with the dedup's identity as its uid; control
// messages never.
func TestLogsKeepEveryDataEventOfTheCaptures(t *testing.T) {
	for _, c := range []struct {
		file   string
		events int
	}{
		{"firehose/alloy/cw_logs_mixed.json", 13},
		{"firehose/alloy/cw_logs_with_only_data_messages.json", 13},
		{"firehose/alloy/cw_logs_with_only_control_messages.json", 0},
		{"firehose/alloy/cw_logs_control_and_bad_records.json", 0},
		{"firehose/vector/guide_request_body.json", 2},
	} {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			r, store := withLogs(t)
			body := fixture(t, c.file)
			hdr := map[string]string{"x-amz-firehose-request-id": requestIDOf(t, body)}
			r.post(t, "/aws/firehose/"+drainID, body, hdr)
			if store.len() != c.events {
				t.Fatalf("%d lines kept, want %d", store.len(), c.events)
			}
			for _, row := range store.rows {
				if row.EventID == "" || row.Drain != drainID || row.LogGroup == "" {
					t.Errorf("row %+v", row)
				}
				want := event.Identity(drainID, row.Account, row.LogGroup, row.LogStream, row.EventID)
				if hex.EncodeToString(row.UID[:]) != want || row.UIDString() != want {
					t.Errorf("uid %x, want the identity %s", row.UID, want)
				}
			}
		})
	}
}

func requestIDOf(t *testing.T, body []byte) string {
	t.Helper()
	var b struct {
		RequestID string `json:"requestId"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatal(err)
	}
	return b.RequestID
}

func TestLogsOfAMixedDelivery(t *testing.T) {
	r, store := withLogs(t)
	body := fht.Body(reqID,
		fht.Record("/aws/lambda/pay", "s1", fht.InfoEvent(1), fht.ErrorEvent(2), fht.InfoEvent(3)),
		fht.Record("/aws/lambda/keys", "s2", fht.OtherErrorEvent(4)),
	)
	if a := r.post(t, "/aws/firehose/"+drainID, body, nil); a.Status != 200 {
		t.Fatalf("answer %+v", a)
	}
	if store.len() != 4 {
		t.Fatalf("%d lines kept, want all 4 (info and error)", store.len())
	}
	// The error events' uids are the identities the dedup claimed.
	sent := r.sender.events()
	if len(sent) != 2 {
		t.Fatalf("%d error events sent", len(sent))
	}
	for _, ev := range sent {
		uid, err := hex.DecodeString(ev.Identity())
		if err != nil {
			t.Fatal(err)
		}
		row, ok := store.rows[[32]byte(uid)]
		if !ok || row.Level != ev.Level || row.Message != ev.Message || row.Time != ev.Timestamp {
			t.Errorf("error event %s: row %+v", ev.ID, row)
		}
	}
	levels := map[event.Level]int{}
	for _, row := range store.rows {
		levels[row.Level]++
		if row.LogGroup == "/aws/lambda/pay" && row.Level == event.Info && row.RequestID != "c0ffee00-0000-4000-8000-000000000000" {
			t.Errorf("request id of %q: %q", row.Message, row.RequestID)
		}
	}
	if levels[event.Info] != 2 || levels[event.Error] != 2 {
		t.Errorf("levels %v", levels)
	}

	// Firehose's retry of the same delivery keeps nothing new.
	if a := r.post(t, "/aws/firehose/"+drainID, body, nil); a.Status != 200 || store.len() != 4 {
		t.Fatalf("redelivery: %+v, %d lines", a, store.len())
	}
}

func TestLogStoreDownAnswers503AndTheRetryKeepsEverything(t *testing.T) {
	r, store := withLogs(t)
	store.err = errors.New("disk full")
	body := fht.Body(reqID, fht.Record("/aws/lambda/pay", "s1", fht.InfoEvent(1), fht.ErrorEvent(2)))
	a := r.post(t, "/aws/firehose/"+drainID, body, nil)
	if a.Status != 503 || a.ErrorMessage != "log store unavailable; retry" {
		t.Fatalf("answer %+v, want 503", a)
	}
	store.err = nil
	if a := r.post(t, "/aws/firehose/"+drainID, body, nil); a.Status != 200 {
		t.Fatalf("retry: %+v", a)
	}
	if store.len() != 2 || len(r.sender.events()) != 1 {
		t.Errorf("after the retry: %d lines, %d error events sent; want 2 and 1", store.len(), len(r.sender.events()))
	}
}

// The log store's Visitor and the OTLP export's share the records: both see every event.
func TestVisitorsCombine(t *testing.T) {
	var a, b counter
	visit := cwpayload.Visitors(nil, a.visitor, nil, b.visitor)
	st := &cwpayload.Stamp{Drain: drainID, Visit: visit}
	recs := [][]byte{[]byte(fht.Record("/aws/lambda/pay", "s1", fht.InfoEvent(1), fht.ErrorEvent(2))), []byte(fht.Record("/aws/lambda/pay", "s2", fht.InfoEvent(3)))}
	res := cwpayload.NewDecoder(cwpayload.DefaultLimits()).DecodeRecords(context.Background(), recs, st, 2)
	for _, rr := range res {
		if rr.Err != nil {
			t.Fatal(rr.Err)
		}
	}
	if a.events != 3 || b.events != 3 || a.ends != 2 || b.ends != 2 {
		t.Errorf("visitors saw %d/%d and %d/%d events/ends, want 3 events and 2 ends each", a.events, a.ends, b.events, b.ends)
	}
	if cwpayload.Visitors(nil, nil) != nil {
		t.Error("Visitors of nothing is not nil")
	}
}

type counter struct {
	mu           sync.Mutex
	events, ends int
}

func (c *counter) visitor(int) cwpayload.Visitor { return c }
func (c *counter) Visit(*cwpayload.View) {
	c.mu.Lock()
	c.events++
	c.mu.Unlock()
}

func (c *counter) End() {
	c.mu.Lock()
	c.ends++
	c.mu.Unlock()
}
