package alerts_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/alerts"
	"github.com/aient/firehose-drain/pkg/alerts/alertstest"
	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/problems"
)

// Four deliverers (concurrent alerts-function instances, or the server and the CLI) over
// one store's destinations deliver 6 notices each at once, within one minute: the digest
// rule counts across them, so one destination gets at most DigestOver single alerts in
// all and the rest as digests; every notice reaches it exactly once.
func TestConcurrentDeliverersShareTheDigestCount(t *testing.T) {
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recv := newReceiver(t)
	ref, err := st.Secrets().PutSecret(t.Context(), "dst_hook", alerts.Secret{URL: recv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Destinations().Add(t.Context(), alerts.Destination{ID: "dst_hook", Type: alerts.Webhook, Target: alerts.Redact(recv.URL), SecretRef: ref, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	const deliverers, each = 4, 6
	at := t0.Add(10 * time.Second)
	var wg sync.WaitGroup
	for w := range deliverers {
		outbox := alertstest.NewMemOutbox()
		for i := range each {
			outbox.Put(notice(w*each+i, problems.ToNew, t0))
		}
		d := alerts.NewDeliverer(st.Destinations(), st.Secrets(), outbox, alerts.NewSenders(nil, nil), alerts.Config{
			Now: func() time.Time { return at }, Logger: slog.New(slog.DiscardHandler),
		})
		wg.Go(func() {
			if _, err := d.DeliverPending(t.Context(), 100); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	bodies, _ := recv.got()
	singles, seen := 0, map[string]int{}
	for _, b := range bodies {
		var doc alerts.Document
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		switch doc.Kind {
		case alerts.KindDigest:
			for _, p := range doc.Problems {
				seen[p.ID]++
			}
		default:
			singles++
			seen[doc.Problem.ID]++
		}
	}
	if singles > alerts.DigestOver {
		t.Errorf("%d single alerts within a minute across %d deliverers, want at most %d", singles, deliverers, alerts.DigestOver)
	}
	for i := range deliverers * each {
		if id := fmt.Sprintf("prob%03d", i); seen[id] != 1 {
			t.Errorf("problem %s reached the destination %d times, want once", id, seen[id])
		}
	}
	t.Logf("%d messages: %d single alerts, %d digests", len(bodies), singles, len(bodies)-singles)
}
