package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/aient/firehose-drain/internal/awsconf"
	"github.com/aient/firehose-drain/pkg/alerts"
	alertsddb "github.com/aient/firehose-drain/pkg/alerts/ddb"
	"github.com/aient/firehose-drain/pkg/drains"
	drainsddb "github.com/aient/firehose-drain/pkg/drains/ddb"
	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/ingest"
	"github.com/aient/firehose-drain/pkg/problems"
	problemsddb "github.com/aient/firehose-drain/pkg/problems/ddb"
	"github.com/aient/firehose-drain/pkg/secrets"
)

// endpointFile in the data dir holds the base URL of the running local server, so that
// `drains create` prints an endpoint that works.
const endpointFile = "endpoint"

const defaultEndpointBase = "http://127.0.0.1:8080"

type backendOpts struct {
	backend       string
	data          string
	endpointBase  string
	drainsTable   string
	problemsTable string
	pepperSecret  string
	alertSecrets  string
	consoleURL    string
	stack         string
	// mayCreate lets the command create a missing embedded data dir (drains create; serve
	// opens the store itself). Every other command refuses one, naming it.
	mayCreate bool
}

func (o *backendOpts) register(fs *flag.FlagSet, getenv func(string) string) {
	def := func(env, fallback string) string {
		if v := getenv(env); v != "" {
			return v
		}
		return fallback
	}
	fs.StringVar(&o.backend, "backend", def(EnvBackend, "embedded"), "embedded or aws")
	fs.StringVar(&o.data, "data", def(EnvData, "./.aient"), "data dir of the embedded store")
	fs.StringVar(&o.endpointBase, "endpoint-base", getenv(EnvEndpointBase), "base URL drain endpoints are printed under (aws: the stack's FunctionUrl)")
	fs.StringVar(&o.drainsTable, "drains-table", getenv(EnvDrainsTable), "aws: the stack's DrainsTableName")
	fs.StringVar(&o.problemsTable, "problems-table", getenv(EnvProblemTable), "aws: the stack's ProblemsTableName")
	fs.StringVar(&o.pepperSecret, "pepper-secret", getenv(EnvPepperSecret), "aws: the stack's PepperSecretArn")
	fs.StringVar(&o.alertSecrets, "alert-secret-prefix", getenv(EnvAlertSecretPrefix), "aws: the stack's AlertSecretPrefix (where alert destinations' secrets go)")
	fs.StringVar(&o.consoleURL, "console-url", getenv(EnvConsoleURL), "base URL of the console that alerts link problems to (default the local server's)")
	fs.StringVar(&o.stack, "stack", getenv(EnvStack), "aws: the deployed stack's name; its outputs give the names not set by flag or env")
}

// backend is what the operator commands work on.
type backend struct {
	drains       *drains.Service
	problems     problems.Store
	rules        drains.RuleStore
	destinations alerts.Destinations
	secrets      alerts.SecretStore
	outbox       alerts.Outbox
	senders      alerts.Senders
	consoleURL   string
	endpointBase string
	close        func() error
}

// deliverer is the alert deliverer over the backend (for `alerts test`).
func (b *backend) deliverer() *alerts.Deliverer {
	return alerts.NewDeliverer(b.destinations, b.secrets, b.outbox, b.senders, alerts.Config{ConsoleURL: b.consoleURL, Affected: affectedReader(b.problems)})
}

// affectedReader is the problem store's affected counts for the alerts (both stores
// have them), or nil.
func affectedReader(s problems.Store) problems.AffectedReader {
	if a, ok := s.(problems.AffectedReader); ok {
		return a
	}
	return nil
}

// snsClient is an SNS client from the default AWS configuration, or nil when there is
// none (SNS destinations then fail with a clear error).
func snsClient(ctx context.Context) alerts.SNSPublisher {
	cfg, err := awsconf.Load(ctx)
	if err != nil {
		return nil
	}
	return sns.NewFromConfig(cfg)
}

