package event

import (
	"regexp"
	"testing"
)

// regionSyntax is the reference for ValidRegion.
var regionSyntax = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)

func TestValidRegion(t *testing.T) {
	for _, r := range []string{"us-east-1", "us-gov-west-1", "cn-northwest-1", "eu-isoe-west-1", "ap-southeast-5", "il-central-1", "us-iso-east-1"} {
		if !ValidRegion(r) {
			t.Errorf("%q refused", r)
		}
	}
	for _, r := range []string{"", "evil.example/phish#", "us-east-1.evil.example", "US-EAST-1", "us-east", "useast-1", "u-east-1", "us-east-123", "us--east-1", "-us-east-1", "us-east-1 ", "a-b-1"} {
		if ValidRegion(r) {
			t.Errorf("%q accepted", r)
		}
	}
}

func FuzzValidRegion(f *testing.F) {
	for _, s := range []string{"us-east-1", "evil.example/phish#", "us-gov-west-12", "ab-c-1", "ab-c-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ValidRegion(s), regionSyntax.MatchString(s) && len(s) <= 32; got != want {
			t.Fatalf("ValidRegion(%q) = %v, the syntax says %v", s, got, want)
		}
	})
}

// TestIdentities: a numeric id hashes apart from the same digits as a string, the
// identity of a string id is what it was before ids could be numbers, and a carried
// identity wins over recomputing.
func TestIdentities(t *testing.T) {
	s := Event{Drain: "d", Account: "a", LogGroup: "g", LogStream: "s", ID: "5"}
	n := s
	n.IDIsNumber = true
	if s.Identity() == n.Identity() {
		t.Error("the id 5 and the id \"5\" share an identity")
	}
	if s.Identity() != Identity("d", "a", "g", "s", "5") {
		t.Error("a string id's identity changed")
	}
	c := s
	c.IdentityKey = "carried"
	if c.Identity() != "carried" {
		t.Error("the carried identity is not used")
	}
}
