//go:build linux

package deploytest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
)

// envCollectorFirehose names the binary of bench/collector-firehose (the OpenTelemetry
// Collector's own Firehose receiver), which `make bench-rss` builds; without it
// BenchmarkPeakRSS measures the ingest alone.
const envCollectorFirehose = "AIENT_BENCH_COLLECTOR_FIREHOSE"

// envIngestBinary names an ingest bootstrap built beforehand, measured instead of one
// built from ./functions/ingest: two builds compared in alternation, run by run.
const envIngestBinary = "AIENT_BENCH_INGEST"

// rssBody is a Firehose body of at least size bytes: records of 400 CloudWatch events of
// Lambda text lines with random request ids and values (so that gzip compresses them about
// as it does real logs), every 1000th an error (moto, behind the tests' serializing proxy,
// is slow with transactions of 100 claims: the claims of 5 % would not fit the deadline).
func rssBody(size int) (body []byte, events, inflated int) {
	r := rand.New(rand.NewPCG(1, 2))
	var data []string
	for rec := 0; ; rec++ {
		evs := make([]fht.LogEvent, 400)
		for k := range evs {
			i := rec*len(evs) + k
			ev := fht.InfoEvent(i)
			ev.Message = fmt.Sprintf("2026-11-21T10:00:%02d.%03dZ\t%08x-%04x-4%03x-8%03x-%012x\tINFO\tcharged order %d for %d.%02d EUR in %d ms\n",
				i%60, i%1000, r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), r.IntN(1<<12), r.Uint64()&(1<<48-1), r.IntN(1e7), r.IntN(500), r.IntN(100), r.IntN(900))
			if i%1000 == 0 {
				ev = fht.ErrorEvent(i)
			}
			inflated += len(ev.Message) + 100
			evs[k] = ev
		}
		events += len(evs)
		data = append(data, fht.Record("/aws/lambda/pay", fmt.Sprintf("2026/11/21/[$LATEST]%04d", rec), evs...))
		if body = fht.Body("rss", data...); len(body) >= size {
			return body, events, inflated
		}
	}
}

// BenchmarkPeakRSS is the peak resident set size of the real ingest binary (through the
// Lambda Runtime API, with the stack on moto) over three invocations of one 5.5 MB
// delivery with 0.1 % error-class events, GOMAXPROCS=2; and, when envCollectorFirehose names
// it, that of the OpenTelemetry Collector's Firehose receiver (CloudWatch Logs encoding,
// a consumer that discards) given the same body three times over loopback HTTP. Each
// iteration starts both processes afresh; -benchtime 1x -count 6 and benchstat give the
// medians.
func BenchmarkPeakRSS(b *testing.B) {
	body, events, inflated := rssBody(5_500_000)
	b.Logf("body %d bytes, %d events, ~%d bytes of messages inflated", len(body), events, inflated)
	s := deployOnMoto(b)
	bin := os.Getenv(envIngestBinary)
	if bin == "" {
		bin = BuildBootstrap(b, "./functions/ingest")
	}
	payload, err := json.Marshal(functionURLEvent(urlRequest{
		method: "POST", drainID: ExampleDrainID, accessKey: ExampleAccessKey, requestID: "rss",
		sourceARN: "arn:aws:firehose:us-east-1:123456789012:deliverystream/aient-cloudwatch-logs",
		body:      body, time: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC),
	}))
	if err != nil {
		b.Fatal(err)
	}
	collector := os.Getenv(envCollectorFirehose)
	var ours, theirs, oursIdle, theirsIdle, oursCPU float64
	for b.Loop() {
		env := map[string]string{"GOMAXPROCS": "2"}
		for k, v := range s.env {
			env[k] = v
		}
		f := StartFunction(b, bin, env)
		f.Timeout = s.ingestWait
		if _, err := f.Invoke(b.Context(), []byte(`{"rawPath":"/healthz"}`)); err != nil { // initialised, nothing delivered
			b.Fatal(err)
		}
		oursIdle = vmHWM(b, f.cmd.Process.Pid)
		cpu0 := cpuTime(b, f.cmd.Process.Pid)
		for range 3 {
			res, err := f.Invoke(b.Context(), payload)
			if err != nil {
				b.Fatal(err)
			}
			if !bytes.Contains(res.Payload, []byte(`"statusCode":200`)) {
				b.Fatalf("ingest answered %.300s", res.Payload)
			}
		}
		ours = vmHWM(b, f.cmd.Process.Pid)
		oursCPU += (cpuTime(b, f.cmd.Process.Pid) - cpu0).Seconds() * 1000 / 3
		f.Stop()
		if collector != "" {
			theirsIdle, theirs = collectorPeakRSS(b, collector, body)
		}
	}
	b.ReportMetric(ours/(1<<20), "ingest-peak-MiB")
	b.ReportMetric(oursIdle/(1<<20), "ingest-idle-MiB")
	b.ReportMetric(oursCPU/float64(b.N), "ingest-cpu-ms/delivery")
	if collector != "" {
		b.ReportMetric(theirs/(1<<20), "collector-peak-MiB")
		b.ReportMetric(theirsIdle/(1<<20), "collector-idle-MiB")
		b.ReportMetric(ours/theirs, "ingest/collector")
	}
}

// collectorPeakRSS runs the Collector's receiver, posts body to it three times, and returns
// its peak RSS when started and after the requests.
func collectorPeakRSS(b *testing.B, bin string, body []byte) (idle, peak float64) {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	const key = "rss-access-key"
	cmd := exec.Command(bin, "-listen", addr, "-key", key)
	cmd.Env = []string{"GOMAXPROCS=2", "PATH=/usr/bin:/bin"}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || strings.TrimSpace(line) != "ready" {
		_ = cmd.Process.Kill()
		b.Fatalf("collector: %q, %v\n%s", line, err, stderr.String())
	}
	idle = vmHWM(b, cmd.Process.Pid)
	for i := range 3 {
		req, err := http.NewRequestWithContext(b.Context(), http.MethodPost, "http://"+addr+"/", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Amz-Firehose-Request-Id", "rss") // the body's requestId
		req.Header.Set("X-Amz-Firehose-Access-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("collector answered %d to request %d: %s\n%s", resp.StatusCode, i, answer, stderr.String())
		}
	}
	peak = vmHWM(b, cmd.Process.Pid)
	_ = stdin.Close()
	if err := cmd.Wait(); err != nil {
		b.Fatalf("collector: %v\n%s", err, stderr.String())
	}
	return idle, peak
}

// cpuTime is a running process's CPU time, user and system, all its threads (utime and
// stime in /proc, in clock ticks of 10 ms: over three deliveries of ~100 ms each, ±3 %).
func cpuTime(b *testing.B, pid int) time.Duration {
	b.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command name, which is in parentheses and may hold spaces:
	// state is the first, utime the 12th, stime the 13th.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(f) < 13 {
		b.Fatalf("/proc/%d/stat: %q", pid, stat)
	}
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			b.Fatalf("/proc/%d/stat: %v", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// vmHWM is a running process's peak resident set size in bytes (VmHWM in /proc). Not the
// rusage of the finished child: on Linux that includes the parent's RSS at the exec, since
// Go starts children with a vfork that shares the parent's memory until then.
func vmHWM(b *testing.B, pid int) float64 {
	b.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				b.Fatalf("VmHWM %q: %v", v, err)
			}
			return float64(kb) * 1024
		}
	}
	b.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}
