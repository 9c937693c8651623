// Package cli implements the aient command: the operator CLI for drains and problems,
// `aient send`, and `aient serve`, against the embedded store or a deployed stack.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Env names the CLI reads. Flags win over them.
const (
	EnvData         = "AIENT_DATA"
	EnvBackend      = "AIENT_BACKEND"
	EnvEndpointBase = "AIENT_ENDPOINT_BASE"
	EnvDrainsTable  = "AIENT_DRAINS_TABLE"
	EnvProblemTable = "AIENT_PROBLEMS_TABLE"
	EnvPepperSecret = "AIENT_PEPPER_SECRET_ID"
	// EnvAlertSecretPrefix is where `alerts add` puts destination secrets on AWS.
	EnvAlertSecretPrefix = "AIENT_ALERT_SECRET_PREFIX"
	// EnvConsoleURL is the console base URL alerts link problems to.
	EnvConsoleURL = "AIENT_CONSOLE_URL"
)

const usage = `aient — firehose-drain's CLI and local server

  aient serve [--listen 127.0.0.1:8080] [--allow-remote] [--lease 3m] [--data ./.aient]
  aient serve --backend aws --stack NAME [--listen 127.0.0.1:8080]
  aient drains create --org O --env E [--json]
  aient drains rotate ID [--grace 1h] [--json]
  aient drains revoke ID
  aient drains list [--json]
  aient drains status ID [--json]
  aient problems list [--org O --env E] [--state unresolved|resolved|ignored|all] [--json]
  aient problems show ID [--json]
  aient problems explain ID [--json]
  aient problems resolve ID [--json]
  aient problems ignore ID [--for 24h | --until-count 100] [--json]
  aient problems reopen ID [--json]
  aient rules add --org O --env E RULE
  aient rules list --org O --env E [--json]
  aient rules remove --org O --env E ID
  aient alerts add (--sns-topic ARN | --slack-webhook URL | --webhook URL [--secret S]) [--org O --env E] [--json]
  aient alerts list [--json]
  aient alerts remove ID
  aient alerts test ID
  aient logs search [WORDS...] [--drain D] [--log-group G] [--stream S] [--level L] [--request-id R] [--since 1h] [--until T] [--limit 100] [--cursor C] [--json]
  aient logs tail [--follow] [--lines 20] [--drain D] [--log-group G] [--stream S] [--level L] [--request-id R] [--since 1h] [--json]
  aient send --endpoint URL [--key KEY] [--json] FILE...
  aient send --endpoint URL [--key KEY] --message "ERROR something broke" [--log-group G] [--count N] [--json]
  aient version
  aient replay [--drain ID] [--region R] [--json] FILE... | s3://bucket/prefix

Every command takes --data DIR (default ./.aient, env AIENT_DATA) for the embedded store.
Against a deployed stack: --backend aws (env AIENT_BACKEND) with --stack NAME (env
AIENT_STACK: its outputs give the names), or the names themselves in --drains-table,
--problems-table, --pepper-secret, --endpoint-base (env AIENT_DRAINS_TABLE,
AIENT_PROBLEMS_TABLE, AIENT_PEPPER_SECRET_ID, AIENT_ENDPOINT_BASE), and for alert secrets
--alert-secret-prefix (AIENT_ALERT_SECRET_PREFIX). Alerts link problems under --console-url
(AIENT_CONSOLE_URL; default the local server's address).
replay --backend aws also needs --claims-table and --queue-url (env AIENT_CLAIMS_TABLE,
AIENT_QUEUE_URL); it reads s3:// inputs with the operator's AWS credentials on either backend.
`

// Run runs the aient command with args (without the program name) and returns the exit code.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	err := run(ctx, args, getenv, stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		var ce *cmdUsageError
		if errors.As(err, &ce) {
			fmt.Fprintf(stderr, "aient: %v\n\nusage:\n%s\n`aient %s --help` lists its flags.\n", err, commandUsage(ce.name), ce.name)
			return 2
		}
		fmt.Fprintf(stderr, "aient: %v\n\n%s", err, usage)
		return 2
	default:
		fmt.Fprintf(stderr, "aient: %v\n", err)
		return 1
	}
}

var errUsage = errors.New("usage")

func usageError(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError("a command is required")
	}
	c := &command{getenv: getenv, stdout: stdout, stderr: stderr}
	name := args[0]
	group := name == "drains" || name == "problems" || name == "alerts" || name == "logs"
	if len(args) > 1 && group && !strings.HasPrefix(args[1], "-") {
		name += " " + args[1]
	}
	if group && groupHelp(stdout, args[0], args[1:]) {
		return nil
	}
	return forCommand(name, c.dispatch(ctx, args))
}

