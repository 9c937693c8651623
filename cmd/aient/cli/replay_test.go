package cli_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aient/firehose-drain/cmd/aient/cli"
	"github.com/aient/firehose-drain/internal/testkit/awstest"
	dedupddb "github.com/aient/firehose-drain/pkg/dedup/ddb"
	"github.com/aient/firehose-drain/pkg/drains"
	drainsddb "github.com/aient/firehose-drain/pkg/drains/ddb"
	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/grouper"
)

// firehoseBackup is an object of Firehose's S3 backup for an HTTP endpoint destination:
// one JSON line per record it could not deliver, in the documented shape, with a corrupt
// line after the first.
func firehoseBackup(t *testing.T, docs int) (obj []byte, errorEvents int) {
	t.Helper()
	var buf bytes.Buffer
	for i := range docs {
		type ev struct {
			ID        string `json:"id"`
			Timestamp int64  `json:"timestamp"`
			Message   string `json:"message"`
		}
		doc := map[string]any{
			"messageType": "DATA_MESSAGE", "owner": "111122223333", "logGroup": "/aws/lambda/api",
			"logStream": "s" + strconv.Itoa(i), "subscriptionFilters": []string{"aient"},
			"logEvents": []ev{
				{fmt.Sprintf("%d-1", i), 1763726400000, fmt.Sprintf(`{"level":"error","message":"upstream %d failed","error":"UpstreamError","stack":"UpstreamError: upstream failed\n    at call (/var/task/api.js:%d:5)"}`, i, i)},
				{fmt.Sprintf("%d-2", i), 1763726400001, "INFO all good"},
			},
		}
		errorEvents++
		raw, _ := json.Marshal(doc)
		var gz bytes.Buffer
		w := gzip.NewWriter(&gz)
		_, _ = w.Write(raw) // into a bytes.Buffer: never fails
		_ = w.Close()
		line, _ := json.Marshal(map[string]any{
			"attemptsMade": 8, "arrivalTimestamp": 1763726400000, "errorCode": "HttpEndpoint.ResponseErrorCode",
			"errorMessage": "The endpoint answered 503", "attemptEndingTimestamp": 1763733600000,
			"rawData": base64.StdEncoding.EncodeToString(gz.Bytes()), "subsequenceNumber": 0,
		})
		buf.Write(line)
		buf.WriteByte('\n')
		if i == 0 {
			buf.WriteString("{\"attemptsMade\": 8, \"rawData\": \"H4sIAAAA\n")
		}
	}
	return buf.Bytes(), errorEvents
}

func TestReplayTwiceOnTheEmbeddedStoreChangesNoCount(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := aient(t, dir, "drains", "create", "--org", "acme", "--env", "prod", "--json")
	if code != 0 {
		t.Fatalf("create: %s", errOut)
	}
	id := mustJSON[cli.Created](t, out).ID
	obj, errs := firehoseBackup(t, 4)
	file := filepath.Join(dir, "aient-backup-1-2026-11-21-12-00-00-abcd")
	if err := os.WriteFile(file, obj, 0o600); err != nil {
		t.Fatal(err)
	}
	for attempt := range 2 {
		code, out, errOut = aient(t, dir, "replay", file, "--json")
		if code != 0 {
			t.Fatalf("replay %d: exit %d: %s", attempt, code, errOut)
		}
		s := mustJSON[cli.ReplaySummary](t, out)
		wantSent, wantDup := errs, 0
		if attempt == 1 {
			wantSent, wantDup = 0, errs
		}
		if s.Drain != id || s.Objects != 1 || s.Records != 5 || s.Events != 8 || s.ErrorEvents != errs ||
			s.Sent != wantSent || s.Duplicates != wantDup || s.Rejected != 1 || s.FirehoseErrors["HttpEndpoint.ResponseErrorCode"] != 4 {
			t.Fatalf("replay %d summary %+v", attempt, s)
		}
		if len(s.Each) != 1 || len(s.Each[0].Problems) != 1 || !strings.Contains(s.Each[0].Problems[0], file+":2") {
			t.Errorf("the corrupt line is not named: %+v", s.Each)
		}
		if !strings.Contains(errOut, "replay: 1 objects, 5 records") {
			t.Errorf("no progress line: %q", errOut)
		}
	}
	st, err := embedded.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ready, _, _, err := st.Queue().Depth(t.Context())
	if err != nil || ready != errs {
		t.Fatalf("queue holds %d (%v), want %d: each error event once", ready, err, errs)
	}
	d, err := st.Drains().Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if r := d.Sources[drains.SourceReplay]; r.Deliveries != 2 || r.Rejected != 0 || r.ErrorEvents != int64(2*errs) {
		t.Errorf("replay bookkeeping %+v", r)
	}

	t.Run("drain status names the replay source", func(t *testing.T) {
		code, out, _ := aient(t, dir, "drains", "status", id)
		if code != 0 || !strings.Contains(out, "Source replay") || !strings.Contains(out, "2 deliveries") {
			t.Errorf("status %q", out)
		}
	})
	t.Run("text output and errors", func(t *testing.T) {
		code, out, _ := aient(t, dir, "replay", file)
		if code != 0 || !strings.Contains(out, "Duplicates skipped") || !strings.Contains(out, file+":2") {
			t.Errorf("exit %d, text %q", code, out)
		}
		if code, _, _ := aient(t, dir, "replay"); code != 2 {
			t.Errorf("no input: exit %d, want 2", code)
		}
		if code, _, _ := aient(t, dir, "replay", filepath.Join(dir, "missing")); code != 1 {
			t.Errorf("a missing file: exit %d, want 1", code)
		}
	})
}

