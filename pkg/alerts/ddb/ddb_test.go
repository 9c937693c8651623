package ddb_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/aient/firehose-drain/internal/testkit/awstest"
	"github.com/aient/firehose-drain/pkg/alerts"
	"github.com/aient/firehose-drain/pkg/alerts/alertstest"
	alertsddb "github.com/aient/firehose-drain/pkg/alerts/ddb"
	problemsddb "github.com/aient/firehose-drain/pkg/problems/ddb"
)

func TestAgainstMoto(t *testing.T) {
	moto := awstest.Start(t)
	tables := moto.NewTables("problems", problemsddb.CreateTable)
	t.Run("destinations contract", func(t *testing.T) {
		alertstest.RunDestinations(t, func(t *testing.T) alerts.Destinations {
			return alertsddb.NewDestinations(tables.Client, tables.Fresh(t))
		})
	})
	t.Run("rate contract", func(t *testing.T) {
		alertstest.RunRate(t, func(t *testing.T) alerts.Rate {
			return alertsddb.NewDestinations(tables.Client, tables.Fresh(t))
		})
	})
	t.Run("secrets in Secrets Manager, never in the table", func(t *testing.T) {
		ctx := t.Context()
		sm := secretsmanager.NewFromConfig(moto.Config())
		s := alertsddb.NewSecrets(sm, "stack/alerts/")
		v := alerts.Secret{URL: "https://hooks.slack.com/services/T/B/SECRETTOKEN", SigningKey: "k"}
		ref, err := s.PutSecret(ctx, "dst_a", v)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(ref, "arn:aws:secretsmanager:") || !strings.Contains(ref, ":secret:stack/alerts/dst_a") {
			t.Fatalf("ref %q, want the secret's ARN under the prefix", ref)
		}
		got, err := s.GetSecret(ctx, ref)
		if err != nil || got != v {
			t.Fatalf("GetSecret: equal %v, %v", got == v, err)
		}
		if err := s.DeleteSecret(ctx, ref); err != nil {
			t.Fatal(err)
		}
		if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(ref)}); err == nil {
			t.Fatal("the deleted secret is still in Secrets Manager")
		}
	})
}
