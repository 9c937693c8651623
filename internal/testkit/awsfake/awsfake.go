// Package awsfake is a latency-injecting stand-in for DynamoDB and SQS over real HTTP, for
// end-to-end benchmarks: every request is answered its service's latency after it arrives,
// with the answer a healthy service gives (reads find nothing or the items given to
// SetItems, projected as they ask, every SQS entry is sent), and is counted by operation.
// Writes change no state: it measures what the code asks of AWS and how long that takes
// when each request costs what it costs on AWS.
//
// A TransactWriteItems is answered as DynamoDB would over those items as far as existence
// goes: an action conditioned on attribute_not_exists(#pk) of an item SetItems gave, or on
// attribute_exists(#pk) of one it did not, cancels the transaction
// (TransactionCanceledException, ConditionalCheckFailed with the item when the action asks
// for ALL_OLD); every other condition (times, counts, versions: state the fake's static
// items do not track) holds, and the transaction commits.
//
// Start runs the fake in the benchmark's process, on the cores the code it measures uses;
// StartProcess runs it in a child process, so that the benchmark's CPU and cores are the
// code's alone, as AWS's work is not the code's. Either way its own work is kept small (the
// items are encoded once, a transaction is read in one pass that decodes only the keys,
// conditions and names it answers by) and counted in the latency.
package awsfake

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Server is the fake endpoint.
type Server struct {
	URL string
	// DynamoDB and SQS are the latencies of each service's requests.
	DynamoDB, SQS time.Duration

	mu  sync.Mutex
	ops map[string]int
	// items: "pk" value -> the item SetItems gave, each attribute's value in DynamoDB's
	// JSON; encoded: projection (projection's key, "" for the whole item) -> "pk" value ->
	// the item's projection in DynamoDB's JSON, encoded once.
	items   map[string]map[string]json.RawMessage
	encoded map[string]map[string]json.RawMessage
}

// SetItems makes reads (BatchGetItem, GetItem) find these items, by their "pk" attribute,
// whatever the writes do: a benchmark of a steady state where the items exist. A read with
// a ProjectionExpression gets the attributes it names, as from DynamoDB (a nested path
// names its whole top-level attribute).
func (s *Server) SetItems(items []map[string]types.AttributeValue) {
	s.setWireItems(wireItems(items))
}

// wireItems are items in DynamoDB's JSON, attribute by attribute.
func wireItems(items []map[string]types.AttributeValue) []map[string]json.RawMessage {
	out := make([]map[string]json.RawMessage, 0, len(items))
	for _, it := range items {
		w := make(map[string]json.RawMessage, len(it))
		for k, v := range it {
			b, err := json.Marshal(wireValue(v))
			if err != nil {
				panic(fmt.Sprintf("awsfake: encode attribute %s: %v", k, err))
			}
			w[k] = b
		}
		out = append(out, w)
	}
	return out
}

// setWireItems is SetItems of items in DynamoDB's JSON (an item without a string "pk" is
// left out).
func (s *Server) setWireItems(items []map[string]json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items = map[string]map[string]json.RawMessage{}
	s.encoded = map[string]map[string]json.RawMessage{}
	for _, it := range items {
		var pk struct{ S *string }
		if json.Unmarshal(it["pk"], &pk) == nil && pk.S != nil {
			s.items[*pk.S] = it
		}
	}
}

// projection is the top-level attributes a ProjectionExpression names, sorted, and a key of
// them; none (and key "") for an empty expression: the whole item.
func projection(expr string, names map[string]string) (attrs []string, key string) {
	if strings.TrimSpace(expr) == "" {
		return nil, ""
	}
	for _, term := range strings.Split(expr, ",") {
		term = strings.TrimSpace(term)
		if i := strings.IndexAny(term, ".["); i >= 0 {
			term = strings.TrimSpace(term[:i])
		}
		if n, ok := names[term]; ok {
			term = n
		}
		if !slices.Contains(attrs, term) {
			attrs = append(attrs, term)
		}
	}
	slices.Sort(attrs)
	return attrs, "\x00" + strings.Join(attrs, "\x00")
}

