package ingest_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aient/firehose-drain/internal/testkit/awsfake"
	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
	"github.com/aient/firehose-drain/pkg/ingest"
	"github.com/aient/firehose-drain/pkg/otlplogs"
)

// BenchmarkDeliveryExport is BenchmarkDelivery's handler (the real claimer and sender, a
// fake AWS answering DynamoDB after 5 ms and SQS after 10 ms) over the ~5.5 MB delivery of
// pkg/otlplogs' export benchmarks (firehosetest.LambdaDelivery: 137 k events, ~5 %
// error-class), with the OTLP export off and on (http/protobuf + gzip, the default, to a
// receiver that reads and discards), alternately in one loop, meant for one core:
//
//	go test -run '^$' -bench DeliveryExport -count 6 -cpu 1 ./pkg/ingest
//
// The fakes run in child processes (awsfake.StartProcess), as AWS runs elsewhere: this
// process's CPU is the handler's, its SDK calls' and the receiver's. pkg/otlplogs'
// BenchmarkIngestExportPaired prices the export in CPU against a handler whose store and
// queue answer at once; here the handler waits for AWS as it does when deployed, and the
// export's encoding and compression can run in those waits. It reports the wall time of a
// delivery off and on, the ratio of their delivery rates (throughput-ratio(wall), on/off),
// and the same in process CPU.
func BenchmarkDeliveryExport(b *testing.B) {
	body, _ := fht.LambdaDelivery(5_500_000)
	payload := urlEvent(fht.LambdaDeliveryRequestID, body)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	b.Cleanup(recv.Close)
	x, err := otlplogs.New(otlplogs.Config{Endpoint: recv.URL + "/v1/logs"}, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	fakeOff := awsfake.StartProcess(b, "TestAWSFakeProcess", 5*time.Millisecond, 10*time.Millisecond)
	fakeOn := awsfake.StartProcess(b, "TestAWSFakeProcess", 5*time.Millisecond, 10*time.Millisecond)
	off, on := deliveryHandler(fakeOff.Config(), nil), deliveryHandler(fakeOn.Config(), x)
	buf := make([]byte, len(payload))
	invokeOK(b, off, payload, buf) // the connections and the pools
	invokeOK(b, on, payload, buf)
	var wOff, wOn, cOff, cOn time.Duration
	for b.Loop() {
		t0, c0 := time.Now(), awsfake.CPUTime()
		invokeOK(b, off, payload, buf)
		t1, c1 := time.Now(), awsfake.CPUTime()
		invokeOK(b, on, payload, buf)
		t2, c2 := time.Now(), awsfake.CPUTime()
		// (CPUTime is this process's: the handler, its SDK calls and the OTLP receiver;
		// the fakes run in child processes, as AWS runs elsewhere.)
		wOff, wOn, cOff, cOn = wOff+t1.Sub(t0), wOn+t2.Sub(t1), cOff+c1-c0, cOn+c2-c1
	}
	n := float64(b.N)
	b.ReportMetric(wOff.Seconds()/n, "s/delivery-off")
	b.ReportMetric(wOn.Seconds()/n, "s/delivery-on")
	b.ReportMetric(float64(wOff)/float64(wOn), "throughput-ratio(wall)")
	b.ReportMetric(float64(cOff)/float64(cOn), "throughput-ratio(cpu)")
}

var _ ingest.Exporter = (*otlplogs.Exporter)(nil)

// TestAWSFakeProcess is the child process of awsfake.StartProcess (skipped otherwise).
func TestAWSFakeProcess(t *testing.T) { awsfake.ServeProcess(t) }
