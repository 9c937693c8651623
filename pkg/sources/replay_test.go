package sources_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/sources"
)

// backupObject is a Firehose S3 backup object of failed HTTP endpoint deliveries, in the
// documented shape: one JSON line per record, rawData the record's data in base64.
func backupObject(t *testing.T, corrupt bool, docs ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	for i, d := range docs {
		line, _ := json.Marshal(map[string]any{
			"attemptsMade": 12, "arrivalTimestamp": 1763726400000 + int64(i),
			"errorCode":              "HttpEndpoint.DestinationException",
			"errorMessage":           "The following response was received from the endpoint destination. 503: {\"requestId\":\"r\",\"timestamp\":1,\"errorMessage\":\"dedup store unavailable; retry\"}",
			"attemptEndingTimestamp": 1763733600000 + int64(i),
			"rawData":                base64.StdEncoding.EncodeToString(gz(t, d)),
			"subsequenceNumber":      0,
		})
		buf.Write(line)
		buf.WriteByte('\n')
		if corrupt && i == 0 {
			buf.WriteString(`{"attemptsMade":12,"rawData":"H4sI` + "\n") // cut off mid-line
		}
	}
	return buf.Bytes()
}

func TestReplayBackupTwiceChangesNoCount(t *testing.T) {
	r := newRig(t)
	obj := backupObject(t, true, doc(t, "a", 4, 2), doc(t, "b", 3, 1), doc(t, "c", 2, 0))
	for _, enc := range []struct {
		name string
		b    []byte
	}{{"plain", obj}, {"gzip", gz(t, obj)}} {
		t.Run(enc.name, func(t *testing.T) {
			got := sources.ReplayObject(t.Context(), r.p, drainID, "", "backup/"+enc.name, bytes.NewReader(enc.b))
			wantSent := 3
			if enc.name == "gzip" {
				wantSent = 0 // the same records replayed again
			}
			if got.Format != "firehose-backup" || got.Records != 4 || got.Events != 9 || got.ErrorEvents != 3 ||
				got.Sent != wantSent || got.Duplicates != 3-wantSent || got.Rejected != 1 || got.Err != "" {
				t.Fatalf("replayed %+v", got)
			}
			if len(got.Problems) != 1 || !strings.Contains(got.Problems[0], "backup/"+enc.name+":2") {
				t.Errorf("problems %v: want line 2 named", got.Problems)
			}
			if got.FirehoseErrors["HttpEndpoint.DestinationException"] != 3 {
				t.Errorf("firehose errors %v", got.FirehoseErrors)
			}
		})
	}
	if r.events != 3 {
		t.Fatalf("queued %d events in all, want 3", r.events)
	}
	if k := r.source(t, drains.SourceReplay); k.Deliveries != 2 || k.ErrorEvents != 6 {
		t.Errorf("replay bookkeeping %+v", k)
	}
}

func TestReplayDocumentsObject(t *testing.T) {
	r := newRig(t)
	obj := append(gz(t, doc(t, "a", 4, 2)), gz(t, doc(t, "b", 3, 3))...)
	got := sources.ReplayObject(t.Context(), r.p, drainID, "us-east-1", "s3://b/firehose/1.gz", bytes.NewReader(obj))
	if got.Format != "documents" || got.Records != 2 || got.Sent != 5 || got.Rejected != 0 {
		t.Fatalf("replayed %+v", got)
	}
	again := sources.ReplayObject(t.Context(), r.p, drainID, "us-east-1", "s3://b/firehose/1.gz", bytes.NewReader(obj))
	if again.Sent != 0 || again.Duplicates != 5 {
		t.Fatalf("again %+v", again)
	}
}

func TestReplayUnboundDrain(t *testing.T) {
	r := newRig(t)
	got := sources.ReplayObject(context.Background(), r.p, "drn_nope", "", "x", bytes.NewReader(backupObject(t, false, doc(t, "a", 1, 1))))
	if got.Err == "" || got.Sent != 0 {
		t.Fatalf("replayed %+v", got)
	}
}
