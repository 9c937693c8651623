package console

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/aient/firehose-drain/pkg/logs"
)

// LogSearcher is what the console reads of the local log store (embedded.LogStore).
// Without one (serve --backend aws) there is no logs page and no GET /api/logs.
type LogSearcher interface {
	Search(ctx context.Context, q logs.Query) (logs.Page, error)
}

// LogPageSize is how many lines the logs page shows.
const LogPageSize = 100

// logFilters is the logs page's form as the URL holds it (since and until as typed).
type logFilters struct {
	Q, Drain, LogGroup, Stream, Level, RequestID, Since, Until string
}

// Any reports whether a filter is set.
func (f logFilters) Any() bool { return f != logFilters{} }

// logsView is the logs page.
type logsView struct {
	Filters logFilters
	Lines   []logs.Line
	Next    string // URL of the next (older) page
	First   string // URL of the first page, when not on it
}

func (s *Server) logQuery(v url.Values) (logs.Query, error) {
	return logs.ParseQuery(v, s.cfg.Now())
}

func (s *Server) apiLogs(w http.ResponseWriter, r *http.Request) {
	q, err := s.logQuery(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.b.Logs.Search(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) pageLogs(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	if v.Get("limit") == "" {
		v.Set("limit", strconv.Itoa(LogPageSize))
	}
	f := logFilters{
		Q: v.Get("q"), Drain: v.Get("drain"), LogGroup: v.Get("logGroup"), Stream: v.Get("stream"), Level: v.Get("level"),
		RequestID: v.Get("requestId"), Since: v.Get("since"), Until: v.Get("until"),
	}
	q, err := s.logQuery(v)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	res, err := s.b.Logs.Search(r.Context(), q)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	view := &logsView{Filters: f, Lines: res.Logs}
	if res.Next != "" {
		nv := r.URL.Query()
		nv.Set("cursor", res.Next)
		view.Next = "/logs?" + nv.Encode()
	}
	if q.Cursor != "" {
		fv := r.URL.Query()
		fv.Del("cursor")
		view.First = "/logs?" + fv.Encode()
	}
	s.render(w, r, "logs.html", http.StatusOK, page{Title: "Logs", Nav: "logs", Logs: view})
}
