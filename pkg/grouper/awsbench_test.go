package grouper_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/internal/testkit/awsfake"
	"github.com/aient/firehose-drain/internal/testkit/stormsim"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/grouper"
	problemsddb "github.com/aient/firehose-drain/pkg/problems/ddb"
)

// bugEvent is event i of a batch spread over bugs problems.
func bugEvent(i, bugs int) event.Event {
	b := i % bugs
	return event.Event{
		Drain: "drn_bench", Org: "acme", Env: "prod", Account: "123456789012", Region: "eu-west-1",
		LogGroup: "/aws/lambda/checkout", LogStream: "2026/11/21/[$LATEST]0123456789abcdef",
		ID: fmt.Sprintf("%056d", i), Timestamp: 1_763_700_000_000 + int64(i*7%1000), Level: event.Error,
		Message: fmt.Sprintf("TypeError: Cannot read properties of undefined (reading 'id')\n"+
			"    at chargeCard%d (/var/task/src/pay%d.js:42:17)\n    at processTicksAndRejections (node:internal/process/task_queues:95:5)", b, b),
	}
}

// BenchmarkGrouperBatch is HandleSQS over one SQS batch spread over 20 problems, with the
// real DynamoDB adapter talking to a fake AWS that answers every request 5 ms after it
// arrives (awsfake, in a child process as AWS runs elsewhere: its CPU and its goroutines'
// scheduling are not the grouper's, and cpu-s/batch is the grouper's own). It reports
// messages and events per second of one invocation and DynamoDB requests per message.
//
// problems=new is every problem of the batch unknown (reads find nothing: each write
// creates its problem and its "new" alert, the most a batch can cost); problems=existing is
// a known bug met by a cold instance: reads find the problems as the first batch left them
// (written by the same adapter on stormsim's table, which evaluates its expressions). Both
// take a new store (an empty seen cache) for every batch. problems=existing-warm is the
// steady state of a warm instance: one store for every batch, which remembers the problems
// from the batch before and writes them without reading. The collector runs as in the
// grouper function (grouper.TuneGC, at the template's default of 512 MB).
func BenchmarkGrouperBatch(b *testing.B) {
	defer grouper.TuneGC(512, os.Getenv)()
	type variant struct {
		messages, perMessage int
		problems             string
	}
	for _, c := range []variant{
		{10, 1, "new"},
		{100, 1, "new"},
		{100, 25, "new"},
		{100, 1, "existing"},
		{100, 25, "existing"},
		{100, 1, "existing-warm"},
		{100, 25, "existing-warm"},
	} {
		name := fmt.Sprintf("messages=%d/events=%d/problems=%s", c.messages, c.perMessage, c.problems)
		b.Run(name, func(b *testing.B) {
			fake := awsfake.StartProcess(b, "TestAWSFakeProcess", 5*time.Millisecond, 0)
			client := dynamodb.NewFromConfig(fake.Config())
			discard := slog.New(slog.NewTextHandler(io.Discard, nil))
			warm := grouper.New(problemsddb.New(client, "problems").WithSeenCache(0), discard)
			grouperFor := func() *grouper.Grouper {
				if c.problems == "existing-warm" {
					return warm
				}
				return grouper.New(problemsddb.New(client, "problems").WithSeenCache(0), discard)
			}
			var ev events.SQSEvent
			for m := range c.messages {
				evs := make([]event.Event, c.perMessage)
				for k := range evs {
					evs[k] = bugEvent(m*c.perMessage+k, 20)
				}
				var v any = grouper.Packed{Events: evs}
				if c.perMessage == 1 {
					v = evs[0]
				}
				body, err := json.Marshal(v)
				if err != nil {
					b.Fatal(err)
				}
				ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprint(m), Body: string(body)})
			}
			if c.problems != "new" {
				fake.SetItems(b, problemItems(b, ev))
			}
			if c.problems == "existing-warm" { // the batch before
				if resp, err := warm.HandleSQS(context.Background(), ev); err != nil || len(resp.BatchItemFailures) != 0 {
					b.Fatalf("HandleSQS = %+v, %v", resp, err)
				}
			}
			fake.Counts(b)
			b.ReportAllocs()
			cpu0 := awsfake.CPUTime()
			for b.Loop() {
				resp, err := grouperFor().HandleSQS(context.Background(), ev)
				if err != nil || len(resp.BatchItemFailures) != 0 {
					b.Fatalf("HandleSQS = %+v, %v", resp, err)
				}
			}
			cpu := awsfake.CPUTime() - cpu0
			requests := 0
			for _, n := range fake.Counts(b) {
				requests += n
			}
			perBatch := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(perBatch, "s/batch")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/batch")
			b.ReportMetric(float64(c.messages)/perBatch, "messages/s")
			b.ReportMetric(float64(c.messages*c.perMessage)/perBatch, "events/s")
			b.ReportMetric(float64(requests)/float64(b.N*c.messages), "ddb-requests/message")
		})
	}
}

// TestAWSFakeProcess is the child process of awsfake.StartProcess (skipped otherwise).
func TestAWSFakeProcess(t *testing.T) { awsfake.ServeProcess(t) }

// problemItems are the problem items the batch ev leaves in an empty table, written by the
// DynamoDB adapter on stormsim's table (which evaluates the adapter's expressions). They are
// written an hour ahead, so that their guard (until the end of the hour it was set in)
// outlives the run: the fake's items never change, and a guard that ended would send every
// later batch down the decision path, which a real table leaves after one write.
func problemItems(b *testing.B, ev events.SQSEvent) []map[string]types.AttributeValue {
	b.Helper()
	table := stormsim.NewTable(stormsim.TableConfig{Latency: time.Microsecond}, func(context.Context) string { return "" })
	ahead := func() time.Time { return time.Now().Add(time.Hour) }
	g := grouper.New(problemsddb.NewFromAPI(table, "problems", problemsddb.Options{Now: ahead}), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if resp, err := g.HandleSQS(context.Background(), ev); err != nil || len(resp.BatchItemFailures) != 0 {
		b.Fatalf("HandleSQS on the table = %+v, %v", resp, err)
	}
	var out []map[string]types.AttributeValue
	for _, pk := range table.Keys("problem#") {
		out = append(out, table.Item(pk))
	}
	if len(out) == 0 {
		b.Fatal("the batch left no problem item")
	}
	return out
}
