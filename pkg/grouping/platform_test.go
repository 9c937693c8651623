package grouping

import (
	"strings"
	"testing"
)

// TestInitReports: the platform's report of an init failure the runtime's own line
// describes (what failed to load) is that failure's duplicate and dropped; a report of
// an init no runtime line describes (a timeout, the process exiting) is the problem:
// one per function, type and status, whatever the duration or phase.
func TestInitReports(t *testing.T) {
	const fn = "/aws/lambda/orders"
	dup := []string{
		"INIT_REPORT Init Duration: 250.12 ms\tPhase: init\tStatus: error\tError Type: Runtime.ImportModuleError",
		"INIT_REPORT Init Duration: 1874.41 ms\tPhase: invoke\tStatus: error\tError Type: Runtime.HandlerNotFound",
		`{"time":"2026-11-21T01:02:03.456Z","type":"platform.initReport","record":{"initializationType":"on-demand","phase":"init","status":"error","errorType":"Runtime.UserCodeSyntaxError","metrics":{"durationMs":12.5}}}`,
	}
	for _, m := range dup {
		if r := Analyze(m, fn); !r.Ignored || r.IgnoredBy != ignoredInitReport || r.Platform != PlatformInitError {
			t.Errorf("%q: ignored %v by %q (%s); want dropped as the runtime line's duplicate", m, r.Ignored, r.IgnoredBy, r.Platform)
		}
	}
	// The runtime's own line is the problem.
	line := "[ERROR] Runtime.ImportModuleError: Unable to import module 'app': No module named 'requests'"
	if r := Analyze(line, fn); r.Ignored || r.Platform != PlatformInitError {
		t.Errorf("the runtime's line: %+v", r)
	}
	groups := [][]string{
		{
			"INIT_REPORT Init Duration: 10000.20 ms\tPhase: init\tStatus: timeout",
			"INIT_REPORT Init Duration: 9999.87 ms\tPhase: init\tStatus: timeout",
			"INIT_REPORT Init Duration: 3000.01 ms\tPhase: invoke\tStatus: timeout",
			`{"time":"2026-11-21T01:02:03.456Z","type":"platform.initReport","record":{"initializationType":"on-demand","phase":"init","status":"timeout","metrics":{"durationMs":10000.2}}}`,
		},
		{
			"INIT_REPORT Init Duration: 1234.56 ms\tPhase: init\tStatus: error\tError Type: Runtime.ExitError",
			"INIT_REPORT Init Duration: 87.00 ms\tPhase: invoke\tStatus: error\tError Type: Runtime.ExitError",
			`{"time":"2026-11-21T01:02:03.456Z","type":"platform.initReport","record":{"initializationType":"on-demand","phase":"init","status":"error","errorType":"Runtime.ExitError","metrics":{"durationMs":1234.5}}}`,
		},
		{"INIT_REPORT Init Duration: 3000.00 ms\tPhase: init\tStatus: error\tError Type: Runtime.Unknown"},
	}
	seen := map[string]int{}
	for gi, g := range groups {
		for _, m := range g {
			r := Analyze(m, fn)
			if r.Ignored || r.Platform != PlatformInitError || r.Culprit != "orders" {
				t.Errorf("%q: %+v; want an init-error problem of its own", m, r)
			}
			if prev, ok := seen[r.Fingerprint]; ok && prev != gi {
				t.Errorf("%q: fingerprint of group %d too", m, prev)
			}
			seen[r.Fingerprint] = gi
			if other := Analyze(m, "/aws/lambda/billing"); other.Fingerprint == r.Fingerprint {
				t.Errorf("%q: another function has the same problem", m)
			}
		}
	}
	if len(seen) != len(groups) {
		t.Errorf("%d fingerprints for %d init failures: the duration or phase split one", len(seen), len(groups))
	}
}

func FuzzMentionsPlatform(f *testing.F) {
	for _, s := range []string{
		"", "R", "RRuntime", "xREPORT", "Task timed ou", "TTask timed out after", "Runtim",
		"at Runtime.handler (file:///var/task/index.mjs:1:2)", "RRuntime.OutOfMemory", "Runtime.ExitErro", "Runtime exited",
		"Memory Size: 128 MB\tMax Memory Used: 128 MB", "Runtime.InitErrorx", "Runtime.Unknown",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := strings.Contains(s, "REPORT") || strings.Contains(s, "Task timed out") || strings.Contains(s, "Memory Size: ") ||
			strings.Contains(s, "Runtime exited")
		for _, typ := range platformRuntimeTypes {
			want = want || strings.Contains(s, "Runtime."+typ)
		}
		got := mentionsPlatform(s)
		if got != want {
			t.Fatalf("mentionsPlatform(%q) = %v, want %v", s, got, want)
		}
		// The gate only passes over what the ungated reader finds nothing in.
		if kind, typ, title := platformTextAll(s); !got && (kind != "" || typ != "" || title != "") {
			t.Fatalf("mentionsPlatform(%q) = false, but platformText reads %q %q %q", s, kind, typ, title)
		}
		wantSp := strings.IndexAny(firstLine(s), " \t")
		if wantSp > 8 {
			wantSp = -1
		}
		if got := leadingWordEnd(s); got != wantSp {
			t.Fatalf("leadingWordEnd(%q) = %d, want %d", s, got, wantSp)
		}
		for _, limit := range []int{10, 40, 64} {
			want := strings.IndexByte(firstLine(s), '\t')
			if want >= limit {
				want = -1
			}
			if got := tabInLine(s, limit); got != want {
				t.Fatalf("tabInLine(%q, %d) = %d, want %d", s, limit, got, want)
			}
		}
	})
}
