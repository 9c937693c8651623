// Command aient is the operator CLI of firehose-drain and its local server:
// drains, problems, sending Firehose bodies, and `aient serve`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/aient/firehose-drain/cmd/aient/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