// closeInto closes b when a command is done with it; a failure to close joins *err.
func (b *backend) closeInto(err *error) {
	if cerr := b.close(); cerr != nil {
		*err = errors.Join(*err, fmt.Errorf("close the store: %w", cerr))
	}
}

// endpoint is the URL Firehose posts to for drain id.
func (b *backend) endpoint(id string) string {
	return strings.TrimRight(b.endpointBase, "/") + ingest.PathPrefix + id
}

func (o *backendOpts) open(ctx context.Context) (*backend, error) {
	switch o.backend {
	case "embedded", "":
		if _, err := os.Stat(filepath.Join(o.data, embedded.DBFile)); errors.Is(err, fs.ErrNotExist) && !o.mayCreate {
			return nil, fmt.Errorf("no embedded store in %s (no %s there): start one with `aient serve --data %s` or `aient drains create --data %s --org O --env E`, or point --data (env %s) at an existing one", o.data, embedded.DBFile, o.data, o.data, EnvData)
		}
		st, err := embedded.Open(o.data)
		if err != nil {
			return nil, fmt.Errorf("open the embedded store in %s: %w", o.data, err)
		}
		base := o.endpointBase
		if base == "" {
			base = defaultEndpointBase
			if b, err := os.ReadFile(filepath.Join(o.data, endpointFile)); err == nil && len(strings.TrimSpace(string(b))) > 0 {
				base = strings.TrimSpace(string(b))
			}
		}
		console := o.consoleURL
		if console == "" {
			console = base
		}
		return &backend{
			drains:       drains.NewService(st.Drains(), drains.PepperFunc(st.Pepper), drains.Config{}),
			problems:     st.Problems(),
			rules:        st.Rules(),
			destinations: st.Destinations(),
			secrets:      st.Secrets(),
			outbox:       st.Outbox(),
			senders:      alerts.NewSenders(nil, snsClient(ctx)),
			consoleURL:   console,
			endpointBase: base,
			close:        st.Close,
		}, nil
	case "aws":
		cfg, err := o.awsConfig(ctx, "--drains-table", "--problems-table", "--pepper-secret", "--endpoint-base")
		if err != nil {
			return nil, err
		}
		pepper := secrets.NewPepper(secretsmanager.NewFromConfig(cfg), o.pepperSecret, time.Hour)
		db := dynamodb.NewFromConfig(cfg)
		ds := drainsddb.New(db, o.drainsTable)
		ps := problemsddb.New(db, o.problemsTable)
		return &backend{
			drains:       drains.NewService(ds, pepper, drains.Config{}),
			problems:     ps,
			rules:        ds,
			destinations: alertsddb.NewDestinations(db, o.problemsTable),
			secrets:      alertsddb.NewSecrets(secretsmanager.NewFromConfig(cfg), o.alertSecrets),
			outbox:       ps.Outbox(),
			senders:      alerts.NewSenders(nil, sns.NewFromConfig(cfg)),
			consoleURL:   o.consoleURL,
			endpointBase: o.endpointBase,
			close:        func() error { return nil },
		}, nil
	}
	return nil, usageError("--backend %q: embedded or aws", o.backend)
}

// awsConfig loads the operator's AWS configuration, fills names from --stack, and checks
// that the names this command needs (by flag name) are known.
func (o *backendOpts) awsConfig(ctx context.Context, need ...string) (aws.Config, error) {
	cfg, err := awsconf.Load(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	if err := o.fromStack(ctx, cfg); err != nil {
		return aws.Config{}, err
	}
	have := map[string]string{
		"--drains-table": o.drainsTable, "--problems-table": o.problemsTable,
		"--pepper-secret": o.pepperSecret, "--endpoint-base": o.endpointBase,
	}
	var missing []string
	for _, n := range need {
		if have[n] == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		if o.stack != "" {
			return aws.Config{}, fmt.Errorf("stack %s has no output for %s: is it a firehose-drain stack?", o.stack, strings.Join(missing, ", "))
		}
		return aws.Config{}, usageError("--backend aws needs --stack NAME (env %s), or %s (the stack's outputs; see README)", EnvStack, strings.Join(missing, ", "))
	}
	return cfg, nil
}
