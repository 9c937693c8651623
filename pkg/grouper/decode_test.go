package grouper

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/event"
)

// sampleEvent is an event as the ingest sends it, with every field the queue carries.
func sampleEvent(i int) event.Event {
	return event.Event{
		Drain: "drn_1", Org: "acme", Env: "prod", Account: "123456789012", Region: "eu-west-1",
		LogGroup: "/aws/lambda/checkout", LogStream: "2026/11/21/[$LATEST]0123456789abcdef",
		ID: fmt.Sprintf("%056d", i), IDIsNumber: i%2 == 1, Timestamp: 1_763_700_000_000 + int64(i), Level: event.Error,
		Message:           "TypeError: Cannot read properties of undefined (reading 'id')\n    at charge (/var/task/pay.js:42:17) \"quoted\" \u00e9\u4e16 \U0001F600 <html>&",
		FirehoseRequestID: "req-1", Attributes: map[string]string{"service": "pay", "k\u00e9": "v\n"},
		Truncated: i%3 == 0, IdentityKey: "abc123",
		Breadcrumbs: []event.Breadcrumb{
			{Time: time.UnixMilli(1_763_699_999_000).UTC(), Level: event.Info, Message: "START RequestId: 1"},
			{Time: time.Date(2026, 11, 21, 10, 0, 0, 123456789, time.FixedZone("x", 3600)), Message: "charging"},
		},
	}
}

// decodeBodies are bodies of the shapes the ingest writes and of many it does not.
func decodeBodies(t testing.TB) []string {
	one, err := json.Marshal(sampleEvent(1))
	if err != nil {
		t.Fatal(err)
	}
	packed, err := json.Marshal(Packed{Events: []event.Event{sampleEvent(2), sampleEvent(3), {Drain: "d", Org: "o", ID: "x", Message: "m"}}})
	if err != nil {
		t.Fatal(err)
	}
	bare, err := json.Marshal(event.Event{Drain: "d", Org: "o", ID: "1", Message: "boom"})
	if err != nil {
		t.Fatal(err)
	}
	return []string{
		string(one), string(packed), string(bare),
		` {"drain":"d","org":"o","id":"1","message":"x"} `,
		`{"drain":"d","org":"o","id":"1","message":"x","drain":"e"}`,
		`{"Drain":"d","org":"o","id":"1","message":"x"}`,
		`{"drain":"d","org":"o","id":"1","message":null}`,
		`{"drain":"d","org":"o","id":"1"}`,
		`{"drain":"d","org":"o","id":"1","message":""}`,
		`{"drain":"d","org":"o","id":"1","message":"x","timestamp":1.5}`,
		`{"drain":"d","org":"o","id":"1","message":"x","timestamp":1e3}`,
		`{"drain":"d","org":"o","id":"1","message":"x","timestamp":-0}`,
		`{"drain":"d","org":"o","id":"1","message":"x","timestamp":99999999999999999999}`,
		`{"drain":"d","org":"o","id":"1","message":"x","timestamp":"5"}`,
		`{"drain":"d","org":"o","id":"1","message":"\ud800\u00e9\\\"\/\b\f\n\r\t"}`,
		"{\"drain\":\"d\",\"org\":\"o\",\"id\":\"1\",\"message\":\"\xff\xfe bad utf-8\"}",
		`{"drain":"d","org":"o","id":"1","message":"x","attributes":{}}`,
		`{"drain":"d","org":"o","id":"1","message":"x","attributes":{"a":"1","a":"2"}}`,
		`{"drain":"d","org":"o","id":"1","message":"x","attributes":{"a":null}}`,
		`{"drain":"d","org":"o","id":"1","message":"x","attributes":null}`,
		`{"drain":"d","org":"o","id":"1","message":"x","breadcrumbs":[]}`,
		`{"drain":"d","org":"o","id":"1","message":"x","breadcrumbs":[{}]}`,
		`{"drain":"d","org":"o","id":"1","message":"x","breadcrumbs":[{"time":"2026-11-21T10:00:00Z","time":"2026-11-21T11:00:00Z"}]}`,
		`{"drain":"d","org":"o","id":"1","message":"x","breadcrumbs":[{"time":"not a time"}]}`,
		`{"drain":"d","org":"o","id":"1","message":"x","breadcrumbs":[{"time":"2026-11-21T10:00:00+01:00","level":"warn","message":"m","extra":1}]}`,
		`{"drain":"d","org":"o","id":"1","message":"x","idIsNumber":true,"truncated":false}`,
		`{"drain":"d","org":"o","id":"1","message":"x","idIsNumber":1}`,
		`{"drain":"d","org":"o","id":"1","message":"x","seq":4}`,
		`{"drain":"d","org":"o","id":"1","message":"x"}garbage`,
		`{"drain":"d","org":"o","id":"1","message":"x"`,
		`{"events":[]}`, `{"events":null}`, `{"events":[{"drain":"d","org":"o","id":"1","message":"x"}],"drain":"d"}`,
		`{"drain":"d","events":[{"drain":"d","org":"o","id":"1","message":"x"}]}`,
		`{"events":[{"drain":"d","org":"o","id":"1","message":"x"}, {"org":"o"}, 5]}`,
		`{"events":[{"drain":"d","org":"o","id":"1","message":"x"}],"events":[{"drain":"e","org":"o","id":"1","message":"x"}]}`,
		`{"\u0064rain":"d","org":"o","id":"1","message":"x"}`,
		`[]`, `"x"`, `null`, ``, `{}`, `{"level":"error","message":"m","drain":"d","org":"o","id":"i","env":"","account":"","region":"","logGroup":"","logStream":""}`,
	}
}

