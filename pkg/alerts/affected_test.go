package alerts_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/alerts"
	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/problems"
)

// An alert names every affected account and region, largest first, as the console's
// affected counts (problems.Reader.Detail) have them — not only the sample's — and the
// functions of every log group; without the counts it falls back to the sample's.
func TestAlertsCarryTheAffectedCounts(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	st, err := embedded.Open(t.TempDir(), embedded.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	origins := []struct{ account, region, group string }{
		{"111111111111", "eu-west-1", "/aws/lambda/checkout"},
		{"111111111111", "eu-west-1", "/aws/lambda/checkout"},
		{"111111111111", "us-east-1", "/aws/lambda/checkout"},
		{"222222222222", "us-east-1", "/aws/lambda/billing"},
		{"222222222222", "eu-west-1", "/aws/lambda/billing"},
		{"333333333333", "ap-south-1", "/aws/lambda/refunds"}, // the newest: the sample
	}
	var occs []problems.Occurrence
	for i, o := range origins {
		occs = append(occs, problems.Occurrence{
			Identity: fmt.Sprintf("id-%d", i), Org: "acme", Env: "prod", Fingerprint: "fp", Title: "PaymentError: declined",
			Culprit: "charge (pay.js)", Level: "error", At: now.Add(time.Duration(i-10) * time.Second),
			Sample: problems.Sample{
				Account: o.account, Region: o.region, LogGroup: o.group, LogStream: "s", EventID: fmt.Sprint(i),
				Timestamp: now.Add(time.Duration(i-10) * time.Second).UnixMilli(), Message: "PaymentError: declined",
			},
		})
	}
	for _, r := range st.Problems().RecordBatch(t.Context(), occs) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	recv := newReceiver(t)
	ref, err := st.Secrets().PutSecret(t.Context(), "dst_hook", alerts.Secret{URL: recv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Destinations().Add(t.Context(), alerts.Destination{ID: "dst_hook", Type: alerts.Webhook, Target: alerts.Redact(recv.URL), SecretRef: ref, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	reader, ok := st.Problems().(problems.AffectedReader)
	if !ok {
		t.Fatal("the embedded problem store is not a problems.AffectedReader")
	}
	d := alerts.NewDeliverer(st.Destinations(), st.Secrets(), st.Outbox(), alerts.NewSenders(nil, nil), alerts.Config{
		Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler), Affected: reader,
	})
	if n, err := d.DeliverPending(t.Context(), 10); n != 1 || err != nil {
		t.Fatalf("DeliverPending = %d, %v; want the new problem's notice", n, err)
	}
	bodies, _ := recv.got()
	if len(bodies) != 1 {
		t.Fatalf("%d webhook calls", len(bodies))
	}
	var doc alerts.Document
	if err := json.Unmarshal(bodies[0], &doc); err != nil || doc.Problem == nil {
		t.Fatalf("webhook body: %v %s", err, bodies[0])
	}
	detail, err := st.Reader().Detail(t.Context(), doc.Problem.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(ts []problems.Tally) (out []string) {
		for _, x := range ts {
			out = append(out, x.ID)
		}
		return out
	}
	if want := ids(detail.Affected.Accounts); !slices.Equal(doc.Problem.Accounts, want) || len(want) != 3 || want[0] != "111111111111" {
		t.Errorf("alert accounts %v, want the console's %v", doc.Problem.Accounts, want)
	}
	if want := ids(detail.Affected.Regions); !slices.Equal(doc.Problem.Regions, want) || len(want) != 3 {
		t.Errorf("alert regions %v, want the console's %v", doc.Problem.Regions, want)
	}
	if fs := doc.Problem.Functions; len(fs) != 3 || !slices.Contains(fs, "billing") || !slices.Contains(fs, "refunds") {
		t.Errorf("alert functions %v", fs)
	}

	// Without the counts (the test alert has no problem in the store): the sample's.
	n := alerts.SampleNotice(now)
	sample := alerts.DocumentOf(n, "", now)
	if !slices.Equal(sample.Problem.Accounts, []string{n.Problem.Sample.Account}) {
		t.Errorf("a notice's own accounts %v", sample.Problem.Accounts)
	}
}
