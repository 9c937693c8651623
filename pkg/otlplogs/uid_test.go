package otlplogs_test

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/proto"

	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
	"github.com/aient/firehose-drain/pkg/dedup"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/ingest"
	"github.com/aient/firehose-drain/pkg/logs"
	"github.com/aient/firehose-drain/pkg/otlplogs"
)

// keyClaims is a dedup that records the keys it is asked to claim.
type keyClaims struct {
	benchClaims
	mu   sync.Mutex
	keys []string
}

func (c *keyClaims) Claim(ctx context.Context, keys []string) (*dedup.Batch, error) {
	c.mu.Lock()
	c.keys = append(c.keys, keys...)
	c.mu.Unlock()
	return c.benchClaims.Claim(ctx, keys)
}

// rowStore is a log store that keeps every row it is given.
type rowStore struct {
	mu   sync.Mutex
	rows []logs.Row
}

func (s *rowStore) Put(_ context.Context, rows []logs.Row) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows = append(s.rows, rows...)
	return len(rows), nil
}

// TestNumericAndStringIDsHaveTheirOwnUID (issue 14 item 6, issue 10's log.record.uid): the
// id 5 and the id "5" of one stream are two events; the OTLP export and the local log
// store give each the identity the dedup claims it by, so they never share a uid.
func TestNumericAndStringIDsHaveTheirOwnUID(t *testing.T) {
	doc := `{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/lambda/f","logStream":"2026/11/20/[$LATEST]ab",` +
		`"subscriptionFilters":["aient"],"logEvents":[` +
		`{"id":5,"timestamp":1763640000000,"message":"ERROR boom"},` +
		`{"id":"5","timestamp":1763640000000,"message":"ERROR boom"}]}`
	body := fht.Body("6f2e3d10-0000-4000-8000-000000000001", base64.StdEncoding.EncodeToString(fht.Gzip([]byte(doc))))
	c := newCapture(t)
	x, err := otlplogs.New(otlplogs.Config{Endpoint: c.srv.URL, Compression: otlplogs.CompressionNone}, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	claims, store := &keyClaims{}, &rowStore{}
	h := ingest.New(benchAuth{drains.Drain{ID: "drn_uid", Org: "acme", Env: "prod", State: drains.StateActive}},
		benchBooks{}, claims, benchSender{}, ingest.Config{Workers: 1, Export: x, Logs: store, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return receipt }})
	req := benchRequest(body)
	req.Path = ingest.PathPrefix + "drn_uid"
	if resp := h.Handle(context.Background(), req); resp.Status != http.StatusOK {
		t.Fatalf("status %d %s", resp.Status, resp.Body)
	}
	dedupKeys := slices.Sorted(slices.Values(claims.keys))
	if len(dedupKeys) != 2 || dedupKeys[0] == dedupKeys[1] {
		t.Fatalf("the dedup claimed %q, want two keys", dedupKeys)
	}
	var exported []string
	for _, b := range c.bodies {
		var ld logspb.LogsData
		if err := proto.Unmarshal(b, &ld); err != nil {
			t.Fatal(err)
		}
		for _, rl := range ld.ResourceLogs {
			for _, sl := range rl.ScopeLogs {
				for _, lr := range sl.LogRecords {
					for _, kv := range lr.Attributes {
						if kv.Key == otlplogs.AttrLogRecordUID {
							exported = append(exported, kv.Value.GetStringValue())
						}
					}
				}
			}
		}
	}
	slices.Sort(exported)
	if !slices.Equal(exported, dedupKeys) {
		t.Errorf("log.record.uid exported %q, the dedup's identities are %q", exported, dedupKeys)
	}
	var stored []string
	for _, r := range store.rows {
		stored = append(stored, r.UIDString())
	}
	slices.Sort(stored)
	if !slices.Equal(stored, dedupKeys) {
		t.Errorf("the log store's uids %q, the dedup's identities are %q", stored, dedupKeys)
	}
}