// TestDecodeFast: the fast path reads the bodies the ingest writes (one event, packed
// events, every field set), and on every body it reads gives what encoding/json gives.
func TestDecodeFast(t *testing.T) {
	bodies := decodeBodies(t)
	for _, b := range bodies[:3] {
		if _, ok := decodeFast([]byte(b)); !ok {
			t.Errorf("the fast path does not read an ingest body: %s", b)
		}
	}
	for _, b := range bodies {
		checkDecode(t, []byte(b))
	}
}

// checkDecode holds decodeFast to encoding/json (decodeJSON), and Decode to the
// reference's result.
func checkDecode(t *testing.T, body []byte) {
	t.Helper()
	fast, ok := decodeFast(body)
	ref, refErr := decodeJSON(body)
	if ok {
		if refErr != nil {
			t.Fatalf("%q: the fast path read it, encoding/json says %v", body, refErr)
		}
		if !reflect.DeepEqual(fast, ref) {
			t.Fatalf("%q: the fast path read\n  %+v\nencoding/json\n  %+v", body, fast, ref)
		}
	}
	got, err := Decode(body)
	var want []event.Event
	wantErr := refErr
	if refErr == nil {
		want, wantErr = checked(ref)
	}
	if fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: Decode = %+v, %v; want %+v, %v", body, got, err, want, wantErr)
	}
}

// FuzzDecode holds the fast path to encoding/json, the reference decoder: whatever body
// it reads, it reads as encoding/json does.
func FuzzDecode(f *testing.F) {
	for _, b := range decodeBodies(f) {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkDecode(t, body) })
}

// TestDecodeFastKnowsEveryField: every JSON member of event.Event is one the fast path
// reads, so that a field added to the event does not send every body to encoding/json.
func TestDecodeFastKnowsEveryField(t *testing.T) {
	ty := reflect.TypeFor[event.Event]()
	for i := range ty.NumField() {
		name, _, _ := strings.Cut(ty.Field(i).Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = ty.Field(i).Name
		}
		if eventMembers[name] == 0 {
			t.Errorf("event.Event's member %q is not one decodeFast reads (eventMembers, flatEvent)", name)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	body, err := json.Marshal(sampleEvent(1))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Decode(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			w, err := decodeJSON(body)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := checked(w); err != nil {
				b.Fatal(err)
			}
		}
	})
}
