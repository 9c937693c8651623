package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aient/firehose-drain/internal/testkit/awstest"
	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
	dedupddb "github.com/aient/firehose-drain/pkg/dedup/ddb"
	"github.com/aient/firehose-drain/pkg/drains"
	drainsddb "github.com/aient/firehose-drain/pkg/drains/ddb"
	"github.com/aient/firehose-drain/pkg/secrets"
)

// The function's wiring, from its environment to an answer, against moto: the pepper
// from Secrets Manager, drains and claims in DynamoDB, events to SQS.
func TestSetupServesADeliveryFromItsEnvironment(t *testing.T) {
	m := awstest.Start(t)
	ctx := context.Background()

	cfg := m.Config()
	db := dynamodb.NewFromConfig(cfg)
	sm := secretsmanager.NewFromConfig(cfg)
	for _, create := range []func() error{
		func() error { return drainsddb.CreateTable(ctx, db, "drains") },
		func() error { return dedupddb.CreateTable(ctx, db, "claims") },
	} {
		if err := create(); err != nil {
			t.Fatal(err)
		}
	}
	q, err := sqs.NewFromConfig(cfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("events")})
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		envDrainsTable: "drains", envClaimsTable: "claims", envQueueURL: *q.QueueUrl, envPepperSecret: "aient-pepper",
		// What Lambda sets (the AWS configuration is read from getenv too), moto's endpoint.
		"AWS_ENDPOINT_URL": m.Endpoint, "AWS_REGION": awstest.Region,
		"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
	}
	getenv := func(k string) string { return env[k] }

	// No secret yet: a clear start-up error, never a handler that answers 200.
	if _, err := setup(ctx, getenv, slog.Default()); err == nil || !strings.Contains(err.Error(), "aient-pepper") {
		t.Fatalf("setup without the pepper secret: %v, want an error naming the secret", err)
	}
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("aient-pepper"), SecretString: aws.String("pepper-value-0123456789")}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{envDrainsTable, envClaimsTable, envQueueURL, envPepperSecret, "AWS_REGION", "AWS_ACCESS_KEY_ID"} {
		saved := env[k]
		delete(env, k)
		if _, err := setup(ctx, getenv, slog.Default()); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("setup without %s: %v, want an error naming it", k, err)
		}
		env[k] = saved
	}

	h, err := setup(ctx, getenv, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	svc := drains.NewService(drainsddb.New(db, "drains"), secrets.NewPepper(sm, "aient-pepper", 0), drains.Config{})
	d, key, err := svc.Create(ctx, "acme", "prod")
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := json.Marshal(map[string]any{
		"version": "2.0", "rawPath": "/aws/firehose/" + d.ID,
		"body":           string(fht.Body("req-1", fht.Record("/aws/lambda/pay", "s", fht.ErrorEvent(1)))),
		"headers":        map[string]string{"x-amz-firehose-request-id": "req-1", "x-amz-firehose-access-key": key},
		"requestContext": map[string]any{"http": map[string]string{"method": "POST"}},
	})
	out, err := h.Invoke(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		StatusCode int `json:"statusCode"`
	}
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != 200 {
		t.Fatalf("answer %s (%v)", out, err)
	}
	msgs, err := sqs.NewFromConfig(cfg).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10})
	if err != nil || len(msgs.Messages) != 1 {
		t.Fatalf("queue holds %v (%v), want the one error event", msgs, err)
	}
}

// The ingest's AWS configuration comes from internal/awsenv, not the SDK's config
// package: linked, config brings the STS, SSO, SSO OIDC and sign-in clients, ~1.9 MB of
// binary the ingest's peak RSS pays for (README, Performance). A new import that pulls it
// back in fails here.
func TestIngestDoesNotLinkTheSDKConfigPackage(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command: %v", err)
	}
	cmd := exec.Command(goBin, "list", "-deps", "-tags", "lambda.norpc", ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		switch pkg {
		case "github.com/aws/aws-sdk-go-v2/config", "github.com/aws/aws-sdk-go-v2/service/sts", "github.com/aws/aws-sdk-go-v2/service/sso":
			t.Errorf("the ingest links %s", pkg)
		}
	}
}
