// Package awsenv builds the AWS SDK configuration of a function from the variables the
// Lambda runtime sets, without the SDK's config package.
//
// config.LoadDefaultConfig links every credential source the SDK knows (shared config
// files, SSO, web identity, assume-role, the console sign-in, the instance metadata
// service) and with them the STS, SSO, SSO OIDC and sign-in clients: ~1.9 MB of text and
// read-only data in the ingest binary, which the ingest's peak resident set pays for (the
// binary's pages are nearly all resident once it runs: the OpenTelemetry Collector
// comparison of README's Performance section measures it), and ~0.5 MB of heap built by
// their package initialisers. On Lambda none of them is used: the runtime puts the
// function role's credentials and the region in the environment (or, where it serves them
// over HTTP, the container credentials endpoint's address). Load reads exactly those, the
// SDK's endpoint and retry variables, and refuses to start when a variable is set that
// only the config package would honour (a profile, a role to assume, a CA bundle, ...),
// instead of ignoring it.
package awsenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/smithy-go/logging"
)

// The variables Load reads (those of the SDK's config package, same meaning).
const (
	EnvRegion          = "AWS_REGION"
	EnvDefaultRegion   = "AWS_DEFAULT_REGION"
	EnvAccessKeyID     = "AWS_ACCESS_KEY_ID"
	EnvSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	EnvSessionToken    = "AWS_SESSION_TOKEN"
	EnvAccountID       = "AWS_ACCOUNT_ID"
	EnvEndpointURL     = "AWS_ENDPOINT_URL" // and AWS_ENDPOINT_URL_<SERVICE>, e.g. AWS_ENDPOINT_URL_DYNAMODB
	EnvIgnoreEndpoints = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
	EnvMaxAttempts     = "AWS_MAX_ATTEMPTS"
	EnvRetryMode       = "AWS_RETRY_MODE"

	// The container credentials endpoint, read when the environment holds no keys (the
	// SDK's order): a path under http://169.254.170.2, or a full URL (plain HTTP only to a
	// loopback or container-agent address), with an optional Authorization token, given
	// or read from a file on every retrieval.
	EnvContainerRelativeURI = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
	EnvContainerFullURI     = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
	EnvContainerToken       = "AWS_CONTAINER_AUTHORIZATION_TOKEN"
	EnvContainerTokenFile   = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
)

// containerAgent is the ECS/Lambda container credentials agent a relative URI is under.
const containerAgent = "http://169.254.170.2"

// unsupported are the SDK's variables that change what a client does and that Load does
// not implement: set, they stop the start-up with their name.
var unsupported = []string{
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
	"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
	"AWS_CA_BUNDLE", "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT", "AWS_DEFAULTS_MODE",
	"AWS_ACCOUNT_ID_ENDPOINT_MODE", "AWS_SDK_UA_APP_ID",
}

// IdleConnsPerHost is how many idle connections to one AWS endpoint the HTTP client
// keeps: the most requests the code has in flight to one service (the ingest's claim
// concurrency). The SDK's own client keeps 10, so every burst past 10 would open new TLS
// connections and close them after.
const IdleConnsPerHost = 256

// HTTPClient is the SDK's buildable client (its timeouts, proxy and TLS settings) keeping
// IdleConnsPerHost idle connections per host.
func HTTPClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = 4 * IdleConnsPerHost
		t.MaxIdleConnsPerHost = IdleConnsPerHost
		t.IdleConnTimeout = 90 * time.Second
	})
}

// Load is the configuration getenv describes: region, static credentials (cached, as the
// SDK caches the environment's), endpoints, retries, HTTPClient, the SDK's logger on
// standard error.
func Load(getenv func(string) string) (aws.Config, error) {
	for _, k := range unsupported {
		if getenv(k) != "" {
			return aws.Config{}, fmt.Errorf("%s is set: this function reads its AWS configuration from the Lambda environment only (region, credentials, endpoints, retries), not %s", k, k)
		}
	}
	cfg := aws.Config{
		Region:        getenv(EnvRegion),
		HTTPClient:    HTTPClient(),
		Logger:        logging.NewStandardLogger(os.Stderr),
		ConfigSources: []any{endpoints(getenv)},
	}
	if cfg.Region == "" {
		cfg.Region = getenv(EnvDefaultRegion)
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New(EnvRegion + " is not set")
	}
	creds := aws.Credentials{
		AccessKeyID: getenv(EnvAccessKeyID), SecretAccessKey: getenv(EnvSecretAccessKey),
		SessionToken: getenv(EnvSessionToken), AccountID: getenv(EnvAccountID),
		Source: "EnvConfigCredentials",
	}
	switch {
	case creds.AccessKeyID == "" && creds.SecretAccessKey == "":
		p, err := containerCredentials(getenv)
		if err != nil {
			return aws.Config{}, err
		}
		cfg.Credentials = p
	case creds.AccessKeyID == "":
		return aws.Config{}, errors.New(EnvAccessKeyID + " is not set")
	case creds.SecretAccessKey == "":
		return aws.Config{}, errors.New(EnvSecretAccessKey + " is not set")
	default:
		cfg.Credentials = aws.NewCredentialsCache(credentials.StaticCredentialsProvider{Value: creds})
	}
	ignore, err := boolVar(getenv, EnvIgnoreEndpoints)
	if err != nil {
		return aws.Config{}, err
	}
	if e := getenv(EnvEndpointURL); e != "" && !ignore {
		cfg.BaseEndpoint = aws.String(e)
	}
	if v := getenv(EnvMaxAttempts); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return aws.Config{}, fmt.Errorf("%s=%q: not a positive integer", EnvMaxAttempts, v)
		}
		cfg.RetryMaxAttempts = n
	}
	if v := getenv(EnvRetryMode); v != "" {
		m, err := aws.ParseRetryMode(v)
		if err != nil {
			return aws.Config{}, fmt.Errorf("%s: %w", EnvRetryMode, err)
		}
		cfg.RetryMode = m
	}
	return cfg, nil
}

