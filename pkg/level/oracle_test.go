package level

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/aient/firehose-drain/internal/jsonscan"
	"github.com/aient/firehose-drain/internal/testkit/jsonref"
	"github.com/aient/firehose-drain/pkg/event"
)

// refOfJSON is the reference for ofJSON: the same rules (section 7 of docs/design.md) read
// with encoding/json, members in order, from a message that is one valid JSON object.
func refOfJSON(m []byte) (event.Level, bool) {
	ms, err := jsonref.Members(m)
	if err != nil {
		return event.Unknown, false
	}
	var platform, failed, errorType bool
	for _, mem := range ms {
		k, kind := []byte(mem.Name), jsonref.Kind(mem.Value)
		switch {
		case isLevelKey(k):
			if l, ok := refLevelValue(mem.Value); ok {
				return l, true
			}
		case asciiFold(k, "log") && kind == '{':
			nested, _ := jsonref.Members(mem.Value)
			for _, n := range nested {
				if asciiFold([]byte(n.Name), "level") {
					if l, ok := refLevelValue(n.Value); ok {
						return l, true
					}
				}
			}
		case asciiFold(k, "type") && kind == '"':
			var s string
			if json.Unmarshal(mem.Value, &s) == nil && strings.HasPrefix(s, "platform.") {
				platform = true
			}
		case asciiFold(k, "record") && kind == '{':
			failed = false
			rec, _ := jsonref.Members(mem.Value)
			for _, r := range rec {
				if r.Name == "status" && jsonref.Kind(r.Value) == '"' {
					var s string
					_ = json.Unmarshal(r.Value, &s) // not a JSON string: s stays empty, not a failure
					failed = asciiFold([]byte(s), "timeout") || asciiFold([]byte(s), "error") || asciiFold([]byte(s), "failure")
					break
				}
			}
		case mem.Name == "errorType":
			errorType = true
		}
	}
	switch {
	case platform && failed:
		return event.Error, true
	case platform:
		return event.Info, true
	case errorType:
		return event.Error, true
	}
	return event.Unknown, false
}

func refLevelValue(v json.RawMessage) (event.Level, bool) {
	switch jsonref.Kind(v) {
	case '"':
		var s string
		if json.Unmarshal(v, &s) != nil {
			return event.Unknown, false
		}
		return valueLevel(bytes.TrimSpace([]byte(s)))
	case '0':
		t := string(v)
		if len(t) > 4 || strings.Trim(t, "0123456789") != "" {
			return event.Unknown, false
		}
		n, _ := strconv.Atoi(t)
		return numberLevel(n)
	}
	return event.Unknown, false
}

// asciiFold is strings.EqualFold for ASCII only (strings.EqualFold also folds 'ſ' to 's').
func asciiFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

var jsonSeeds = []string{
	`{"level":"ERROR","message":"x","error":"SmokeTestError","stack":"SmokeTestError: test\n at smoke (index.js:1:1)"}`,
	`{"log":{"level":50}}`, `{"type":"platform.report","record":{"status":"timeout"}}`, `{"LEVEL" : "fatal"}`,
	`{"lev\u0065l":"\u0045RROR"}`, `{"level":"nope","severity":"warn"}`, `{"level":50.5,"lvl":"info"}`, `{"errorType":"E","x":[1,{"y":null}]}`,
	`{"record":{"status":"ok"},"record":{"status":"error"},"type":"platform.x"}`, `{"level":"error"} trailing`, `{"level":-50}`,
	`{"a":"` + strings.Repeat(`\"`, 20) + `","@l":"Error"}`, `{"log":{"level":"x","LEVEL":"fatal"}}`, `{"levelname":" CRITICAL "}`,
}

// FuzzOfJSON compares ofJSON with the reference on JSON objects.
func FuzzOfJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, m []byte) {
		got, gok := ofJSON(append([]byte(nil), m...))
		if len(m) == 0 || m[0] != '{' || !json.Valid(m) || jsonref.Depth(m) > jsonscan.MaxDepth-2 {
			return
		}
		if want, wok := refOfJSON(m); got != want || gok != wok {
			t.Fatalf("ofJSON(%q) = %q %v, reference %q %v", m, got, gok, want, wok)
		}
	})
}

func TestOfJSONAgreesWithTheReference(t *testing.T) {
	for _, s := range jsonSeeds {
		m := []byte(s)
		if !json.Valid(m) {
			continue
		}
		got, gok := ofJSON(m)
		if want, wok := refOfJSON(m); got != want || gok != wok {
			t.Errorf("ofJSON(%s) = %q %v, reference %q %v", s, got, gok, want, wok)
		}
	}
	if l, ok := ofJSON([]byte(`{"lev\u0065l":"\u0045RROR"}`)); !ok || l != event.Error {
		t.Errorf("escaped name and value: %q %v, want error", l, ok)
	}
}
