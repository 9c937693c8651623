package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/problems"
)

// commandUsage is the usage lines of one command or group ("drains create", "drains") taken
// from the global usage, so each command's help says what the global one says of it.
func commandUsage(name string) string {
	var lines []string
	for _, l := range strings.Split(usage, "\n") {
		t := strings.TrimSpace(l)
		if t == "aient "+name || strings.HasPrefix(t, "aient "+name+" ") {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// cmdUsageError is a usage error of one command: Run prints that command's usage with it,
// not the global one.
type cmdUsageError struct {
	name string
	err  error
}

func (e *cmdUsageError) Error() string { return e.err.Error() }
func (e *cmdUsageError) Unwrap() error { return e.err }

// forCommand makes a usage error err (if it is one) name's own.
func forCommand(name string, err error) error {
	var ce *cmdUsageError
	if err == nil || !errors.Is(err, errUsage) || errors.As(err, &ce) || commandUsage(name) == "" {
		return err
	}
	return &cmdUsageError{name: name, err: err}
}

// printHelp writes name's usage and, given a flag set, its flags.
func printHelp(w io.Writer, name string, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage:\n%s", commandUsage(name))
	if fs != nil {
		fmt.Fprintln(w, "\nflags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
}

// groupHelp answers `aient drains --help` and the like: true when args ask for help.
func groupHelp(w io.Writer, group string, args []string) bool {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		printHelp(w, group, nil)
		return true
	}
	return false
}

// errNotFound is what the user reads when what they named does not exist: the thing they
// asked for, not the store's internals.
type errNotFound struct{ kind, id string }

func (e *errNotFound) Error() string { return e.kind + " " + e.id + " not found" }

// asked names a store error after what the user asked for: "drain drn_x not found", or the
// error under "drain drn_x: ..." otherwise.
func asked(kind, id string, err error) error {
	if errors.Is(err, drains.ErrNotFound) || errors.Is(err, problems.ErrNotFound) {
		return &errNotFound{kind, id}
	}
	return fmt.Errorf("%s %s: %w", kind, id, err)
}
