package grouping

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// jsonSeeds are the JSON messages of the corpus and the conformance
// examples, the raw members inside them, and inputs where encoding/json's
// meaning is easy to miss: folded keys (ſ is S, the Kelvin sign is K),
// escaped keys, duplicates, null and values of the wrong type, invalid
// UTF-8 and lone surrogates, trailing text, numbers that are no int, and
// nesting deeper than jsonscan.MaxDepth.
func jsonSeeds(tb testing.TB) []string {
	var seeds []string
	for _, path := range []string{examplesPath, filepath.Join("testdata", "corpus.jsonl")} {
		for _, e := range loadEntries(tb, path) {
			m := trimSpace(e.Message)
			if !strings.HasPrefix(m, "{") {
				continue
			}
			seeds = append(seeds, m)
			var o errObject
			if _, ok := decodeObjectStd(m, &o); ok {
				v := reflect.ValueOf(o)
				for i := range v.NumField() {
					if r, ok := v.Field(i).Interface().(rawJSON); ok && r != "" {
						seeds = append(seeds, string(r))
					}
				}
			}
		}
	}
	deep := strings.Repeat(`{"cause":`, 200) + `{"errorType":"Deep"}` + strings.Repeat("}", 200)
	seeds = append(seeds,
		`{"ERRORTYPE":"A","errormessage":"b"}`, `{"ſtack":"x","Kind":"k","\u212Aind":"K"}`, `{"exceptıon":"dotless i"}`,
		`{"\u0065rrorType":"escaped key","error\u005ftype":"u"}`, `{"errorType":"first","errorType":"second"}`,
		`{"errorType":"kept","errorType":5}`, `{"errorType":null,"message":null,"stack":null}`,
		`{"message":{"message":{}},"msg":[1,2],"stack":true}`, `{"errorMessage":"\xff\xfe bad \xe2\x82","stack":"\ud800\udc00 \udc00 \ud800x"}`,
		`{"errorMessage":"a\u0000b\"c\\d\/e\b\f\n\r\t"}`, `{"errorType":"X"} trailing`, `{"a":1}}`, `{"errorType":"A"}{"errorType":"B"}`,
		`  {"errorType":"lead"}  `, `123abc`, `"str"`, `[1,{"errorType":"x"}]`, `null`, ``, ` `, `{`, `{"a":}`, `{"a" 1}`, `{"a":1,}`,
		`{"type":"platform.report","record":{"requestId":"r","status":"error","metrics":{"memorySizeMB":128,"maxMemoryUsedMB":128.5}}}`,
		`{"type":"platform.initReport","record":{"status":"timeout","phase":"init"},"record":{"errorType":"Runtime.X"}}`,
		`{"record":{"metrics":{"memorySizeMB":-0,"maxMemoryUsedMB":99999999999999999999}}}`, `{"record":"nope","type":7}`,
		`{"line":12,"lineNumber":"13","path":"/a.go","label":"f","class":"C","method":"m"}`, `{"error":"E","cause":"{\"errorType\":\"X\"}"}`,
		`{"stack":[{"class":"a.B","method":"c","line":1},"x",null,[]]}`, `{"stack":["a","b\nc"]}`, `{"stack":[]}`,
		deep, strings.Repeat("[", 300)+strings.Repeat("]", 300), `{"stack":`+strings.Repeat("[", 200)+strings.Repeat("]", 200)+`}`,
		`{"errorType":"a","e":1e5,"code":-1.5e-3,"log":"{\"level\":\"error\"}"}`, "{\"errorType\":\"tab\there\"}",
	)
	return seeds
}