// TestReplayFromS3OnMoto replays a backup prefix from moto's S3 into the stack's tables and
// queue on moto (--backend aws), twice.
func TestReplayFromS3OnMoto(t *testing.T) {
	m := awstest.Start(t)
	cfg := m.Config()
	ctx := t.Context()
	db := dynamodb.NewFromConfig(cfg)
	for table, create := range map[string]func(context.Context, *dynamodb.Client, string) error{
		"drains": drainsddb.CreateTable, "claims": dedupddb.CreateTable,
	} {
		if err := create(ctx, db, table); err != nil {
			t.Fatal(err)
		}
	}
	const id = "drn_replay"
	if err := drainsddb.New(db, "drains").Create(ctx, drains.Drain{ID: id, Org: "acme", Env: "prod", State: drains.StateActive, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	sq := sqs.NewFromConfig(cfg)
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("events")})
	if err != nil {
		t.Fatal(err)
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("backup")}); err != nil {
		t.Fatal(err)
	}
	obj, errs := firehoseBackup(t, 3)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, _ = w.Write(obj) // into a bytes.Buffer: never fails
	_ = w.Close()
	for key, body := range map[string][]byte{"http-endpoint-failed/2026/11/21/12/a.gz": gz.Bytes(), "http-endpoint-failed/2026/11/21/13/b": obj, "elsewhere/c": obj} {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("backup"), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("AWS_ENDPOINT_URL", m.Endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", awstest.Region)
	for attempt := range 2 {
		code, out, errOut := aient(t, t.TempDir(), "replay", "--backend", "aws", "--drains-table", "drains", "--claims-table", "claims",
			"--queue-url", aws.ToString(q.QueueUrl), "--drain", id, "--json", "s3://backup/http-endpoint-failed/")
		if code != 0 {
			t.Fatalf("replay %d: exit %d: %s", attempt, code, errOut)
		}
		s := mustJSON[cli.ReplaySummary](t, out)
		// Both objects hold the same records: one identity each, sent once in all.
		wantSent := []int{errs, 0}[attempt]
		if s.Objects != 2 || s.ErrorEvents != 2*errs || s.Sent != wantSent || s.Duplicates != 2*errs-wantSent || s.Rejected != 2 {
			t.Fatalf("replay %d summary %+v", attempt, s)
		}
	}
	// The sender packs several events into a message: count the events the queue holds.
	queued := 0
	for {
		out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			evs, err := grouper.Decode([]byte(aws.ToString(m.Body)))
			if err != nil {
				t.Fatalf("queued message is not what the grouper reads: %v", err)
			}
			queued += len(evs)
		}
	}
	if queued != errs {
		t.Fatalf("queue holds %d events, want %d", queued, errs)
	}
}