// encodedLocked is item pk's projection attrs (key: projection's) in DynamoDB's JSON,
// encoded the first time it is asked for (s.mu held).
func (s *Server) encodedLocked(pk string, attrs []string, key string) (json.RawMessage, bool) {
	if b, ok := s.encoded[key][pk]; ok {
		return b, true
	}
	it, ok := s.items[pk]
	if !ok {
		return nil, false
	}
	if attrs != nil {
		p := make(map[string]json.RawMessage, len(attrs))
		for _, a := range attrs {
			if v, ok := it[a]; ok {
				p[a] = v
			}
		}
		it = p
	}
	b, err := json.Marshal(it)
	if err != nil {
		panic(fmt.Sprintf("awsfake: encode item %s: %v", pk, err))
	}
	if s.encoded[key] == nil {
		s.encoded[key] = map[string]json.RawMessage{}
	}
	s.encoded[key][pk] = b
	return b, true
}

// wireItem is an item in DynamoDB's JSON protocol.
func wireItem(item map[string]types.AttributeValue) map[string]any {
	out := make(map[string]any, len(item))
	for k, v := range item {
		out[k] = wireValue(v)
	}
	return out
}

func wireValue(av types.AttributeValue) map[string]any {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": v.Value}
	case *types.AttributeValueMemberN:
		return map[string]any{"N": v.Value}
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": true}
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": v.Value}
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": v.Value}
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			l[i] = wireValue(e)
		}
		return map[string]any{"L": l}
	case *types.AttributeValueMemberM:
		return map[string]any{"M": wireItem(v.Value)}
	default:
		panic(fmt.Sprintf("awsfake: attribute value %T", av))
	}
}

// found answers the keys of a read request with the items SetItems gave, projected as
// the request's ProjectionExpression (with its names) says.
func (s *Server) found(keys []map[string]map[string]string, expr string, names map[string]string) []json.RawMessage {
	attrs, key := projection(expr, names)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []json.RawMessage
	for _, k := range keys {
		if it, ok := s.encodedLocked(k["pk"]["S"], attrs, key); ok {
			out = append(out, it)
		}
	}
	return out
}

// Start starts a fake with the given latencies; it stops with tb.
func Start(tb testing.TB, dynamo, sqs time.Duration) *Server {
	s := &Server{DynamoDB: dynamo, SQS: sqs, ops: map[string]int{}}
	srv := httptest.NewServer(s)
	tb.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// processEnv carries the latencies from StartProcess to the child's ServeProcess.
const processEnv = "AIENT_AWSFAKE_PROCESS"

// Process is a fake in a child process (StartProcess).
type Process struct {
	URL string
}

// StartProcess starts a fake with the given latencies in a child process: the test binary
// itself, running only the test named helperTest, whose body calls ServeProcess. The
// fake's CPU is then not the caller's, as AWS's is not the code's: a benchmark that prices
// the code in process CPU, or on one core (-cpu 1: the child keeps its own), counts only
// the code and its SDK. The child stops with tb.
func StartProcess(tb testing.TB, helperTest string, dynamo, sqs time.Duration) *Process {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+helperTest+"$", "-test.count=1", "-test.timeout=0")
	cmd.Env = append(os.Environ(), processEnv+"="+dynamo.String()+","+sqs.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "awsfake: serving "); ok {
			go func() { _, _ = io.Copy(io.Discard, out) }()
			return &Process{URL: u}
		}
	}
	tb.Fatalf("awsfake: the child process %s ended before serving (%v)", helperTest, sc.Err())
	return nil
}

// ServeProcess is the body of StartProcess's helper test: in the child it serves a fake
// until killed and never returns; in any other run it returns at once (the test skips).
func ServeProcess(t *testing.T) {
	v, ok := os.LookupEnv(processEnv)
	if !ok {
		t.Skip("the helper process of awsfake.StartProcess")
	}
	d, q, _ := strings.Cut(v, ",")
	dynamo, err := time.ParseDuration(d)
	if err != nil {
		t.Fatal(err)
	}
	sqs, err := time.ParseDuration(q)
	if err != nil {
		t.Fatal(err)
	}
	s := Start(t, dynamo, sqs)
	fmt.Printf("awsfake: serving %s\n", s.URL)
	select {}
}