// containerCredentials is the provider of the container credentials endpoint the
// environment names, cached as the SDK caches it (renewed 5 minutes before expiry).
func containerCredentials(getenv func(string) string) (aws.CredentialsProvider, error) {
	endpoint := getenv(EnvContainerFullURI)
	if rel := getenv(EnvContainerRelativeURI); rel != "" {
		endpoint = containerAgent + rel
	} else if endpoint == "" {
		return nil, errors.New(EnvAccessKeyID + " and " + EnvSecretAccessKey + " are not set, nor " + EnvContainerFullURI + ": no credentials")
	} else if err := allowedEndpoint(endpoint); err != nil {
		return nil, fmt.Errorf("%s: %w", EnvContainerFullURI, err)
	}
	token, file := getenv(EnvContainerToken), getenv(EnvContainerTokenFile)
	p := endpointcreds.New(endpoint, func(o *endpointcreds.Options) {
		o.AuthorizationToken = token
		if file != "" {
			o.AuthorizationTokenProvider = endpointcreds.TokenProviderFunc(func() (string, error) {
				b, err := os.ReadFile(file)
				if err != nil {
					return "", fmt.Errorf("%s: %w", EnvContainerTokenFile, err)
				}
				return string(b), nil
			})
		}
	})
	return aws.NewCredentialsCache(p, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = 5 * time.Minute }), nil
}

// allowedEndpoint is the SDK's rule for a full container credentials URL: over plain
// HTTP (the token in the clear) only to a loopback address or a container agent's
// (169.254.170.2, 169.254.170.23, fd00:ec2::23), every address of a host name checked.
func allowedEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return fmt.Errorf("not a URL: %w", err)
	}
	host := u.Hostname()
	switch {
	case host == "":
		return errors.New("no host")
	case u.Scheme == "https":
		return nil
	case u.Scheme != "http":
		return fmt.Errorf("scheme %q: want http or https", u.Scheme)
	}
	addrs := []string{host}
	if net.ParseIP(host) == nil {
		if addrs, err = net.LookupHost(host); err != nil {
			return fmt.Errorf("host %q: %w", host, err)
		}
	}
	for _, a := range addrs {
		if !agentAddress(net.ParseIP(a)) {
			return fmt.Errorf("host %q: plain HTTP only to a loopback or container agent address", host)
		}
	}
	return nil
}

// agentAddress: ip is a loopback address or a container credentials agent's.
func agentAddress(ip net.IP) bool {
	return ip != nil && (ip.IsLoopback() || ip.Equal(net.IPv4(169, 254, 170, 2)) || ip.Equal(net.IPv4(169, 254, 170, 23)) || ip.Equal(net.ParseIP("fd00:ec2::23")))
}

// boolVar reads a true/false variable; unset is false.
func boolVar(getenv func(string) string, k string) (bool, error) {
	switch v := strings.ToLower(getenv(k)); v {
	case "":
		return false, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	default:
		return false, fmt.Errorf("%s=%q: want true or false", k, v)
	}
}

// endpoints is the configuration source the service clients ask for their own endpoint
// (AWS_ENDPOINT_URL_<SDK id, upper case, spaces as _>) and whether configured endpoints
// are ignored, as the config package's environment source answers them.
type endpoints func(string) string

// GetServiceBaseEndpoint is AWS_ENDPOINT_URL_<sdkID> (the SDK's resolver asks
// GetIgnoreConfiguredEndpoints first).
func (e endpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v := e(EnvEndpointURL + "_" + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_"))
	return v, v != "", nil
}

// GetIgnoreConfiguredEndpoints is AWS_IGNORE_CONFIGURED_ENDPOINT_URLS.
func (e endpoints) GetIgnoreConfiguredEndpoints(context.Context) (value, found bool, err error) {
	v, err := boolVar(e, EnvIgnoreEndpoints)
	return v, e(EnvIgnoreEndpoints) != "", err
}