func (c *command) dispatch(ctx context.Context, args []string) error {
	switch args[0] {
	case "serve":
		return c.serve(ctx, args[1:])
	case "drains":
		if len(args) < 2 {
			return usageError("drains needs a subcommand: create, rotate, revoke, list, status")
		}
		switch args[1] {
		case "create":
			return c.drainsCreate(ctx, args[2:])
		case "rotate":
			return c.drainsRotate(ctx, args[2:])
		case "revoke":
			return c.drainsRevoke(ctx, args[2:])
		case "list":
			return c.drainsList(ctx, args[2:])
		case "status":
			return c.drainsStatus(ctx, args[2:])
		}
		return usageError("unknown drains subcommand %q", args[1])
	case "problems":
		if len(args) < 2 {
			return usageError("problems needs a subcommand: list, show, explain, resolve, ignore, reopen")
		}
		switch args[1] {
		case "list":
			return c.problemsList(ctx, args[2:])
		case "show":
			return c.problemsShow(ctx, args[2:])
		case "explain":
			return c.problemsExplain(ctx, args[2:])
		case "resolve", "ignore", "reopen":
			return c.problemsAct(ctx, args[1], args[2:])
		}
		return usageError("unknown problems subcommand %q", args[1])
	case "rules":
		if len(args) < 2 {
			return usageError("rules needs a subcommand: add, list, remove")
		}
		switch args[1] {
		case "add":
			return c.rulesAdd(ctx, args[2:])
		case "list":
			return c.rulesList(ctx, args[2:])
		case "remove":
			return c.rulesRemove(ctx, args[2:])
		}
		return usageError("unknown rules subcommand %q", args[1])
	case "alerts":
		if len(args) < 2 {
			return usageError("alerts needs a subcommand: add, list, remove, test")
		}
		switch args[1] {
		case "add":
			return c.alertsAdd(ctx, args[2:])
		case "list":
			return c.alertsList(ctx, args[2:])
		case "remove":
			return c.alertsRemove(ctx, args[2:])
		case "test":
			return c.alertsTest(ctx, args[2:])
		}
		return usageError("unknown alerts subcommand %q", args[1])
	case "logs":
		if len(args) < 2 {
			return usageError("logs needs a subcommand: search, tail")
		}
		switch args[1] {
		case "search":
			return c.logsSearch(ctx, args[2:])
		case "tail":
			return c.logsTail(ctx, args[2:])
		}
		return usageError("unknown logs subcommand %q", args[1])
	case "send":
		return c.send(ctx, args[1:])
	case "replay":
		return c.replay(ctx, args[1:])
	case "version", "--version":
		return c.version(args[1:])
	case "help", "-h", "--help":
		fmt.Fprint(c.stdout, usage)
		return nil
	}
	return usageError("unknown command %q", args[0])
}

type command struct {
	getenv         func(string) string
	stdout, stderr io.Writer
}

// flags is a FlagSet with the options every store-backed command takes.
type flags struct {
	*flag.FlagSet
	backendOpts
	json bool
	// out is where --help is printed (stdout); nil is stderr.
	out io.Writer
}

func (c *command) newFlags(name string, withJSON bool) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	f := &flags{FlagSet: fs, out: c.stdout}
	f.register(fs, c.getenv)
	if withJSON {
		fs.BoolVar(&f.json, "json", false, "print stable JSON")
	}
	return f
}

// parse parses args, allowing flags after positional arguments (`drains rotate ID --grace 1h`).
func (f *flags) parse(args []string) ([]string, error) {
	var pos []string
	f.Usage = func() {} // parse prints the command's own usage below
	f.SetOutput(io.Discard)
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				out := f.out
				if out == nil {
					out = os.Stderr
				}
				printHelp(out, f.Name(), f.FlagSet)
				return nil, err
			}
			return nil, &cmdUsageError{name: f.Name(), err: fmt.Errorf("%w: %w", errUsage, err)}
		}
		args = f.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func (c *command) printJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// openWith parses args, checks that they hold exactly one `what` (none when what is
// empty), and opens the backend. The caller closes it.
func (f *flags) openWith(ctx context.Context, args []string, what string) (*backend, string, error) {
	pos, err := f.parse(args)
	if err != nil {
		return nil, "", err
	}
	var arg string
	switch {
	case what == "" && len(pos) > 0:
		return nil, "", usageError("%s takes no arguments", f.Name())
	case what != "" && (len(pos) != 1 || strings.TrimSpace(pos[0]) == ""):
		return nil, "", usageError("%s needs exactly one %s", f.Name(), what)
	case what != "":
		arg = pos[0]
	}
	b, err := f.open(ctx)
	return b, arg, err
}
