package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
)

// discardEvent is a Function URL event of a Firehose body of n records of error and
// info events (json.Marshal puts the records before requestId in the body, so the
// request id follows the region that is given back); with escaped, every "/" of the odd
// records' data is sent as "\/", so ParseBody copies those records out of the event.
func discardEvent(n int, escaped bool) []byte {
	var data []string
	for rec := range n {
		evs := make([]fht.LogEvent, 0, 60)
		for k := range 60 {
			ev := fht.InfoEvent(rec*100 + k)
			if k%7 == 3 {
				ev = fht.ErrorEvent(rec*100 + k)
			}
			evs = append(evs, ev)
		}
		data = append(data, fht.Record("/aws/lambda/pay", fmt.Sprintf("2026/11/21/[$LATEST]%04d", rec), evs...))
	}
	body := string(fht.Body("req-discard", data...))
	for i, d := range data {
		if escaped && i%2 == 1 {
			body = strings.Replace(body, d, strings.ReplaceAll(d, "/", `\/`), 1)
		}
	}
	payload, err := json.Marshal(map[string]any{
		"version": "2.0", "rawPath": "/aws/firehose/" + drainID, "body": body,
		"headers":        map[string]string{"x-amz-firehose-request-id": "req-discard", "x-amz-firehose-access-key": key},
		"requestContext": map[string]any{"http": map[string]string{"method": "POST"}},
	})
	if err != nil {
		panic(err)
	}
	return payload
}

// InvokeDiscarding with a discard that zeroes what it is given (as the Lambda loop's
// madvise does to whole pages): the same answer and the same SQS bodies as Invoke, each
// byte given at most once, only bytes of the event, and the request id — after the
// records in the body — intact in the answer.
func TestInvokeDiscardingReadsNothingItGaveBack(t *testing.T) {
	for _, c := range []struct {
		name    string
		payload []byte
	}{
		{"aliasing records", discardEvent(6, false)},
		{"some records escaped", discardEvent(6, true)},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := newReuseRig().invoke(t, c.payload)
			if len(want) == 0 {
				t.Fatal("nothing sent: nothing to compare")
			}
			rig := newReuseRig()
			buf := slices.Clone(c.payload)
			base := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
			zeroed := make([]bool, len(buf))
			var given int
			discard := func(b []byte) {
				off := int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) - base)
				if off < 0 || off+len(b) > len(buf) {
					t.Errorf("discard given %d bytes outside the event", len(b))
					return
				}
				for i := off; i < off+len(b); i++ {
					if zeroed[i] {
						t.Errorf("byte %d given twice", i)
						return
					}
					zeroed[i] = true
				}
				given += len(b)
				clear(b)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := rig.h.InvokeDiscarding(ctx, buf, discard)
			if err != nil {
				t.Fatal(err)
			}
			var resp struct {
				StatusCode int    `json:"statusCode"`
				Body       string `json:"body"`
			}
			if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != 200 || !strings.Contains(resp.Body, `"requestId":"req-discard"`) {
				t.Fatalf("answer %s (%v), want 200 with the request id", out, err)
			}
			if got := rig.sqs.Take(); !slices.Equal(got, want) {
				t.Errorf("sent %d bodies unlike Invoke's %d", len(got), len(want))
			}
			if given < len(c.payload)/2 {
				t.Errorf("%d of the event's %d bytes given back, want most of it (the records)", given, len(c.payload))
			}
		})
	}
}
