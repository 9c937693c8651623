package event

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// TestAppendIdentityInputHashesToTheIdentity: what the Visitors hash is what the dedup
// hashes, for a string id and for a numeric one, and the two differ.
func TestAppendIdentityInputHashesToTheIdentity(t *testing.T) {
	for _, e := range []Event{
		{Drain: "drn_1", Account: "123456789012", LogGroup: "/aws/lambda/f", LogStream: "2026/11/20/[$LATEST]ab", ID: "5"},
		{Drain: "drn_1", Account: "123456789012", LogGroup: "/aws/lambda/f", LogStream: "2026/11/20/[$LATEST]ab", ID: "5", IDIsNumber: true},
		{Drain: "", Account: "", LogGroup: "", LogStream: "", ID: ""},
		{Drain: "d", Account: "a", LogGroup: "g", LogStream: "s", ID: "-1.5e3", IDIsNumber: true},
	} {
		sum := sha256.Sum256(AppendIdentityInput([]byte("scratch"), e.Drain, e.Account, e.LogGroup, e.LogStream, []byte(e.ID), e.IDIsNumber)[len("scratch"):])
		if got, want := hex.EncodeToString(sum[:]), e.ComputeIdentity(); got != want {
			t.Errorf("%+v: the input hashes to %s, the identity is %s", e, got, want)
		}
	}
	a := AppendIdentityInput(nil, "d", "a", "g", "s", []byte("5"), false)
	b := AppendIdentityInput(nil, "d", "a", "g", "s", []byte("5"), true)
	if string(a) == string(b) {
		t.Error("the id 5 and the id \"5\" hash the same input")
	}
}
