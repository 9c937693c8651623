package localserver

import (
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/problems"
)

//go:embed templates/*.html
var templateFS embed.FS

// advice is the product's troubleshooting table, keyed by the alert a drain shows.
var advice = map[string]string{
	drains.AlertAuth:    "The Firehose access key does not match. Rotate the drain (aient drains rotate ID) and paste the new key into the Firehose HTTP endpoint destination.",
	drains.AlertPayload: "Firehose is not sending the standard CloudWatch Logs payload, or records exceed limits. Remove transformation processors, check the request content encoding, and lower the Firehose buffer size (at most 3 MiB).",
}

func (s *Server) parseTemplates() *template.Template {
	funcs := template.FuncMap{
		"ago": func(t time.Time) string {
			if t.IsZero() {
				return "never"
			}
			d := s.cfg.Now().Sub(t)
			switch {
			case d < time.Minute:
				return "just now"
			case d < time.Hour:
				return fmt.Sprintf("%d min ago", int(d.Minutes()))
			case d < 48*time.Hour:
				return fmt.Sprintf("%d h ago", int(d.Hours()))
			}
			return fmt.Sprintf("%d days ago", int(d.Hours()/24))
		},
		"rfc3339":    func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"millis":     func(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05.000 UTC") },
		"cloudwatch": cloudWatchURL,
		"advice":     func(a string) string { return advice[a] },
	}
	return template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html"))
}

// cloudWatchURL links a sample to its log stream in the CloudWatch console, starting at
// the event's time. Empty when the region is unknown.
func cloudWatchURL(s problems.Sample) string {
	if s.Region == "" || s.LogGroup == "" {
		return ""
	}
	enc := func(v string) string { // the console's own escaping of path parts: % becomes $25
		return strings.ReplaceAll(url.QueryEscape(url.QueryEscape(v)), "%", "$")
	}
	return fmt.Sprintf("https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#logsV2:log-groups/log-group/%s/log-events/%s$3Fstart$3D%d",
		s.Region, s.Region, enc(s.LogGroup), enc(s.LogStream), s.Timestamp)
}

type page struct {
	Title    string
	Nav      string
	Problems []problems.Problem
	Problem  *problems.Problem
	Drains   []drains.Status
	Drain    *drains.Status
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := s.tmpl.ExecuteTemplate(w, name, p); err != nil {
		s.cfg.Logger.ErrorContext(r.Context(), "render page", "page", name, "err", err)
	}
}

// pageError answers a page request that failed: 404 for what does not exist, else 500
// with the cause in the server log (as the JSON API's fail does).
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	if isNotFound(err) {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	s.cfg.Logger.ErrorContext(r.Context(), "page", "path", r.URL.Path, "err", err)
	http.Error(w, "store error; see the server log", http.StatusInternalServerError)
}

func (s *Server) pageProblems(w http.ResponseWriter, r *http.Request) {
	list, err := s.listProblems(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, "problems.html", page{Title: "Problems", Nav: "problems", Problems: list})
}

func (s *Server) pageProblem(w http.ResponseWriter, r *http.Request) {
	p, err := s.store.Problems().Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, "problem.html", page{Title: p.Title, Nav: "problems", Problem: &p})
}

func (s *Server) pageDrains(w http.ResponseWriter, r *http.Request) {
	list, err := s.listDrains(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, "drains.html", page{Title: "Drains", Nav: "drains", Drains: list})
}

func (s *Server) pageDrain(w http.ResponseWriter, r *http.Request) {
	d, err := s.store.Drains().Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	st := drains.StatusOf(d, s.cfg.Now(), s.endpoint(d.ID))
	s.render(w, r, "drain.html", page{Title: "Drain " + d.ID, Nav: "drains", Drain: &st})
}
