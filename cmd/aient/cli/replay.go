package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aient/firehose-drain/internal/awsconf"
	"github.com/aient/firehose-drain/pkg/dedup"
	dedupddb "github.com/aient/firehose-drain/pkg/dedup/ddb"
	"github.com/aient/firehose-drain/pkg/drains"
	drainsddb "github.com/aient/firehose-drain/pkg/drains/ddb"
	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/ingest"
	"github.com/aient/firehose-drain/pkg/sources"
	"github.com/aient/firehose-drain/pkg/sqsqueue"
)

// Env names `aient replay` reads besides the backend's.
const (
	EnvClaimsTable = "AIENT_CLAIMS_TABLE"
	EnvQueueURL    = "AIENT_QUEUE_URL"
)

// ReplaySummary is the output of `aient replay --json`: the totals and each object.
type ReplaySummary struct {
	Drain       string `json:"drain"`
	Objects     int    `json:"objects"`
	Records     int    `json:"records"`
	Events      int    `json:"events"`
	ErrorEvents int    `json:"errorEvents"`
	Sent        int    `json:"sent"`
	Duplicates  int    `json:"duplicates"`
	Rejected    int    `json:"rejected"`
	// Retry counts the objects that must be replayed again (their error says why).
	Retry          int                `json:"retry"`
	FirehoseErrors map[string]int     `json:"firehoseErrors,omitempty"`
	Each           []sources.Replayed `json:"each"`
}

func (s *ReplaySummary) add(r sources.Replayed) {
	s.Objects++
	s.Records += r.Records
	s.Events += r.Events
	s.ErrorEvents += r.ErrorEvents
	s.Sent += r.Sent
	s.Duplicates += r.Duplicates
	s.Rejected += r.Rejected
	if r.Err != "" {
		s.Retry++
	}
	for k, n := range r.FirehoseErrors {
		if s.FirehoseErrors == nil {
			s.FirehoseErrors = map[string]int{}
		}
		s.FirehoseErrors[k] += n
	}
	s.Each = append(s.Each, r)
}

