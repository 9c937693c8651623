package awsenv

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aient/firehose-drain/internal/testkit/awstest"
)

// TestMain runs the package's tests on one moto server (each test in an account of its own).
func TestMain(m *testing.M) { awstest.Main(m) }

// lambdaEnv is what the Lambda runtime sets, plus extra.
func lambdaEnv(extra map[string]string) func(string) string {
	env := map[string]string{
		"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1",
		"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret-example", "AWS_SESSION_TOKEN": "token-example",
		"AWS_LAMBDA_FUNCTION_NAME": "ingest", "AWS_EXECUTION_ENV": "AWS_Lambda_provided.al2023",
	}
	for k, v := range extra {
		if v == "" {
			delete(env, k)
		} else {
			env[k] = v
		}
	}
	return func(k string) string { return env[k] }
}

func TestLoadReadsTheLambdaEnvironment(t *testing.T) {
	cfg, err := Load(lambdaEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" || cfg.BaseEndpoint != nil || cfg.RetryMaxAttempts != 0 || cfg.RetryMode != "" {
		t.Errorf("config %+v, want eu-west-1, the SDK's endpoints and retries", cfg)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "AKIDEXAMPLE" || creds.SecretAccessKey != "secret-example" || creds.SessionToken != "token-example" || creds.CanExpire {
		t.Errorf("credentials %+v, want the environment's, not expiring", creds)
	}
	if bc, ok := cfg.HTTPClient.(*awshttp.BuildableClient); !ok || bc.GetTransport().MaxIdleConnsPerHost != IdleConnsPerHost {
		t.Errorf("HTTP client %T, want the buildable client keeping %d idle connections per host", cfg.HTTPClient, IdleConnsPerHost)
	}

	cfg, err = Load(lambdaEnv(map[string]string{
		"AWS_REGION": "", "AWS_DEFAULT_REGION": "us-west-2", "AWS_ACCOUNT_ID": "123456789012",
		"AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_MAX_ATTEMPTS": "7", "AWS_RETRY_MODE": "adaptive",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "us-west-2" || aws.ToString(cfg.BaseEndpoint) != "http://127.0.0.1:4566" || cfg.RetryMaxAttempts != 7 || cfg.RetryMode != aws.RetryModeAdaptive {
		t.Errorf("config %+v, want us-west-2 from AWS_DEFAULT_REGION, the endpoint, 7 adaptive attempts", cfg)
	}
	if creds, _ := cfg.Credentials.Retrieve(context.Background()); creds.AccountID != "123456789012" {
		t.Errorf("account id %q, want AWS_ACCOUNT_ID's", creds.AccountID)
	}
	cfg, err = Load(lambdaEnv(map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}))
	if err != nil || cfg.BaseEndpoint != nil {
		t.Errorf("ignored endpoints: %v, %v, want the SDK's own", cfg.BaseEndpoint, err)
	}
}

func TestLoadRefusesWhatItDoesNotRead(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no region", map[string]string{"AWS_REGION": "", "AWS_DEFAULT_REGION": ""}, "AWS_REGION is not set"},
		{"no credentials", map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": ""}, "no credentials"},
		{"no key id", map[string]string{"AWS_ACCESS_KEY_ID": ""}, "AWS_ACCESS_KEY_ID is not set"},
		{"no secret key", map[string]string{"AWS_SECRET_ACCESS_KEY": ""}, "AWS_SECRET_ACCESS_KEY is not set"},
		{"a profile", map[string]string{"AWS_PROFILE": "dev"}, "AWS_PROFILE is set"},
		{"a role to assume", map[string]string{"AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/r", "AWS_WEB_IDENTITY_TOKEN_FILE": "/t"}, "AWS_ROLE_ARN is set"},
		{"container credentials over plain HTTP elsewhere", map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://192.0.2.7/creds"}, "AWS_CONTAINER_CREDENTIALS_FULL_URI: host \"192.0.2.7\""},
		{"container credentials, another scheme", map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "file:///creds"}, "AWS_CONTAINER_CREDENTIALS_FULL_URI"},
		{"a CA bundle", map[string]string{"AWS_CA_BUNDLE": "/etc/ca.pem"}, "AWS_CA_BUNDLE is set"},
		{"FIPS endpoints", map[string]string{"AWS_USE_FIPS_ENDPOINT": "true"}, "AWS_USE_FIPS_ENDPOINT is set"},
		{"bad max attempts", map[string]string{"AWS_MAX_ATTEMPTS": "many"}, `AWS_MAX_ATTEMPTS="many"`},
		{"zero max attempts", map[string]string{"AWS_MAX_ATTEMPTS": "0"}, `AWS_MAX_ATTEMPTS="0"`},
		{"bad retry mode", map[string]string{"AWS_RETRY_MODE": "eager"}, "AWS_RETRY_MODE"},
		{"bad ignore flag", map[string]string{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "yes"}, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(lambdaEnv(c.env))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load: %v, want an error with %q", err, c.want)
			}
			if strings.Contains(err.Error(), "secret-example") || strings.Contains(err.Error(), "token-example") {
				t.Fatalf("error %q shows a credential", err)
			}
		})
	}
}

// The real clients, over HTTP to moto, with the configuration Load gives: the global
// endpoint, and a service's own endpoint before it.
func TestLoadReachesTheConfiguredEndpoints(t *testing.T) {
	m := awstest.Start(t)
	ctx := t.Context()
	base := map[string]string{"AWS_REGION": awstest.Region, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": ""}

	base["AWS_ENDPOINT_URL"] = m.Endpoint
	cfg, err := Load(lambdaEnv(base))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqs.NewFromConfig(cfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("via-global")}); err != nil {
		t.Fatalf("SQS through AWS_ENDPOINT_URL: %v", err)
	}

	// Nothing listens on the global endpoint: SQS reaches moto only through its own.
	base["AWS_ENDPOINT_URL"], base["AWS_ENDPOINT_URL_SQS"], base["AWS_MAX_ATTEMPTS"] = "http://127.0.0.1:1", m.Endpoint, "1"
	cfg, err = Load(lambdaEnv(base))
	if err != nil {
		t.Fatal(err)
	}
	out, err := sqs.NewFromConfig(cfg).ListQueues(ctx, &sqs.ListQueuesInput{})
	if err != nil {
		t.Fatalf("SQS through AWS_ENDPOINT_URL_SQS: %v", err)
	}
	if len(out.QueueUrls) != 1 || !strings.HasSuffix(out.QueueUrls[0], "/via-global") {
		t.Fatalf("queues %v, want the one created", out.QueueUrls)
	}
	if _, err := dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{}); err == nil {
		t.Fatal("DynamoDB answered from an endpoint nobody listens on")
	}
}

