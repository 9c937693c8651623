// Package chaos is the chaos drill's rig (test code only, never imported by production
// code): a fault-injecting HTTP proxy that the real functions' AWS calls go through on
// their way to moto, and the tally the drill prints. The drill itself is in the package's
// tests (drill_test.go, serve_test.go); docs/design.md section 12 describes it.
package chaos

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Kind is one kind of fault the proxy injects.
type Kind string

// The faults, each as an AWS service or the network between shows it to its caller.
const (
	// ServerError answers 500 (InternalServerError) without forwarding: nothing lands.
	ServerError Kind = "500"
	// Throttle answers the service's throttling error without forwarding: DynamoDB's
	// ProvisionedThroughputExceededException or ThrottlingException, SQS's and Secrets
	// Manager's ThrottlingException (400).
	Throttle Kind = "throttle"
	// LandedError forwards the call (a write lands) and answers 500 instead of its answer.
	LandedError Kind = "landed-500"
	// LandedReset forwards the call and resets the connection instead of answering.
	LandedReset Kind = "landed-reset"
	// Hang forwards the call and withholds the answer until the caller gives up (its
	// deadline or a kill), or MaxHang has passed; then the connection is reset.
	Hang Kind = "hang"
)

// Kinds are the proxy's faults, in the order the tally prints them.
var Kinds = []Kind{ServerError, Throttle, LandedError, LandedReset, Hang}

// Config is what the proxy injects.
type Config struct {
	// Rate is the probability that a call gets a fault (0..1).
	Rate float64
	// Weights is the relative frequency of each kind (a kind left out is never injected);
	// nil is every kind alike.
	Weights map[Kind]int
	// Seed makes the draw reproducible.
	Seed uint64
	// MaxHang bounds a Hang (default 30 s).
	MaxHang time.Duration
}

// Proxy forwards HTTP calls to an upstream (moto), injecting faults at Config.Rate.
type Proxy struct {
	URL      string
	upstream string
	cfg      Config
	client   *http.Client
	srv      *http.Server

	mu    sync.Mutex
	rng   *rand.Rand
	bag   []Kind // each kind repeated by its weight
	rate  float64
	calls int64
	hits  map[Kind]int64
	byOp  map[string]int64 // "Kind Service.Op" -> faults
	hangs sync.WaitGroup
	quit  chan struct{}
	once  sync.Once
}

// NewProxy starts a proxy on a loopback port in front of upstream (a base URL).
func NewProxy(upstream string, cfg Config) (*Proxy, error) {
	if cfg.MaxHang <= 0 {
		cfg.MaxHang = 30 * time.Second
	}
	p := &Proxy{
		upstream: strings.TrimSuffix(upstream, "/"),
		cfg:      cfg,
		rng:      rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		rate:     cfg.Rate,
		hits:     map[Kind]int64{},
		byOp:     map[string]int64{},
		quit:     make(chan struct{}),
		client:   &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 30 * time.Second}},
	}
	for _, k := range Kinds {
		w := 1
		if cfg.Weights != nil {
			w = cfg.Weights[k]
		}
		for range w {
			p.bag = append(p.bag, k)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("chaos proxy: listen: %w", err)
	}
	p.URL = "http://" + l.Addr().String()
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(l) }()
	return p, nil
}

// Close stops the proxy: hung calls are reset, open connections closed.
func (p *Proxy) Close() {
	p.once.Do(func() { close(p.quit) })
	_ = p.srv.Close()
	p.hangs.Wait()
	p.client.CloseIdleConnections()
}

// SetRate changes the fault rate from the next call on.
func (p *Proxy) SetRate(r float64) {
	p.mu.Lock()
	p.rate = r
	p.mu.Unlock()
}

// Tally is what the proxy did: calls seen and faults injected by kind and by operation.
type Tally struct {
	Calls  int64
	Faults map[Kind]int64
	ByOp   map[string]int64
}

// Tally returns the counts so far.
func (p *Proxy) Tally() Tally {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := Tally{Calls: p.calls, Faults: map[Kind]int64{}, ByOp: map[string]int64{}}
	for k, n := range p.hits {
		t.Faults[k] = n
	}
	for k, n := range p.byOp {
		t.ByOp[k] = n
	}
	return t
}