// compareWhole checks unmarshalLenient (jsonscan) against encoding/json
// decoding the same text into the same struct.
func compareWhole[T decoded](t *testing.T, s string) {
	t.Helper()
	var fast, std T
	okFast := unmarshalLenient(s, &fast)
	okStd := unmarshalStd(s, &std)
	if okFast != okStd {
		t.Fatalf("%T of %q: fast path accepts %v, encoding/json %v", fast, s, okFast, okStd)
	}
	if okFast && !reflect.DeepEqual(fast, std) {
		t.Fatalf("%T of %q:\nfast path     %+v\nencoding/json %+v", fast, s, fast, std)
	}
}

// FuzzJSONFastPath: the fast decoder reads what encoding/json reads, into
// the same typed structs: same fields, same accept/reject, same end of the
// value; raw strings and arrays decode as encoding/json decodes them.
func FuzzJSONFastPath(f *testing.F) {
	for _, s := range jsonSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var fast, std errObject
		nFast, okFast := decodeObject(s, &fast)
		nStd, okStd := decodeObjectStd(s, &std)
		if okFast != okStd {
			t.Fatalf("decodeObject(%q): fast path accepts %v, encoding/json %v", s, okFast, okStd)
		}
		if okFast && (nFast != nStd || fast != std) {
			t.Fatalf("decodeObject(%q):\nfast path     %d %+v\nencoding/json %d %+v", s, nFast, fast, nStd, std)
		}
		compareWhole[errObject](t, s)
		compareWhole[frameObject](t, s)
		compareWhole[sfnDetails](t, s)
		compareWhole[platformRecord](t, s)
		if !okStd {
			return
		}
		v := reflect.ValueOf(std)
		for i := range v.NumField() {
			raw, ok := v.Field(i).Interface().(rawJSON)
			if !ok || raw == "" {
				continue
			}
			var want string
			wantOK := json.Unmarshal([]byte(raw), &want) == nil && rawKind(raw) == '"'
			if got, ok := rawString(raw); ok != wantOK || got != want {
				t.Fatalf("rawString(%q) = %q, %v; encoding/json %q, %v", raw, got, ok, want, wantOK)
			}
			var items []rawJSON
			wantArray := rawKind(raw) == '[' && json.Unmarshal([]byte(raw), &items) == nil
			var got []rawJSON
			isArray := rawArray(raw, func(it rawJSON) bool { got = append(got, it); return true })
			if isArray != wantArray || wantArray && !reflect.DeepEqual(got, items) && len(got)+len(items) > 0 {
				t.Fatalf("rawArray(%q) = %q, %v; encoding/json %q, %v", raw, got, isArray, items, wantArray)
			}
			// The strings rawArrayStrings decodes on the way are rawString's of the items.
			rawArrayStrings(raw, func(it rawJSON, str string, isStr bool) bool {
				if want, wantStr := rawString(it); str != want || isStr != wantStr {
					t.Fatalf("rawArrayStrings(%q): item %q decoded %q, %v; rawString %q, %v", raw, it, str, isStr, want, wantStr)
				}
				return true
			})
		}
	})
}

// TestJSONSchemasMatchEncodingJSON: no two members of a decoded struct fold
// alike, and the seeds exercise the decoder's every kind of field.
func TestJSONSchemasMatchEncodingJSON(t *testing.T) {
	for _, sc := range []*jsonSchema{errObjectSchema, frameObjectSchema, sfnDetailsSchema, platformRecordSchema} {
		if len(sc.byName) == 0 || sc.maxKey == 0 {
			t.Fatalf("empty schema %+v", sc)
		}
	}
	var o errObject
	if _, ok := decodeObject(`{"ſtack":"s","exceptıon":"no"}`, &o); !ok || o.Stack != `"s"` || o.ErrorAnyException != "" {
		t.Fatalf("folding: %+v", o)
	}
	var p platformRecord
	if !unmarshalLenient(`{"record":{"status":"error"},"record":{"metrics":{"memorySizeMB":128}}}`, &p) ||
		p.Record.Status != "error" || p.Record.Metrics.MemorySizeMB != 128 {
		t.Fatalf("a repeated object member merges into the struct: %+v", p)
	}
}