// Config is an SDK configuration that sends every request to the fake.
func (p *Process) Config() aws.Config { return config(p.URL) }

// Control paths of a fake, for a Process's SetItems and Counts (AWS's requests go to "/").
const (
	itemsPath  = "/awsfake/items"
	countsPath = "/awsfake/counts"
)

// control answers the control requests (itemsPath, countsPath); false for any other.
func (s *Server) control(w http.ResponseWriter, r *http.Request) bool {
	switch r.URL.Path {
	case itemsPath:
		var items []map[string]json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&items); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return true
		}
		s.setWireItems(items)
		w.WriteHeader(http.StatusNoContent)
	case countsPath:
		writeJSON(w, s.Counts())
	default:
		return false
	}
	return true
}

// SetItems is Server.SetItems in the child.
func (p *Process) SetItems(tb testing.TB, items []map[string]types.AttributeValue) {
	tb.Helper()
	body, err := json.Marshal(wireItems(items))
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := http.Post(p.URL+itemsPath, "application/json", bytes.NewReader(body)) //nolint:noctx // a test's call to its own child
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusNoContent {
		tb.Fatalf("awsfake: set items: %s", resp.Status)
	}
}

// Counts is Server.Counts of the child.
func (p *Process) Counts(tb testing.TB) map[string]int {
	tb.Helper()
	resp, err := http.Get(p.URL + countsPath) //nolint:noctx // a test's call to its own child
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out map[string]int
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		tb.Fatal(err)
	}
	return out
}

// Config is an SDK configuration that sends every request to the fake.
func (s *Server) Config() aws.Config { return config(s.URL) }

// config sends every request to url, through a client that keeps enough connections for
// the concurrency the code uses.
func config(url string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("bench", "bench", ""),
		BaseEndpoint: aws.String(url),
		HTTPClient: &http.Client{Transport: &http.Transport{
			MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute,
		}},
	}
}

// Counts returns the requests by operation ("DynamoDB.PutItem", "SQS.SendMessageBatch")
// and resets them.
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.ops
	s.ops = map[string]int{}
	return out
}

// ServeHTTP answers one AWS JSON-protocol request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	if s.control(w, r) {
		return
	}
	service, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	body, err := readBody(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	name, wait := "", time.Duration(0)
	switch service {
	case "DynamoDB_20120810":
		name, wait = "DynamoDB."+op, s.DynamoDB
	case "AmazonSQS":
		name, wait = "SQS."+op, s.SQS
	default:
		http.Error(w, "awsfake: unknown service "+service, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.ops[name]++
	s.mu.Unlock()
	// Answered wait after the request arrived: the fake's own work (reading the body,
	// deciding the answer) is within the latency, as DynamoDB's is within its own.
	answer := &buffered{header: http.Header{}, status: http.StatusOK}
	s.answer(answer, name, body)
	time.Sleep(time.Until(arrived.Add(wait)))
	answer.writeTo(w)
}

// buffered is an answer held until it is due.
type buffered struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *buffered) Header() http.Header         { return b.header }
func (b *buffered) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *buffered) WriteHeader(status int)      { b.status = status }

func (b *buffered) writeTo(w http.ResponseWriter) {
	maps.Copy(w.Header(), b.header)
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}

