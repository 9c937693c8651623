// Package console is the problem and drain pages and their JSON API, written once against
// read interfaces that both backends implement: the embedded store under `aient serve`, and
// a deployed stack's DynamoDB tables under `aient serve --backend aws`. It also guards the
// local server's listener: the console answers only requests addressed to this machine by
// a loopback or listen-address name (no DNS rebinding) and, when the server listens beyond
// loopback, only loopback clients; the Firehose route, when the server has one, is the only
// route a remote caller reaches.
package console

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/logs"
	"github.com/aient/firehose-drain/pkg/problems"
)

// FirehosePrefix is the path under which the Firehose route lives (ingest.PathPrefix's
// parent): every path under it goes to the ingest, so that its answers stay Firehose answers.
const FirehosePrefix = "/aws/"

// Drains is what the console reads of drains; both backends' drain stores implement it.
type Drains interface {
	List(ctx context.Context) ([]drains.Drain, error)
	Get(ctx context.Context, id string) (drains.Drain, error)
}

// Backend is what the console reads.
type Backend struct {
	Problems problems.Reader
	Drains   Drains
	// Actions, when set, serves POST /api/problems/{id}/resolve|ignore|reopen (actions.go).
	Actions Actor
	// Logs, when set, serves GET /api/logs and the logs page (logs.go).
	Logs LogSearcher
}

// Config tunes the console. Zero values take the documented defaults.
type Config struct {
	// EndpointBase is the base URL drain endpoints are shown under; empty shows none.
	EndpointBase string
	// Ingest, when set, serves the Firehose route (every path under FirehosePrefix).
	Ingest http.Handler
	// Hosts are the host names (without port) the console answers to besides localhost,
	// 127.0.0.1 and ::1: the listen address's host, for one.
	Hosts []string
	// Remote lets non-loopback clients in, to the Firehose route only (aient serve
	// --allow-remote). Without it only loopback clients are served at all.
	Remote bool
	// Now is the clock of the pages. Default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Server is the console.
type Server struct {
	b    Backend
	cfg  Config
	tmpl *template.Template
}

// New returns the console over b.
func New(b Backend, cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{b: b, cfg: cfg}
	s.tmpl = s.parseTemplates()
	return s
}

// Handler routes the server's HTTP requests behind the guard.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/problems", s.apiProblems)
	mux.HandleFunc("GET /api/problems/{id}", s.apiProblem)
	if s.b.Actions != nil {
		mux.HandleFunc("POST /api/problems/{id}/{action}", s.apiAct)
	}
	mux.HandleFunc("GET /api/drains", s.apiDrains)
	mux.HandleFunc("GET /api/drains/{id}", s.apiDrain)
	if s.b.Logs != nil {
		mux.HandleFunc("GET /api/logs", s.apiLogs)
		mux.HandleFunc("GET /logs", s.pageLogs)
	}
	mux.HandleFunc("GET /{$}", s.pageProblems)
	mux.HandleFunc("GET /problems/{id}", s.pageProblem)
	mux.HandleFunc("GET /drains", s.pageDrains)
	mux.HandleFunc("GET /drains/{id}", s.pageDrain)
	mux.HandleFunc("/", s.pageNotFound)
	return s.guard(mux)
}

// guard sends the Firehose route to the ingest untouched and lets only local requests
// reach the console.
func (s *Server) guard(console http.Handler) http.Handler {
	hosts := map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true}
	for _, h := range s.cfg.Hosts {
		hosts[strings.ToLower(strings.Trim(h, "[]"))] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Also a path that only cleans to the route (//aws/firehose/ID): the ingest answers
		// it with a Firehose body, never the mux's redirect.
		if s.cfg.Ingest != nil && (strings.HasPrefix(r.URL.Path, FirehosePrefix) || strings.HasPrefix(path.Clean("/"+r.URL.Path), FirehosePrefix)) {
			s.cfg.Ingest.ServeHTTP(w, r)
			return
		}
		if !loopback(r.RemoteAddr) {
			s.refuse(w, r, http.StatusForbidden, "The console answers on this machine only: remote callers reach the Firehose route alone.")
			return
		}
		if !hosts[hostOf(r.Host)] {
			s.refuse(w, r, http.StatusMisdirectedRequest, "The console answers to localhost and its listen address only (Host "+r.Host+").")
			return
		}
		console.ServeHTTP(w, r)
	})
}

