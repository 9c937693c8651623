// Package awsfake is a latency-injecting stand-in for DynamoDB and SQS over real HTTP, for
// end-to-end benchmarks: every request waits Latency (per service), then gets the answer a
// healthy service gives (reads find nothing or the items given to SetItems, every SQS entry
// is sent), and is counted by operation. Writes change no state: it measures what the code
// asks of AWS and how long that takes when each request costs what it costs on AWS.
//
// A TransactWriteItems is answered as DynamoDB would over those items as far as existence
// goes: an action conditioned on attribute_not_exists(#pk) of an item SetItems gave, or on
// attribute_exists(#pk) of one it did not, cancels the transaction
// (TransactionCanceledException, ConditionalCheckFailed with the item when the action asks
// for ALL_OLD); every other condition (times, counts, versions: state the fake's static
// items do not track) holds, and the transaction commits.
package awsfake

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
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

	mu    sync.Mutex
	ops   map[string]int
	items map[string]any // "pk" value -> item in DynamoDB's JSON, for reads
}

// SetItems makes reads (BatchGetItem, GetItem) find these items, by their "pk" attribute,
// whatever the writes do: a benchmark of a steady state where the items exist.
func (s *Server) SetItems(items []map[string]types.AttributeValue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items = map[string]any{}
	for _, it := range items {
		if pk, ok := it["pk"].(*types.AttributeValueMemberS); ok {
			s.items[pk.Value] = wireItem(it)
		}
	}
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

// found answers the keys of a read request with the items SetItems gave.
func (s *Server) found(keys []map[string]map[string]string) []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []any
	for _, k := range keys {
		if it, ok := s.items[k["pk"]["S"]]; ok {
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
	time.Sleep(wait)
	switch name {
	case "SQS.SendMessageBatch":
		s.sendMessageBatch(w, body)
	case "DynamoDB.BatchGetItem":
		var in struct {
			RequestItems map[string]struct {
				Keys []map[string]map[string]string
			}
		}
		if err := json.Unmarshal(body, &in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		responses := map[string]any{}
		for table, ka := range in.RequestItems {
			if found := s.found(ka.Keys); len(found) > 0 {
				responses[table] = found
			}
		}
		writeJSON(w, map[string]any{"Responses": responses})
	case "DynamoDB.GetItem":
		var in struct{ Key map[string]map[string]string }
		if err := json.Unmarshal(body, &in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if found := s.found([]map[string]map[string]string{in.Key}); len(found) > 0 {
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
	// Only the key of each action is decoded (the other attributes are skipped): the
	// fake's own work stays small beside the code it measures.
	type key struct {
		PK struct{ S string } `json:"pk"`
	}
	type action struct {
		Item, Key                           *key
		ConditionExpression                 string
		ExpressionAttributeNames            map[string]string
		ReturnValuesOnConditionCheckFailure string
	}
	var in struct {
		TransactItems []struct {
			Put, Update, Delete, ConditionCheck *action
		}
	}
	if err := json.Unmarshal(body, &in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	reasons := make([]map[string]any, len(in.TransactItems))
	cancelled := false
	s.mu.Lock()
	for i, it := range in.TransactItems {
		reasons[i] = map[string]any{"Code": "None"}
		a := it.Put
		for _, b := range []*action{it.Update, it.Delete, it.ConditionCheck} {
			if a == nil {
				a = b
			}
		}
		if a == nil {
			continue
		}
		k := a.Key
		if k == nil {
			k = a.Item
		}
		if k == nil {
			continue
		}
		item, exists := s.items[k.PK.S]
		pkName := "#pk"
		for n, attr := range a.ExpressionAttributeNames {
			if attr == "pk" {
				pkName = n
			}
		}
		if (exists && strings.Contains(a.ConditionExpression, "attribute_not_exists("+pkName+")")) ||
			(!exists && strings.Contains(a.ConditionExpression, "attribute_exists("+pkName+")")) {
			cancelled = true
			reasons[i] = map[string]any{"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}
			if exists && a.ReturnValuesOnConditionCheckFailure == "ALL_OLD" {
				reasons[i]["Item"] = item
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
