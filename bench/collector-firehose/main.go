// Command collector-firehose runs the OpenTelemetry Collector's own Firehose receiver
// (receiver/awsfirehosereceiver, CloudWatch Logs encoding) with a consumer that discards,
// serving one loopback address until its standard input closes: the reference that
// `make bench-rss` measures firehose-drain's ingest against (peak RSS on the same body).
//
// It is its own module so that the Collector's dependencies stay out of firehose-drain's.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/awsfirehosereceiver"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:4433", "address to serve the Firehose endpoint on")
	key := flag.String("key", "", "the access key Firehose sends (X-Amz-Firehose-Access-Key)")
	flag.Parse()

	f := awsfirehosereceiver.NewFactory()
	cfg, ok := f.CreateDefaultConfig().(*awsfirehosereceiver.Config)
	if !ok {
		log.Fatal("unexpected config type")
	}
	cfg.Endpoint = *listen
	cfg.Encoding = "cwlogs"
	cfg.AccessKey = configopaque.String(*key)
	ctx := context.Background()
	r, err := f.CreateLogs(ctx, receivertest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
	if err != nil {
		log.Fatal(err)
	}
	if err := r.Start(ctx, componenttest.NewNopHost()); err != nil {
		log.Fatal(err)
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := r.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
}
