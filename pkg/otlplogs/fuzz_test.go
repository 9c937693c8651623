package otlplogs

import (
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// FuzzPartialSuccess: the hand-read protobuf answer agrees with the Collector's own
// ExportLogsServiceResponse type (plogotlp) wherever that type can read the bytes.
func FuzzPartialSuccess(f *testing.F) {
	r := plogotlp.NewExportResponse()
	r.PartialSuccess().SetRejectedLogRecords(7)
	r.PartialSuccess().SetErrorMessage("over the limit")
	ok, _ := r.MarshalProto()
	f.Add(ok)
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x07, 0x08, 0x05, 0x12, 0x03, 'b', 'a', 'd', 0x0a, 0x02, 0x08, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		n, msg, err := partialSuccess(b, "application/x-protobuf")
		ref := plogotlp.NewExportResponse()
		if rerr := ref.UnmarshalProto(b); rerr != nil {
			return
		}
		if err != nil {
			if wellFormed(b) {
				t.Fatalf("official type reads well-formed %x, we fail: %v", b, err)
			}
			return // the Collector's reader skips some malformed unknown fields
		}
		if n != ref.PartialSuccess().RejectedLogRecords() || msg != ref.PartialSuccess().ErrorMessage() {
			t.Fatalf("%x: got %d %q, official %d %q", b, n, msg, ref.PartialSuccess().RejectedLogRecords(), ref.PartialSuccess().ErrorMessage())
		}
	})
}

// wellFormed reports whether b is a sequence of complete protobuf fields.
func wellFormed(b []byte) bool {
	for len(b) > 0 {
		_, _, n := protowire.ConsumeField(b)
		if n < 0 {
			return false
		}
		b = b[n:]
	}
	return true
}