// replay re-delivers Firehose backup objects (or plain Firehose-to-S3 objects) from files
// or s3://bucket/prefix through the ingest pipeline of the chosen backend.
func (c *command) replay(ctx context.Context, args []string) (err error) {
	f := c.newFlags("replay", true)
	drainID := f.String("drain", "", "the drain the objects' events belong to (default: the only drain)")
	claimsTable := f.String("claims-table", c.getenv(EnvClaimsTable), "aws: the stack's ClaimsTableName")
	queueURL := f.String("queue-url", c.getenv(EnvQueueURL), "aws: the stack's QueueUrl")
	region := f.String("region", "", "region stamped on events that carry no @aws.region of their own")
	inputs, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(inputs) == 0 {
		return usageError("replay needs FILE... or s3://bucket/prefix")
	}
	// Only warnings of the pipeline reach the terminal; the progress line says the rest.
	log := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var awsCfg *aws.Config
	loadAWS := func() (aws.Config, error) {
		if awsCfg == nil {
			cfg, err := awsconf.Load(ctx)
			if err != nil {
				return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
			}
			awsCfg = &cfg
		}
		return *awsCfg, nil
	}

	var (
		p      *ingest.Pipeline
		lister func(context.Context) ([]drains.Drain, error)
		closer = func() error { return nil }
	)
	pcfg := ingest.PipelineConfig{Logger: log}
	switch f.backend {
	case "embedded", "":
		st, err := embedded.Open(f.data)
		if err != nil {
			return fmt.Errorf("open the embedded store in %s: %w", f.data, err)
		}
		closer = st.Close
		p = ingest.NewPipeline(st.Drains(), st.Drains(), dedup.New(st.Claims(), dedup.Config{}), st.Queue(), pcfg)
		lister = st.Drains().List
	case "aws":
		var missing []string
		for _, m := range []struct{ v, name string }{{f.drainsTable, "--drains-table"}, {*claimsTable, "--claims-table"}, {*queueURL, "--queue-url"}} {
			if m.v == "" {
				missing = append(missing, m.name)
			}
		}
		if len(missing) > 0 {
			return usageError("replay --backend aws needs %s (the stack's outputs; see README)", strings.Join(missing, ", "))
		}
		cfg, err := loadAWS()
		if err != nil {
			return err
		}
		db := dynamodb.NewFromConfig(cfg)
		store := drainsddb.New(db, f.drainsTable)
		p = ingest.NewPipeline(store, store, dedup.New(dedupddb.New(db, *claimsTable), dedup.Config{}), sqsqueue.New(sqs.NewFromConfig(cfg), *queueURL), pcfg)
		lister = store.List
	default:
		return usageError("--backend %q: embedded or aws", f.backend)
	}
	defer func() {
		if cerr := closer(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close the store: %w", cerr))
		}
	}()

	if *drainID == "" {
		ds, err := lister(ctx)
		if err != nil {
			return fmt.Errorf("list drains: %w", err)
		}
		if len(ds) != 1 {
			return usageError("replay needs --drain ID (there are %d drains)", len(ds))
		}
		*drainID = ds[0].ID
	}

	sum := ReplaySummary{Drain: *drainID}
	progress := func() {
		fmt.Fprintf(c.stderr, "\rreplay: %d objects, %d records, %d events, %d error-class, %d sent, %d duplicates skipped, %d rejected",
			sum.Objects, sum.Records, sum.Events, sum.ErrorEvents, sum.Sent, sum.Duplicates, sum.Rejected)
	}
	one := func(name string, r io.Reader) {
		sum.add(sources.ReplayObject(ctx, p, *drainID, *region, name, r))
		progress()
	}
	for _, in := range inputs {
		if bucket, prefix, ok := parseS3URL(in); ok {
			cfg, err := loadAWS()
			if err != nil {
				return err
			}
			client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = os.Getenv("AWS_ENDPOINT_URL") != "" })
			if err := replayS3(ctx, client, bucket, prefix, one); err != nil {
				fmt.Fprintln(c.stderr)
				return err
			}
			continue
		}
		file, err := os.Open(in)
		if err != nil {
			fmt.Fprintln(c.stderr)
			return fmt.Errorf("replay: %w", err)
		}
		one(in, file)
		_ = file.Close() // read only: nothing to learn from Close
	}
	fmt.Fprintln(c.stderr)

	if f.json {
		if err := c.printJSON(sum); err != nil {
			return err
		}
	} else {
		w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(w, "Drain\t%s\nObjects\t%d\nRecords\t%d\nEvents\t%d\nError-class events\t%d\nSent\t%d\nDuplicates skipped\t%d\nRejected\t%d\n",
			sum.Drain, sum.Objects, sum.Records, sum.Events, sum.ErrorEvents, sum.Sent, sum.Duplicates, sum.Rejected)
		for code, n := range sum.FirehoseErrors {
			fmt.Fprintf(w, "Firehose error %s\t%d records\n", code, n)
		}
		for _, r := range sum.Each {
			for _, pr := range r.Problems {
				fmt.Fprintf(w, "Rejected\t%s\n", pr)
			}
			if r.Err != "" {
				fmt.Fprintf(w, "Replay again\t%s: %s\n", r.Object, r.Err)
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	if sum.Retry > 0 {
		return fmt.Errorf("%d of %d objects were not fully replayed (a store or the queue failed); replay them again: what was sent is not sent twice", sum.Retry, sum.Objects)
	}
	return nil
}

// parseS3URL splits s3://bucket/prefix.
func parseS3URL(s string) (bucket, prefix string, ok bool) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return "", "", false
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	return bucket, prefix, bucket != ""
}

// objectLister is the part of the S3 client replay uses.
type objectLister interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

func replayS3(ctx context.Context, client objectLister, bucket, prefix string, one func(string, io.Reader)) error {
	pages := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	n := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if strings.HasSuffix(key, "/") {
				continue
			}
			out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
			if err != nil {
				return fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
			}
			one("s3://"+bucket+"/"+key, out.Body)
			_ = out.Body.Close() // read as far as the replay needed: nothing more to learn
			n++
		}
	}
	if n == 0 {
		return errors.New("no objects under s3://" + bucket + "/" + prefix)
	}
	return nil
}
