package console

import (
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/problems"
)

//go:embed templates/*.html
var templateFS embed.FS

// PageSize is how many problems a list page shows.
const PageSize = 50

// advice is the product's troubleshooting table, keyed by the alert a drain shows.
var advice = map[string]string{
	drains.AlertAuth:    "The Firehose access key does not match. Rotate the drain (aient drains rotate ID) and paste the new key into the Firehose HTTP endpoint destination.",
	drains.AlertPayload: "Firehose is not sending the standard CloudWatch Logs payload, or records exceed limits. Remove transformation processors, check the request content encoding, and lower the Firehose buffer size (at most 3 MiB).",
}

// ago renders how long before now t was.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "in the future"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

// plural renders "1 event", "2 events".
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

func (s *Server) parseTemplates() *template.Template {
	funcs := template.FuncMap{
		"ago":     func(t time.Time) string { return ago(s.cfg.Now(), t) },
		"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"millis":  func(ms int64) time.Time { return time.UnixMilli(ms).UTC() },
		"when":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
		"whenms":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") },
		"cloudwatch": func(sm problems.Sample) string {
			return cloudWatchURL(sm.Region, sm.LogGroup, sm.LogStream, sm.Timestamp)
		},
		"advice":  func(a string) string { return advice[a] },
		"plural":  plural,
		"spark":   sparkline,
		"bars":    bars,
		"stack":   foldFrames,
		"windows": func() []string { return []string{"1h", "24h", "7d", "30d"} },
		"states":  func() []string { return []string{"unresolved", "resolved", "ignored"} },
		"loglevels": func() []string {
			return []string{"fatal", "error", "warn", "info", "debug", "unknown"}
		},
		// logsAround is the logs page of a stream up to a moment (an occurrence's).
		"logsAround": func(group, stream string, at time.Time) string {
			return "/logs?" + url.Values{"logGroup": {group}, "stream": {stream}, "until": {at.UTC().Add(time.Second).Format(time.RFC3339)}}.Encode()
		},
		"sorts": func() [][2]string {
			return [][2]string{
				{problems.SortLastSeen, "last seen"},
				{problems.SortFirstSeen, "first seen"},
				{problems.SortCount, "count"},
				{problems.SortRecent, "count in 24 h"},
			}
		},
		"affected": func(a problems.Affected) []affectedList {
			return []affectedList{{"accounts", "Accounts", a.Accounts}, {"regions", "Regions", a.Regions}, {"logGroups", "Log groups", a.LogGroups}}
		},
	}
	return template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html"))
}

// ValidRegion reports whether r has the syntax of an AWS region: only such a name is put
// into a console link's host.
// It is event.ValidRegion, the one check the decoders also apply.
func ValidRegion(r string) bool { return event.ValidRegion(r) }

// cloudWatchURL links an event to its log stream in the CloudWatch console, starting at
// the event's time. Empty when the region is unknown or not a region name.
func cloudWatchURL(region, group, stream string, ms int64) string {
	if !ValidRegion(region) || group == "" {
		return ""
	}
	enc := func(v string) string { // the console's own escaping of path parts: % becomes $25
		return strings.ReplaceAll(url.QueryEscape(url.QueryEscape(v)), "%", "$")
	}
	return fmt.Sprintf("https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#logsV2:log-groups/log-group/%s/log-events/%s$3Fstart$3D%d",
		region, region, enc(group), enc(stream), ms)
}

// sparkline draws counts as an inline SVG polyline, 96x20.
func sparkline(counts []int64) template.HTML {
	var peak int64 = 1
	for _, n := range counts {
		peak = max(peak, n)
	}
	var sb strings.Builder
	sb.WriteString(`<svg class="spark" viewBox="0 0 96 20" width="96" height="20" aria-label="last 24 hours"><polyline fill="none" stroke="currentColor" stroke-width="1.5" points="`)
	for i, n := range counts {
		x := float64(i) * 96 / float64(max(len(counts)-1, 1))
		y := 19 - float64(n)*18/float64(peak)
		fmt.Fprintf(&sb, "%.1f,%.1f ", x, y)
	}
	sb.WriteString(`"/></svg>`)
	return template.HTML(sb.String()) //nolint:gosec // numbers only
}

// bar is one bar of a trend chart.
type bar struct {
	X, Y, W, H float64
	Label      string
	Count      int64
}

// chart is a trend drawn as bars in a 480x100 box.
type chart struct {
	Bars  []bar
	Total int64
	Peak  int64
}

