package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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
	"github.com/aient/firehose-drain/pkg/otlplogs"
	"github.com/aient/firehose-drain/pkg/secrets"
)

// The OTLP export as the function wires it, against moto: the headers come from the
// Secrets Manager secret, never from plain environment variables.
func TestSetupExportsWithHeadersFromTheSecret(t *testing.T) {
	m := awstest.Start(t)
	ctx := context.Background()
	cfg := m.Config()
	db := dynamodb.NewFromConfig(cfg)
	sm := secretsmanager.NewFromConfig(cfg)
	if err := drainsddb.CreateTable(ctx, db, "drains-otlp"); err != nil {
		t.Fatal(err)
	}
	if err := dedupddb.CreateTable(ctx, db, "claims-otlp"); err != nil {
		t.Fatal(err)
	}
	q, err := sqs.NewFromConfig(cfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("events-otlp")})
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"pepper-otlp": "pepper-value-0123456789", "otlp-headers": "x-api-key=k3y%2Cvalue,x-tenant=acme"} {
		if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(v)}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var got []http.Header
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		got = append(got, r.Header.Clone())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer backend.Close()

	env := map[string]string{
		envDrainsTable: "drains-otlp", envClaimsTable: "claims-otlp", envQueueURL: *q.QueueUrl, envPepperSecret: "pepper-otlp",
		otlplogs.EnvEndpoint: backend.URL, envOTLPHeadersSecret: "otlp-headers",
		"AWS_ENDPOINT_URL": m.Endpoint, "AWS_REGION": awstest.Region,
		"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
	}
	getenv := func(k string) string { return env[k] }

	env[otlplogs.EnvLogsHeaders] = "x-api-key=p1a1n-value"
	if _, err := setup(ctx, getenv, slog.Default()); err == nil || !strings.Contains(err.Error(), envOTLPHeadersSecret) || strings.Contains(err.Error(), "p1a1n-value") {
		t.Fatalf("setup with headers in a plain variable: %v, want a refusal that names the secret variable and not the value", err)
	}
	delete(env, otlplogs.EnvLogsHeaders)

	h, err := setup(ctx, getenv, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	svc := drains.NewService(drainsddb.New(db, "drains-otlp"), secrets.NewPepper(sm, "pepper-otlp", 0), drains.Config{})
	d, key, err := svc.Create(ctx, "acme", "prod")
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := json.Marshal(map[string]any{
		"version": "2.0", "rawPath": "/aws/firehose/" + d.ID,
		"body":           string(fht.Body("req-1", fht.Record("/aws/lambda/pay", "s", fht.ErrorEvent(1), fht.LogEvent{ID: "2", Timestamp: 1, Message: "hello"}))),
		"headers":        map[string]string{"x-amz-firehose-request-id": "req-1", "x-amz-firehose-access-key": key},
		"requestContext": map[string]any{"http": map[string]string{"method": "POST"}},
	})
	out, err := h.Invoke(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"statusCode":200`) {
		t.Fatalf("answer %s", out)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("%d export requests, want 1", len(got))
	}
	if got[0].Get("X-Api-Key") != "k3y,value" || got[0].Get("X-Tenant") != "acme" || got[0].Get("Content-Encoding") != "gzip" ||
		got[0].Get("Content-Type") != "application/x-protobuf" {
		t.Errorf("export request headers %v: want the secret's headers, gzip, protobuf", got[0])
	}
}