// answer writes the answer to the request body of operation name to w.
func (s *Server) answer(w http.ResponseWriter, name string, body []byte) {
	switch name {
	case "SQS.SendMessageBatch":
		s.sendMessageBatch(w, body)
	case "DynamoDB.BatchGetItem":
		var in struct {
			RequestItems map[string]struct {
				Keys                     []map[string]map[string]string
				ProjectionExpression     string
				ExpressionAttributeNames map[string]string
			}
		}
		if err := json.Unmarshal(body, &in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		// Written as it is, the items encoded once (SetItems): the fake's CPU stays small.
		out := []byte(`{"Responses":{`)
		n := 0
		for table, ka := range in.RequestItems {
			found := s.found(ka.Keys, ka.ProjectionExpression, ka.ExpressionAttributeNames)
			if len(found) == 0 {
				continue
			}
			if n++; n > 1 {
				out = append(out, ',')
			}
			name, _ := json.Marshal(table) //nolint:errchkjson // a string encodes
			out = append(append(append(out, name...), ':'), '[')
			for k, it := range found {
				if k > 0 {
					out = append(out, ',')
				}
				out = append(out, it...)
			}
			out = append(out, ']')
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write(append(out, "}}\n"...))
	case "DynamoDB.GetItem":
		var in struct {
			Key                      map[string]map[string]string
			ProjectionExpression     string
			ExpressionAttributeNames map[string]string
		}
		if err := json.Unmarshal(body, &in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if found := s.found([]map[string]map[string]string{in.Key}, in.ProjectionExpression, in.ExpressionAttributeNames); len(found) > 0 {
			writeJSON(w, map[string]any{"Item": found[0]})
			return
		}
		writeJSON(w, map[string]any{})
	case "DynamoDB.TransactWriteItems":
		s.transactWriteItems(w, body)
	default: // PutItem, UpdateItem, DeleteItem: success
		writeJSON(w, map[string]any{})
	}
}

// transactWriteItems answers a transaction by the existence conditions of its actions
// (see the package doc).
func (s *Server) transactWriteItems(w http.ResponseWriter, body []byte) {
	s.mu.Lock()
	empty := len(s.items) == 0
	s.mu.Unlock()
	if empty && !bytes.Contains(body, []byte("attribute_exists(")) {
		writeJSON(w, map[string]any{}) // nothing exists and nothing needs to: it commits
		return
	}
	actions, err := readTransaction(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	reasons := make([]map[string]any, len(actions))
	cancelled := false
	s.mu.Lock()
	for i, a := range actions {
		reasons[i] = map[string]any{"Code": "None"}
		if !a.present || !a.hasKey {
			continue
		}
		_, exists := s.items[a.pk]
		if a.cancels(exists) {
			cancelled = true
			reasons[i] = map[string]any{"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}
			if exists && a.allOld {
				reasons[i]["Item"], _ = s.encodedLocked(a.pk, nil, "")
			}
		}
	}
	s.mu.Unlock()
	if !cancelled {
		writeJSON(w, map[string]any{})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Errortype", "TransactionCanceledException")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"__type":              "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
		"Message":             "Transaction cancelled, please refer cancellation reasons for specific reasons",
		"CancellationReasons": reasons,
	})
}

// readBody reads a request's body into one buffer of its Content-Length (the SDK always
// sends one): the fake's own share of a benchmark's CPU and allocations stays small.
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength <= 0 || r.ContentLength > 64<<20 {
		return io.ReadAll(r.Body) //nolint:wrapcheck // the handler answers 400 with it
	}
	body := make([]byte, r.ContentLength)
	if _, err := io.ReadFull(r.Body, body); err != nil {
		return nil, err //nolint:wrapcheck // the handler answers 400 with it
	}
	return body, nil
}

func (s *Server) sendMessageBatch(w http.ResponseWriter, body []byte) {
	var in struct {
		Entries []struct {
			ID          string `json:"Id"`
			MessageBody string
		}
	}
	if err := json.Unmarshal(body, &in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	type ok struct {
		ID               string `json:"Id"`
		MessageID        string `json:"MessageId"`
		MD5OfMessageBody string
	}
	out := struct{ Successful []ok }{}
	for i, e := range in.Entries {
		sum := md5.Sum([]byte(e.MessageBody))
		out.Successful = append(out.Successful, ok{ID: e.ID, MessageID: fmt.Sprint(i), MD5OfMessageBody: hex.EncodeToString(sum[:])})
	}
	writeJSON(w, out)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(v)
}

// CPUTime is the process's user+system CPU time so far (the fake's own work included): a
// benchmark reports it beside wall time to tell CPU from waiting on the fake's latency.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
