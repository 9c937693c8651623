package problems_test

import (
	"testing"

	"github.com/aient/firehose-drain/pkg/problems"
)

func TestFrameAsAPersonReadsIt(t *testing.T) {
	for _, c := range []struct {
		f    problems.Frame
		want string
	}{
		{problems.Frame{Function: "charge", File: "pay.js", Line: 10}, "charge (pay.js:10)"},
		{problems.Frame{Function: "com.acme.Pay.charge", Module: "com.acme.Pay"}, "com.acme.Pay.charge (com.acme.Pay)"},
		{problems.Frame{Function: "main.main"}, "main.main"},
		{problems.Frame{File: "index.js", Line: 3}, "index.js:3"},
	} {
		if got := c.f.String(); got != c.want {
			t.Errorf("%+v renders %q, want %q", c.f, got, c.want)
		}
	}
}

func TestProblemIDsAreScopedByOrgAndEnv(t *testing.T) {
	id := problems.ID("acme", "prod", "v1:abc")
	if id != problems.ID("acme", "prod", "v1:abc") {
		t.Fatal("the id of a fingerprint is not stable")
	}
	for _, other := range []string{problems.ID("acme", "staging", "v1:abc"), problems.ID("other", "prod", "v1:abc"), problems.ID("acme", "prod", "v1:abd"), problems.ID("acm", "eprod", "v1:abc")} {
		if other == id {
			t.Fatalf("two scopes or fingerprints share the id %s", id)
		}
	}
}