// containerAgent serves the container credentials endpoint's answer to the right token.
func containerAgentServer(t *testing.T, token string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Authorization") != token || r.URL.Path != "/creds" {
			http.Error(w, `{"code":"AccessDenied","message":"wrong token"}`, http.StatusForbidden)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{
			"AccessKeyId": "testing", "SecretAccessKey": "testing", "Token": "container-token",
			"Expiration": time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		})
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// Without keys in the environment, the container credentials endpoint (as Lambda may
// serve them): its token given or read from a file, the credentials it answers used for
// real calls to moto; with keys, the keys win and the endpoint is not asked (the SDK's
// order).
func TestLoadTakesContainerCredentialsWithoutKeys(t *testing.T) {
	m := awstest.Start(t)
	ctx := t.Context()
	srv, calls := containerAgentServer(t, "agent-token")
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("agent-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	noKeys := map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_REGION": awstest.Region, "AWS_ENDPOINT_URL": m.Endpoint, "AWS_CONTAINER_CREDENTIALS_FULL_URI": srv.URL + "/creds"}
	for name, extra := range map[string]map[string]string{
		"token":      {"AWS_CONTAINER_AUTHORIZATION_TOKEN": "agent-token"},
		"token file": {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile},
	} {
		env := maps.Clone(noKeys)
		maps.Copy(env, extra)
		cfg, err := Load(lambdaEnv(env))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil || creds.AccessKeyID != "testing" || creds.SessionToken != "container-token" || !creds.CanExpire {
			t.Fatalf("%s: credentials %+v (%v), want the endpoint's, expiring", name, creds, err)
		}
		if _, err := sqs.NewFromConfig(cfg).ListQueues(ctx, &sqs.ListQueuesInput{}); err != nil {
			t.Fatalf("%s: SQS with the endpoint's credentials: %v", name, err)
		}
	}
	cfg, err := Load(lambdaEnv(map[string]string{"AWS_REGION": awstest.Region, "AWS_ENDPOINT_URL": m.Endpoint, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "wrong", "AWS_CONTAINER_CREDENTIALS_FULL_URI": srv.URL + "/creds", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": ""}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err == nil {
		t.Fatal("credentials with the wrong token")
	}
	before := calls.Load()
	cfg, err = Load(lambdaEnv(map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": srv.URL + "/creds"}))
	if err != nil {
		t.Fatal(err)
	}
	if creds, err := cfg.Credentials.Retrieve(ctx); err != nil || creds.AccessKeyID != "AKIDEXAMPLE" || calls.Load() != before {
		t.Fatalf("keys and an endpoint: %+v (%v), %d calls to the endpoint; want the keys, none", creds, err, calls.Load()-before)
	}
	if _, err := Load(lambdaEnv(map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/x"})); err != nil {
		t.Fatalf("a relative URI: %v", err)
	}
}
