package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/aient/firehose-drain/pkg/problems"
)

// Actor changes a problem's state: the problem store's Act (both backends have it).
type Actor interface {
	Act(ctx context.Context, id string, a problems.Action) (problems.Problem, error)
}

// actionBody is the JSON body of POST /api/problems/{id}/ignore: {"for":"24h"},
// {"untilCount":100} or {} (forever). resolve and reopen take {} or nothing.
type actionBody struct {
	For        string `json:"for"`
	UntilCount int64  `json:"untilCount"`
}

// apiAct answers POST /api/problems/{id}/resolve|ignore|reopen with the problem after
// the action. The request must say Content-Type: application/json (a cross-site form or
// a no-cors fetch cannot), so another site open in the browser cannot act on the
// console's behalf.
func (s *Server) apiAct(w http.ResponseWriter, r *http.Request) {
	to, ok := map[string]problems.State{"resolve": problems.Resolved, "ignore": problems.Ignored, "reopen": problems.Unresolved}[r.PathValue("action")]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown action " + r.PathValue("action") + ": resolve, ignore or reopen"})
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "send Content-Type: application/json"})
		return
	}
	a := problems.Action{To: to}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 4<<10))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "read the body: " + err.Error()})
		return
	}
	if len(raw) > 0 {
		var b actionBody
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&b); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("body: %v (want {\"for\":\"24h\"}, {\"untilCount\":100} or {})", err)})
			return
		}
		if b.For != "" {
			if a.For, err = time.ParseDuration(b.For); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("for %q: a duration such as 24h", b.For)})
				return
			}
		}
		a.UntilCount = b.UntilCount
	}
	p, err := s.b.Actions.Act(r.Context(), r.PathValue("id"), a)
	if errors.Is(err, problems.ErrBadAction) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}
