package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

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
}

// backend is what the operator commands work on.
type backend struct {
	drains       *drains.Service
	problems     problems.Store
	endpointBase string
	close        func() error
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
		return &backend{
			drains:       drains.NewService(st.Drains(), drains.PepperFunc(st.Pepper), drains.Config{}),
			problems:     st.Problems(),
			endpointBase: base,
			close:        st.Close,
		}, nil
	case "aws":
		var missing []string
		for _, m := range []struct{ v, name string }{
			{o.drainsTable, "--drains-table"},
			{o.problemsTable, "--problems-table"},
			{o.pepperSecret, "--pepper-secret"},
			{o.endpointBase, "--endpoint-base"},
		} {
			if m.v == "" {
				missing = append(missing, m.name)
			}
		}
		if len(missing) > 0 {
			return nil, usageError("--backend aws needs %s (the stack's outputs; see README)", strings.Join(missing, ", "))
		}
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("load AWS config: %w", err)
		}
		pepper := secrets.NewPepper(secretsmanager.NewFromConfig(cfg), o.pepperSecret, time.Hour)
		db := dynamodb.NewFromConfig(cfg)
		return &backend{
			drains:       drains.NewService(drainsddb.New(db, o.drainsTable), pepper, drains.Config{}),
			problems:     problemsddb.New(db, o.problemsTable),
			endpointBase: o.endpointBase,
			close:        func() error { return nil },
		}, nil
	}
	return nil, usageError("--backend %q: embedded or aws", o.backend)
}