func bars(buckets []problems.Bucket, layout string) chart {
	c := chart{Peak: 1}
	for _, b := range buckets {
		c.Peak = max(c.Peak, b.Count)
		c.Total += b.Count
	}
	w := 480 / float64(max(len(buckets), 1))
	for i, b := range buckets {
		h := float64(b.Count) * 96 / float64(c.Peak)
		c.Bars = append(c.Bars, bar{X: float64(i) * w, Y: 100 - h, W: w - 1, H: h, Label: b.Start.UTC().Format(layout), Count: b.Count})
	}
	return c
}

// affectedList is one table of a problem's affected section.
type affectedList struct {
	Kind, Name string
	List       []problems.Tally
}

// frameGroup is a run of in-app frames, or a run of library frames shown folded.
type frameGroup struct {
	InApp  bool
	Frames []problems.Frame
}

// foldFrames groups consecutive frames by in-app-ness.
func foldFrames(frames []problems.Frame) []frameGroup {
	var out []frameGroup
	for _, f := range frames {
		if n := len(out); n > 0 && out[n-1].InApp == f.InApp {
			out[n-1].Frames = append(out[n-1].Frames, f)
			continue
		}
		out = append(out, frameGroup{InApp: f.InApp, Frames: []problems.Frame{f}})
	}
	return out
}

// filters is the list page's form: the query as the URL holds it.
type filters struct {
	Q, Org, Env, State, Level, LogGroup, Account, Region, FirstSeen, LastSeen, Sort string
}

type page struct {
	Title    string
	Nav      string
	Status   int
	Message  string
	Filters  filters
	Problems []problems.Summary
	Next     string // URL of the next page
	First    string // URL of the first page, when not on it
	Detail   *problems.Detail
	Drains   []drains.Status
	Drain    *DrainDetail
	// Logs is the logs page; HasLogs says whether the console has one (the nav, links).
	Logs    *logsView
	HasLogs bool
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, status int, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	p.HasLogs = s.b.Logs != nil
	if err := s.tmpl.ExecuteTemplate(w, name, p); err != nil {
		s.cfg.Logger.ErrorContext(r.Context(), "render page", "page", name, "err", err)
	}
}

// pageError answers a page request that failed with a styled page: 404 for what does not
// exist, 400 for a bad query, else 500 with the cause in the server log.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := s.classify(r, err)
	s.render(w, r, "error.html", status, page{Title: http.StatusText(status), Status: status, Message: msg})
}

func (s *Server) pageNotFound(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such route: " + r.URL.Path})
		return
	}
	s.render(w, r, "error.html", http.StatusNotFound, page{Title: "Not found", Status: http.StatusNotFound, Message: "There is no page at " + r.URL.Path + "."})
}

// refuse answers a request the guard turns away.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSON(w, status, map[string]string{"error": msg})
		return
	}
	s.render(w, r, "error.html", status, page{Title: http.StatusText(status), Status: status, Message: msg})
}

func (s *Server) pageProblems(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	if v.Get("limit") == "" {
		v.Set("limit", strconv.Itoa(PageSize))
	}
	q, err := problems.ParseQuery(v, s.cfg.Now())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	res, err := s.b.Problems.Query(r.Context(), q)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	p := page{Title: "Problems", Nav: "problems", Problems: res.Problems, Filters: filters{
		Q: v.Get("q"), Org: q.Org, Env: q.Env, State: q.State, Level: q.Level, LogGroup: q.LogGroup, Account: q.Account,
		Region: q.Region, FirstSeen: v.Get("firstSeen"), LastSeen: v.Get("lastSeen"), Sort: q.Sort,
	}}
	if res.Next != "" {
		nv := r.URL.Query()
		nv.Set("cursor", res.Next)
		p.Next = "/?" + nv.Encode()
	}
	if q.Cursor != "" {
		fv := r.URL.Query()
		fv.Del("cursor")
		p.First = "/?" + fv.Encode()
	}
	s.render(w, r, "problems.html", http.StatusOK, p)
}

func (s *Server) pageProblem(w http.ResponseWriter, r *http.Request) {
	d, err := s.detail(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, "problem.html", http.StatusOK, page{Title: d.Title, Nav: "problems", Detail: &d})
}

func (s *Server) pageDrains(w http.ResponseWriter, r *http.Request) {
	list, err := s.listDrains(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, "drains.html", http.StatusOK, page{Title: "Drains", Nav: "drains", Drains: list})
}

func (s *Server) pageDrain(w http.ResponseWriter, r *http.Request) {
	d, err := s.drainDetail(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, "drain.html", http.StatusOK, page{Title: "Drain " + d.ID, Nav: "drains", Drain: &d})
}
