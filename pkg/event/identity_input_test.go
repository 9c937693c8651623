package event

import (
	"encoding/hex"
	"testing"
	"unsafe"
)

// TestIdentityHasherHashesTheIdentity: what the Visitors hash is what the dedup hashes,
// for a string id and for a numeric one, and the two differ.
func TestIdentityHasherHashesTheIdentity(t *testing.T) {
	for _, e := range []Event{
		{Drain: "drn_1", Account: "123456789012", LogGroup: "/aws/lambda/f", LogStream: "2026/11/20/[$LATEST]ab", ID: "5"},
		{Drain: "drn_1", Account: "123456789012", LogGroup: "/aws/lambda/f", LogStream: "2026/11/20/[$LATEST]ab", ID: "5", IDIsNumber: true},
		{Drain: "", Account: "", LogGroup: "", LogStream: "", ID: ""},
		{Drain: "d", Account: "a", LogGroup: "g", LogStream: "s", ID: "-1.5e3", IDIsNumber: true},
	} {
		var h IdentityHasher
		sum := h.Sum(e.Drain, e.Account, e.LogGroup, e.LogStream, []byte(e.ID), e.IDIsNumber)
		if got, want := hex.EncodeToString(sum[:]), e.ComputeIdentity(); got != want {
			t.Errorf("%+v: the input hashes to %s, the identity is %s", e, got, want)
		}
	}
	var h IdentityHasher
	if h.Sum("d", "a", "g", "s", []byte("5"), false) == h.Sum("d", "a", "g", "s", []byte("5"), true) {
		t.Error("the id 5 and the id \"5\" hash the same")
	}
}

// TestIdentityHasherIsTheIdentity: the hasher gives ComputeIdentity's hash for events
// whose parts repeat, change one at a time, and alias a buffer that is overwritten between
// calls with other parts of the same lengths (it compares bytes, not string headers).
func TestIdentityHasherIsTheIdentity(t *testing.T) {
	var h IdentityHasher
	check := func(e Event) {
		t.Helper()
		sum := h.Sum(e.Drain, e.Account, e.LogGroup, e.LogStream, []byte(e.ID), e.IDIsNumber)
		if got, want := hex.EncodeToString(sum[:]), e.ComputeIdentity(); got != want {
			t.Errorf("%+v: the hasher gives %s, the identity is %s", e, got, want)
		}
	}
	base := Event{Drain: "drn_1", Account: "123456789012", LogGroup: "/aws/lambda/f", LogStream: "2026/11/20/[$LATEST]ab", ID: "5"}
	for _, e := range []Event{
		base,
		{Drain: base.Drain, Account: base.Account, LogGroup: base.LogGroup, LogStream: base.LogStream, ID: "6"},
		{Drain: base.Drain, Account: base.Account, LogGroup: base.LogGroup, LogStream: base.LogStream, ID: "6", IDIsNumber: true},
		{Drain: base.Drain, Account: "210987654321", LogGroup: base.LogGroup, LogStream: base.LogStream, ID: "6"},
		{Drain: base.Drain, Account: "210987654321", LogGroup: "/aws/lambda/g", LogStream: base.LogStream, ID: "6"},
		{Drain: base.Drain, Account: "210987654321", LogGroup: "/aws/lambda/g", LogStream: "other", ID: "6"},
		{Drain: "drn_2", Account: "210987654321", LogGroup: "/aws/lambda/g", LogStream: "other", ID: "6"},
		// Parts moving across the boundaries of others: the same bytes, split otherwise.
		{Drain: "drn_2", Account: "210987654321/aws", LogGroup: "/lambda/g", LogStream: "other", ID: "6"},
		{Drain: "", Account: "", LogGroup: "", LogStream: "", ID: ""},
		base,
	} {
		check(e)
	}
	buf := []byte("stream-A")
	alias := unsafe.String(unsafe.SliceData(buf), len(buf))
	e := base
	e.LogStream = alias
	check(e)
	copy(buf, "stream-B") // the same string header, other bytes
	e.LogStream = alias
	check(e)
}
