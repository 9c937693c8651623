// Package localserver is `aient serve`: the ingest handler, the grouper running off the
// durable embedded queue, and the problem and drain pages and JSON API, all over one
// embedded store.
package localserver

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"github.com/aient/firehose-drain/pkg/dedup"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/grouper"
	"github.com/aient/firehose-drain/pkg/ingest"
	"github.com/aient/firehose-drain/pkg/problems"
)

// Config tunes the local server. Zero values take the documented defaults.
type Config struct {
	// EndpointBase is the server's base URL, for the endpoints shown on drain pages.
	EndpointBase string
	// PollInterval is how often the grouper looks for queued events when idle. Default 200ms.
	PollInterval time.Duration
	// MaxAttempts before a queued event moves to the dead-letter table. Default 5.
	MaxAttempts int
	// Visibility is how long a received event is leased to the grouper. Default 30s.
	Visibility time.Duration
	// Now is the server's clock (ingest, drains, pages). Default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Server is the local server.
type Server struct {
	store   *embedded.Store
	drains  *drains.Service
	ingest  *ingest.Handler
	grouper *grouper.Grouper
	tmpl    *template.Template
	cfg     Config
}

// New wires the server over st.
func New(st *embedded.Store, cfg Config) *Server {
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 200 * time.Millisecond
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.Visibility == 0 {
		cfg.Visibility = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	svc := drains.NewService(st.Drains(), drains.PepperFunc(st.Pepper), drains.Config{Now: cfg.Now})
	claims := dedup.New(st.Claims(), dedup.Config{Now: cfg.Now})
	s := &Server{
		store:   st,
		drains:  svc,
		ingest:  ingest.New(svc, st.Drains(), claims, st.Queue(), ingest.Config{Logger: cfg.Logger, Now: cfg.Now}),
		grouper: grouper.New(st.Problems(), cfg.Logger),
		cfg:     cfg,
	}
	s.tmpl = s.parseTemplates()
	return s
}

// Drains is the drain service of the server.
func (s *Server) Drains() *drains.Service { return s.drains }

// Handler routes the server's HTTP requests.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(ingest.PathPrefix, s.ingest)
	mux.HandleFunc("GET /api/problems", s.apiProblems)
	mux.HandleFunc("GET /api/problems/{id}", s.apiProblem)
	mux.HandleFunc("GET /api/drains", s.apiDrains)
	mux.HandleFunc("GET /api/drains/{id}", s.apiDrain)
	mux.HandleFunc("GET /{$}", s.pageProblems)
	mux.HandleFunc("GET /problems/{id}", s.pageProblem)
	mux.HandleFunc("GET /drains", s.pageDrains)
	mux.HandleFunc("GET /drains/{id}", s.pageDrain)
	return mux
}

// RunGrouper groups queued events until ctx ends: each is recorded, then acknowledged;
// one that fails is retried after a backoff and, after MaxAttempts, dead-lettered.
func (s *Server) RunGrouper(ctx context.Context) error {
	for {
		n, err := s.GroupOnce(ctx, 50)
		if err != nil && ctx.Err() == nil {
			s.cfg.Logger.ErrorContext(ctx, "grouper", "err", err)
		}
		if n > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(s.cfg.PollInterval):
		}
	}
}

// GroupOnce receives up to max queued events, records them and acknowledges those
// recorded. It returns how many it received.
func (s *Server) GroupOnce(ctx context.Context, max int) (int, error) {
	q := s.store.Queue()
	msgs, err := q.Receive(ctx, max, s.cfg.Visibility)
	if err != nil {
		return 0, err
	}
	var done []int64
	for _, m := range msgs {
		if _, err := s.grouper.Process(ctx, &m.Event); err != nil {
			dead, ferr := q.Fail(ctx, m.ID, s.cfg.MaxAttempts)
			s.cfg.Logger.ErrorContext(ctx, "event not recorded", "queueId", m.ID, "attempts", m.Attempts, "deadLettered", dead, "err", errors.Join(err, ferr))
			continue
		}
		done = append(done, m.ID)
	}
	if len(done) > 0 {
		if err := q.Ack(ctx, done...); err != nil {
			return len(msgs), err
		}
	}
	return len(msgs), nil
}

func (s *Server) endpoint(id string) string {
	if s.cfg.EndpointBase == "" {
		return ""
	}
	return s.cfg.EndpointBase + ingest.PathPrefix + id
}

func (s *Server) listProblems(r *http.Request) ([]problems.Problem, error) {
	q := r.URL.Query()
	list, err := s.store.Problems().List(r.Context(), q.Get("org"), q.Get("env"))
	if list == nil {
		list = []problems.Problem{}
	}
	return list, err
}

func (s *Server) listDrains(r *http.Request) ([]drains.Status, error) {
	all, err := s.store.Drains().List(r.Context())
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].CreatedAt.Before(all[j].CreatedAt) })
	now := s.cfg.Now()
	out := make([]drains.Status, 0, len(all))
	for _, d := range all {
		out = append(out, drains.StatusOf(d, now, s.endpoint(d.ID)))
	}
	return out, nil
}

// ProblemSummary is one row of GET /api/problems.
type ProblemSummary struct {
	ID          string    `json:"id"`
	Fingerprint string    `json:"fingerprint"`
	Title       string    `json:"title"`
	Culprit     string    `json:"culprit"`
	Level       string    `json:"level"`
	Count       int64     `json:"count"`
	FirstSeen   time.Time `json:"firstSeen"`
	LastSeen    time.Time `json:"lastSeen"`
	Org         string    `json:"org"`
	Env         string    `json:"env"`
}

func (s *Server) apiProblems(w http.ResponseWriter, r *http.Request) {
	list, err := s.listProblems(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]ProblemSummary, len(list))
	for i, p := range list {
		out[i] = ProblemSummary{
			ID: p.ID, Fingerprint: p.Fingerprint, Title: p.Title, Culprit: p.Culprit,
			Level: p.Level, Count: p.Count, FirstSeen: p.FirstSeen, LastSeen: p.LastSeen, Org: p.Org, Env: p.Env,
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiProblem(w http.ResponseWriter, r *http.Request) {
	p, err := s.store.Problems().Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) apiDrains(w http.ResponseWriter, r *http.Request) {
	list, err := s.listDrains(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) apiDrain(w http.ResponseWriter, r *http.Request) {
	d, err := s.store.Drains().Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, drains.StatusOf(d, s.cfg.Now(), s.endpoint(d.ID)))
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if isNotFound(err) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
		return
	}
	s.cfg.Logger.ErrorContext(r.Context(), "api", "path", r.URL.Path, "err", err)
	writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "store error; see the server log"})
}

func isNotFound(err error) bool {
	return errors.Is(err, problems.ErrNotFound) || errors.Is(err, drains.ErrNotFound)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