// draw decides the fault of one call ("" for none) and counts it.
func (p *Proxy) draw(op string) Kind {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if len(p.bag) == 0 || p.rng.Float64() >= p.rate {
		return ""
	}
	k := p.bag[p.rng.IntN(len(p.bag))]
	p.hits[k]++
	p.byOp[string(k)+" "+op]++
	return k
}

// pick is a fair coin from the proxy's generator.
func (p *Proxy) pick() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rng.IntN(2) == 0
}

// operation names a call: "DynamoDB_20120810.PutItem", "AmazonSQS.SendMessageBatch", or
// the query protocol's Action.
func operation(r *http.Request, body []byte) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return t
	}
	if i := bytes.Index(body, []byte("Action=")); i >= 0 {
		a := body[i+len("Action="):]
		if j := bytes.IndexByte(a, '&'); j >= 0 {
			a = a[:j]
		}
		return "query." + string(a)
	}
	return r.Method + " " + r.URL.Path
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "chaos proxy: reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	op := operation(r, body)
	switch p.draw(op) {
	case ServerError:
		writeAWSError(w, http.StatusInternalServerError, service(op), "InternalServerError", "chaos: internal server error")
		return
	case Throttle:
		code := "ThrottlingException"
		if service(op) == "DynamoDB_20120810" && p.pick() {
			code = "ProvisionedThroughputExceededException"
		}
		writeAWSError(w, http.StatusBadRequest, service(op), code, "chaos: rate exceeded")
		return
	case LandedError:
		if _, err := p.forward(r, body); err != nil {
			reset(w)
			return
		}
		writeAWSError(w, http.StatusInternalServerError, service(op), "InternalServerError", "chaos: the call landed, its answer did not")
		return
	case LandedReset:
		_, _ = p.forward(r, body)
		reset(w)
		return
	case Hang:
		_, _ = p.forward(r, body)
		p.hangs.Add(1)
		defer p.hangs.Done()
		select {
		case <-r.Context().Done():
		case <-p.quit:
		case <-time.After(p.cfg.MaxHang):
		}
		reset(w)
		return
	}
	resp, err := p.forward(r, body)
	if err != nil {
		reset(w)
		return
	}
	for k, vs := range resp.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// forward sends the call upstream and reads the whole answer. A call that reached the
// service completes there whatever its caller does meanwhile, as on AWS: the upstream
// request does not end with the caller's.
func (p *Proxy) forward(r *http.Request, body []byte) (*answer, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.Method, p.upstream+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = r.Header.Clone()
	req.Host = r.Host // moto builds queue URLs from it
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	h := resp.Header.Clone()
	h.Del("Content-Length")
	return &answer{status: resp.StatusCode, header: h, body: b}, nil
}

// service is the target prefix of an operation ("DynamoDB_20120810", "AmazonSQS", ...).
func service(op string) string {
	s, _, _ := strings.Cut(op, ".")
	return s
}

// writeAWSError answers an AWS JSON-protocol error the SDK decodes: the code in __type
// and X-Amzn-ErrorType, and for SQS (query-compatible JSON) in x-amzn-query-error too.
func writeAWSError(w http.ResponseWriter, status int, svc, code, msg string) {
	prefix := map[string]string{
		"DynamoDB_20120810": "com.amazonaws.dynamodb.v20120810#",
		"AmazonSQS":         "com.amazonaws.sqs#",
		"secretsmanager":    "com.amazonaws.secretsmanager#",
	}[svc]
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("X-Amzn-ErrorType", code)
	if svc == "AmazonSQS" {
		fault := "Sender"
		if status >= 500 {
			fault = "Receiver"
		}
		h.Set("X-Amzn-Query-Error", code+";"+fault)
	}
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"__type":%q,"message":%q}`, prefix+code, msg)
}

// reset closes the caller's connection with a TCP RST (SO_LINGER 0), the way a load
// balancer or a dying host drops it.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // net/http closes the connection
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}
