package embedded_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aient/firehose-drain/pkg/alerts"
	"github.com/aient/firehose-drain/pkg/alerts/alertstest"
	"github.com/aient/firehose-drain/pkg/problems"
)

func TestDestinationsContract(t *testing.T) {
	t.Parallel() // a store of its own
	alertstest.RunDestinations(t, func(t *testing.T) alerts.Destinations { return openStore(t, t.TempDir()).Destinations() })
}

func TestOutboxContract(t *testing.T) {
	alertstest.RunOutbox(t, func(t *testing.T) (alerts.Outbox, func(problems.Notice)) {
		st := openStore(t, t.TempDir())
		return st.Outbox(), func(n problems.Notice) {
			if err := st.PutNotice(context.Background(), n); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestSecretsAreFilesOnlyTheUserReads(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	ctx := t.Context()
	sec := st.Secrets()
	v := alerts.Secret{URL: "https://hooks.slack.com/services/T000/B000/XXXXSECRET", SigningKey: "s3cr3t"}
	ref, err := sec.PutSecret(ctx, "dst_a", v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := sec.GetSecret(ctx, ref)
	if err != nil || got != v {
		t.Fatalf("GetSecret = %v, %v", got == v, err)
	}
	fi, err := os.Stat(filepath.Join(dir, "alert-secrets", ref))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file %v, %v; want mode 0600", fi.Mode(), err)
	}
	db, err := os.ReadFile(filepath.Join(dir, "aient.db"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(db), "XXXXSECRET") {
		t.Fatal("the secret is in the database file")
	}
	if err := sec.DeleteSecret(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if _, err := sec.GetSecret(ctx, ref); err == nil {
		t.Fatal("a deleted secret is still readable")
	}
	if _, err := sec.GetSecret(ctx, "../aient.db"); err == nil {
		t.Fatal("a secret name outside the secrets dir was read")
	}
}

func TestAlertRateContract(t *testing.T) {
	alertstest.RunRate(t, func(t *testing.T) alerts.Rate {
		r, ok := openStore(t, t.TempDir()).Destinations().(alerts.Rate)
		if !ok {
			t.Fatal("the embedded destinations are not an alerts.Rate")
		}
		return r
	})
}
