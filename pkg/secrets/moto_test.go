package secrets

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/aient/firehose-drain/internal/testkit/awstest"
)

func TestPepperAgainstMoto(t *testing.T) {
	m := awstest.Start(t)
	client := secretsmanager.NewFromConfig(m.Config())
	const (
		first  = "first-pepper-0123456789abcdef0123456789abcdef"
		second = "second-pepper-fedcba9876543210fedcba9876543210"
	)

	t.Run("Get reads the secret string, Refresh picks up a rotation", func(t *testing.T) {
		ctx := t.Context()
		_, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("aient/pepper-rotate"), SecretString: aws.String(first)})
		if err != nil {
			t.Fatalf("CreateSecret: %v", err)
		}
		c := &clock{t: time.Unix(1_763_700_000, 0)}
		p := newPepper(client, "aient/pepper-rotate", 0, c.now)
		mustGet(t, p.Get, first)

		if _, err := client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("aient/pepper-rotate"), SecretString: aws.String(second)}); err != nil {
			t.Fatalf("PutSecretValue: %v", err)
		}
		mustGet(t, p.Get, first) // cached for the life of the container
		mustGet(t, p.Refresh, first)
		c.add(MinRefreshInterval)
		mustGet(t, p.Refresh, second)
		mustGet(t, p.Get, second)
	})

	t.Run("the public constructor reads a binary secret by ARN", func(t *testing.T) {
		raw := []byte{0x00, 0x9f, 0xff, 0x10}
		out, err := client.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{Name: aws.String("aient/pepper-binary"), SecretBinary: raw})
		if err != nil {
			t.Fatalf("CreateSecret: %v", err)
		}
		p := NewPepper(client, aws.ToString(out.ARN), 0)
		v, err := p.Get(t.Context())
		if err != nil || string(v) != string(raw) {
			t.Fatalf("Get = (%x, %v), want %x", v, err, raw)
		}
	})

	t.Run("a missing secret is a clear error naming it", func(t *testing.T) {
		p := NewPepper(client, "aient/no-such-pepper", 0)
		_, err := p.Get(t.Context())
		var rnf *types.ResourceNotFoundException
		if !errors.As(err, &rnf) {
			t.Fatalf("Get = %v, want a ResourceNotFoundException", err)
		}
		if !strings.Contains(err.Error(), `"aient/no-such-pepper"`) {
			t.Errorf("error %q does not name the secret id", err)
		}
	})

	t.Run("a secret deleted after the start fails Refresh without printing the pepper", func(t *testing.T) {
		ctx := t.Context()
		if _, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("aient/pepper-deleted"), SecretString: aws.String(first)}); err != nil {
			t.Fatalf("CreateSecret: %v", err)
		}
		c := &clock{t: time.Unix(1_763_700_000, 0)}
		p := newPepper(client, "aient/pepper-deleted", 0, c.now)
		mustGet(t, p.Get, first)
		if _, err := client.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("aient/pepper-deleted"), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
			t.Fatalf("DeleteSecret: %v", err)
		}
		c.add(time.Hour)
		_, err := p.Refresh(ctx)
		if err == nil {
			t.Fatal("Refresh of a deleted secret = nil error, want one")
		}
		if strings.Contains(err.Error(), first) || !strings.Contains(err.Error(), "aient/pepper-deleted") {
			t.Errorf("error %q: want the secret id and never the value", err)
		}
		mustGet(t, p.Get, first) // the container keeps working on what it had
	})
}
