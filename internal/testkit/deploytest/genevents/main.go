// Command genevents writes the sample events in events/ from the real Firehose captures.
//
//	go run ./internal/testkit/deploytest/genevents -out events
//
// The output is deterministic; TestEventFiles checks what it wrote.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/aient/firehose-drain/internal/testkit/deploytest"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "genevents:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("genevents", flag.ContinueOnError)
	conformance := fs.String("conformance", "testdata/conformance/firehose", "directory of the Firehose conformance captures")
	out := fs.String("out", "events", "directory to write the events to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	read := func(rel string) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(*conformance, rel))
		if err != nil {
			return nil, fmt.Errorf("read capture: %w", err)
		}
		return b, nil
	}
	var in deploytest.Inputs
	var err error
	if in.CloudWatchData, err = read("alloy/cw_logs_mixed.json"); err != nil {
		return err
	}
	if in.ControlOnly, err = read("alloy/cw_logs_with_only_control_messages.json"); err != nil {
		return err
	}
	files, err := deploytest.GenerateEvents(in)
	if err != nil {
		return fmt.Errorf("generate events: %w", err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", *out, err)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(*out, name)
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		fmt.Fprintf(stdout, "wrote %s (%d bytes)\n", path, len(files[name]))
	}
	return nil
}