// loopback reports whether a request's remote address is a loopback one.
func loopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// hostOf is the host name of a Host header, lower-cased, without port or brackets.
func hostOf(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return strings.ToLower(strings.Trim(h, "[]"))
}

// LoopbackHost reports whether a listen address's host is loopback only (an empty host
// listens on every interface).
func LoopbackHost(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) endpoint(id string) string {
	if s.cfg.EndpointBase == "" {
		return ""
	}
	return strings.TrimRight(s.cfg.EndpointBase, "/") + "/aws/firehose/" + id
}

func (s *Server) query(r *http.Request) (problems.Query, error) {
	return problems.ParseQuery(r.URL.Query(), s.cfg.Now())
}

func (s *Server) apiProblems(w http.ResponseWriter, r *http.Request) {
	q, err := s.query(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := s.b.Problems.Query(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if q.Limit == 0 {
		writeJSON(w, http.StatusOK, page.Problems)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) detail(r *http.Request) (problems.Detail, error) {
	d, err := s.b.Problems.Detail(r.Context(), r.PathValue("id"), s.cfg.Now())
	if err != nil {
		return d, err
	}
	for i := range d.Recent {
		d.Recent[i].CloudWatchURL = cloudWatchURL(d.Recent[i].Region, d.Recent[i].LogGroup, d.Recent[i].LogStream, d.Recent[i].At.UnixMilli())
	}
	return d, nil
}

func (s *Server) apiProblem(w http.ResponseWriter, r *http.Request) {
	d, err := s.detail(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, problems.ViewOfDetail(d))
}

func (s *Server) listDrains(ctx context.Context) ([]drains.Status, error) {
	all, err := s.b.Drains.List(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b drains.Drain) int { return a.CreatedAt.Compare(b.CreatedAt) })
	now := s.cfg.Now()
	out := make([]drains.Status, 0, len(all))
	for _, d := range all {
		out = append(out, drains.StatusOf(d, now, s.endpoint(d.ID)))
	}
	return out, nil
}

// DrainDetail is GET /api/drains/{id}: the drain's status with its delivery log, newest
// first (empty where the backend keeps none).
type DrainDetail struct {
	drains.Status
	Deliveries []drains.LogEntry `json:"deliveries"`
	Errors     []drains.LogEntry `json:"errors"`
	// LogKept says whether the backend keeps a delivery log at all.
	LogKept bool `json:"logKept"`
}

func (s *Server) drainDetail(r *http.Request) (DrainDetail, error) {
	d, err := s.b.Drains.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return DrainDetail{}, err
	}
	out := DrainDetail{Status: drains.StatusOf(d, s.cfg.Now(), s.endpoint(d.ID)), Deliveries: []drains.LogEntry{}, Errors: []drains.LogEntry{}}
	if lr, ok := s.b.Drains.(drains.LogReader); ok {
		out.LogKept = true
		out.Deliveries, out.Errors, err = lr.DeliveryLog(r.Context(), d.ID)
		if err != nil {
			return DrainDetail{}, err
		}
	}
	return out, nil
}

func (s *Server) apiDrains(w http.ResponseWriter, r *http.Request) {
	list, err := s.listDrains(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) apiDrain(w http.ResponseWriter, r *http.Request) {
	d, err := s.drainDetail(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// fail answers an API request that failed: 404 for what does not exist, 400 for a query
// that cannot be answered, else 500 with the cause in the server log only.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := s.classify(r, err)
	writeJSON(w, status, map[string]string{"error": msg})
}

// classify maps an error to its status and the message the user reads: what they asked
// for, not the store's internals.
func (s *Server) classify(r *http.Request, err error) (int, string) {
	switch {
	case errors.Is(err, problems.ErrNotFound):
		return http.StatusNotFound, "problem " + r.PathValue("id") + " not found"
	case errors.Is(err, drains.ErrNotFound):
		return http.StatusNotFound, "drain " + r.PathValue("id") + " not found"
	case errors.Is(err, problems.ErrBadQuery), errors.Is(err, logs.ErrBadQuery):
		return http.StatusBadRequest, err.Error()
	}
	s.cfg.Logger.ErrorContext(r.Context(), "console", "path", r.URL.Path, "err", err)
	return http.StatusInternalServerError, "store error; see the server log"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
