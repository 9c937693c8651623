package grouping

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// defaultRulesSHA256 pins the default rules file to Version: the file decides
// fingerprints, so changing it means bumping Version, then this hash.
const defaultRulesSHA256 = "v2 426ccb725d7dd71930b81c9d4efd2d7d9e96101669bf2305cafd4fa9b107095d"

func TestDefaultRulesArePinnedToVersion(t *testing.T) {
	sum := sha256.Sum256([]byte(DefaultRulesText()))
	if got := "v" + Version + " " + hex.EncodeToString(sum[:]); got != defaultRulesSHA256 {
		t.Fatalf("default rules changed (%s, pinned %s): bump Version, regenerate the goldens (-update) and pin the new hash", got, defaultRulesSHA256)
	}
}

func TestDefaultRulesParseAndPrintBack(t *testing.T) {
	rs, err := ParseRules("default", DefaultRulesText())
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) < 30 {
		t.Fatalf("only %d default rules", len(rs))
	}
	again, err := ParseRules("default", FormatRules(rs))
	if err != nil {
		t.Fatalf("printed rules do not parse: %v", err)
	}
	for i := range rs {
		rs[i].Line, again[i].Line = 0, 0
	}
	if !reflect.DeepEqual(rs, again) {
		t.Fatal("printed default rules parse to other rules")
	}
}

func TestRuleSyntaxErrorsNameLineAndColumn(t *testing.T) {
	tests := []struct {
		src       string
		line, col int
		msg       string
	}{
		{"path:**/vendor/** -ap", 1, 19, "unknown action"},
		{"# ok\n\npth:x -app", 3, 1, `unknown matcher "pth"`},
		{"function:a function:b -app", 1, 12, "given twice"},
		{"module:com.acme.* +app -app", 1, 1, "contradict"},
		{"message:\"*reset* fingerprint=x", 1, 31, "unterminated"},
		{"message:\"a\\qb\" ignore", 1, 11, `only \" and \\`},
		{"+app", 1, 1, "at least one matcher"},
		{"path:a", 1, 7, "needs an action"},
		{"-app path:a", 1, 6, "matcher after an action"},
		{"type:TimeoutError -app", 1, 1, "tests the event"},
		{"code:X ignore fingerprint=y", 1, 1, "contradict"},
		{"function:x -app ignore", 1, 1, "separate rules"},
		{"family:cobol -app", 1, 8, "unknown family"},
		{"path:{a,b -app", 1, 6, "unmatched '{'"},
		{"path:a} -app", 1, 6, "unmatched '}'"},
		{"path:{a,{b}} -app", 1, 6, "nested"},
		{"function:é x -app", 1, 12, "expected key:value"},
		{"function:é -app x", 1, 17, "matcher after an action"},
		{"code:X fingerprint=", 1, 20, "needs a name"},
		{"code:\"a\"b ignore", 1, 9, "expected a space"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			_, err := ParseRules("", tt.src)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v, want a SyntaxError", err)
			}
			if se.Line != tt.line || se.Column != tt.col || !strings.Contains(se.Msg, tt.msg) {
				t.Fatalf("got %v, want line %d, column %d: ...%s...", err, tt.line, tt.col, tt.msg)
			}
			if !strings.Contains(err.Error(), "line ") || !strings.Contains(err.Error(), "column ") {
				t.Fatalf("message %q does not say where", err)
			}
		})
	}
}

func mustRules(t *testing.T, src string) *Rules {
	t.Helper()
	rs, err := ParseRules("org", src)
	if err != nil {
		t.Fatal(err)
	}
	return Default().With(rs)
}

// TestEveryAction: what each action does to a message, through Analyze.
func TestEveryAction(t *testing.T) {
	stripe := "com.acme.PaymentException: declined\n\tat com.acme.sdk.ApiResource.request(ApiResource.java:10)\n\tat com.acme.pay.Charger.charge(Charger.java:20)\n\tat com.acme.pay.Handler.handleRequest(Handler.java:5)"
	inApp := func(r Result, fn string) bool {
		for _, e := range r.Chain {
			for _, f := range e.Frames {
				if f.Function == fn {
					return f.InApp
				}
			}
		}
		t.Fatalf("no frame %s", fn)
		return false
	}
	def := Analyze(stripe, "")
	if !inApp(def, "com.acme.sdk.ApiResource.request") {
		t.Fatal("precondition: com.acme.sdk is in-app by default")
	}

	t.Run("-app takes a library out of the app and out of the fingerprint", func(t *testing.T) {
		r := mustRules(t, "module:com.acme.sdk.** -app").Analyze(stripe, "")
		if inApp(r, "com.acme.sdk.ApiResource.request") {
			t.Fatal("still in-app")
		}
		if r.Fingerprint == def.Fingerprint || r.Culprit != "com.acme.pay.Charger.charge (Charger.java)" {
			t.Fatalf("fingerprint %s culprit %q", r.Fingerprint, r.Culprit)
		}
	})
	t.Run("+app puts a library's frame back, later rules win", func(t *testing.T) {
		r := mustRules(t, "module:com.acme.sdk.** -app\nfunction:com.acme.sdk.ApiResource.request +app").Analyze(stripe, "")
		if !inApp(r, "com.acme.sdk.ApiResource.request") || r.Fingerprint != def.Fingerprint {
			t.Fatalf("in-app %v, fingerprint %s vs %s", inApp(r, "com.acme.sdk.ApiResource.request"), r.Fingerprint, def.Fingerprint)
		}
	})
	t.Run("+app on a default library", func(t *testing.T) {
		msg := "java.lang.IllegalStateException: x\n\tat org.apache.kafka.Consumer.poll(Consumer.java:1)\n\tat com.acme.A.b(A.java:2)"
		r := mustRules(t, "family:java function:org.apache.kafka.** +app").Analyze(msg, "")
		if !inApp(r, "org.apache.kafka.Consumer.poll") || inApp(Analyze(msg, ""), "org.apache.kafka.Consumer.poll") {
			t.Fatal("+app did not override the default -app")
		}
	})
	t.Run("-group keeps a frame in-app but out of the fingerprint", func(t *testing.T) {
		a := "com.acme.PaymentException: declined\n\tat com.acme.pay.Retry.run(Retry.java:3)\n\tat com.acme.pay.Charger.charge(Charger.java:20)"
		b := "com.acme.PaymentException: declined\n\tat com.acme.pay.Charger.charge(Charger.java:20)"
		rules := mustRules(t, "function:com.acme.pay.Retry.* -group")
		ra, rb := rules.Analyze(a, ""), rules.Analyze(b, "")
		if ra.Fingerprint != rb.Fingerprint {
			t.Fatal("the -group frame still splits")
		}
		if !inApp(ra, "com.acme.pay.Retry.run") || ra.Culprit != "com.acme.pay.Retry.run (Retry.java)" {
			t.Fatalf("-group changed in-app: culprit %q", ra.Culprit)
		}
		if Analyze(a, "").Fingerprint == Analyze(b, "").Fingerprint {
			t.Fatal("precondition: without the rule they differ")
		}
		// +group after it restores it.
		back := mustRules(t, "function:com.acme.pay.Retry.* -group\nfunction:com.acme.pay.Retry.run +group")
		if back.Analyze(a, "").Fingerprint == back.Analyze(b, "").Fingerprint {
			t.Fatal("+group did not win over the earlier -group")
		}
	})
	t.Run("fingerprint= on a message glob merges what would split", func(t *testing.T) {
		rules := mustRules(t, `message:"*connection reset by peer*" fingerprint=db-connection-reset`)
		a := rules.Analyze("Error: read ECONNRESET: connection reset by peer\n    at a (/var/task/a.js:1:1)", "")
		b := rules.Analyze(`{"level":"error","msg":"query failed: connection reset by peer"}`, "")
		if a.Fingerprint != b.Fingerprint || a.Components[0].Name != "custom" || !a.Components[0].Contributes {
			t.Fatalf("%s vs %s; components %+v", a.Fingerprint, b.Fingerprint, a.Components)
		}
		for _, c := range a.Components[1:] {
			if c.Contributes {
				t.Fatalf("component %s still contributes next to the custom fingerprint", c.Name)
			}
		}
		if o := rules.Analyze("Error: connection refused\n    at a (/var/task/a.js:1:1)", ""); o.Fingerprint == a.Fingerprint {
			t.Fatal("a near-miss message took the custom fingerprint")
		}
	})
	t.Run("fingerprint= on type and function", func(t *testing.T) {
		rules := mustRules(t, "type:TimeoutError function:fetchPrice fingerprint=price-timeout")
		a := rules.Analyze("TimeoutError: upstream 1\n    at fetchPrice (/var/task/p.js:1:1)\n    at h (/var/task/i.js:2:2)", "")
		b := rules.Analyze("TimeoutError: upstream 2\n    at other (/var/task/o.js:9:9)\n    at fetchPrice (/var/task/p.js:7:1)", "")
		c := rules.Analyze("TimeoutError: upstream 1\n    at fetchStock (/var/task/p.js:1:1)", "")
		d := rules.Analyze("RangeError: upstream 1\n    at fetchPrice (/var/task/p.js:1:1)", "")
		if a.Fingerprint != b.Fingerprint || a.Fingerprint == c.Fingerprint || a.Fingerprint == d.Fingerprint {
			t.Fatalf("a %s b %s c %s d %s", a.Fingerprint, b.Fingerprint, c.Fingerprint, d.Fingerprint)
		}
	})
	t.Run("ignore on an error code", func(t *testing.T) {
		rules := mustRules(t, "code:ForceRetryExecution ignore")
		r := rules.Analyze(`{"errorType":"Error","errorMessage":"retry please","code":"ForceRetryExecution","stack":["Error: retry please","    at handler (/var/task/index.js:3:9)"]}`, "")
		if !r.Ignored || !strings.Contains(r.IgnoredBy, "code:ForceRetryExecution ignore") {
			t.Fatalf("not ignored: %+v", r)
		}
		if o := rules.Analyze(`{"errorType":"Error","errorMessage":"retry please","code":"ECONNRESET"}`, ""); o.Ignored {
			t.Fatal("another code was ignored")
		}
		if Default().Analyze(`{"errorType":"Error","errorMessage":"x","code":"ForceRetryExecution"}`, "").Ignored {
			t.Fatal("the default rules ignore it")
		}
	})
}

// TestFatJarsAndBundles: library code that no path tells apart is
// recognised by package and function names, and the application's own
// package is inferred from the handler's frame.
func TestFatJarsAndBundles(t *testing.T) {
	inApp := func(msg string) map[string]bool {
		m := map[string]bool{}
		for _, e := range Analyze(msg, "").Chain {
			for _, f := range e.Frames {
				m[f.Function] = f.InApp
			}
		}
		return m
	}
	jar := inApp("com.acme.PaymentException: declined\n\tat com.stripe.net.ApiResource.request(ApiResource.java:10)\n\tat org.jdbi.v3.Handle.execute(Handle.java:3)\n\tat com.acme.pay.Charger.charge(Charger.java:20)\n\tat com.acme.pay.Handler.handleRequest(Handler.java:5)\n\tat lambdainternal.EventHandlerLoader$PojoHandlerAsStreamHandler.handleRequest(EventHandlerLoader.java:1)")
	for fn, want := range map[string]bool{
		"com.stripe.net.ApiResource.request": false, "org.jdbi.v3.Handle.execute": false,
		"com.acme.pay.Charger.charge": true, "com.acme.pay.Handler.handleRequest": true,
	} {
		if jar[fn] != want {
			t.Errorf("fat jar: %s in-app %v, want %v", fn, jar[fn], want)
		}
	}
	bundle := inApp("ConditionalCheckFailedException: The conditional request failed\n    at throwDefaultError (file:///var/task/index.mjs:1:5000)\n    at de_ConditionalCheckFailedExceptionRes (file:///var/task/index.mjs:1:9000)\n    at _DynamoDBClient.send (file:///var/task/index.mjs:1:7000)\n    at saveOrder (file:///var/task/index.mjs:1:12000)")
	for fn, want := range map[string]bool{"throwDefaultError": false, "de_ConditionalCheckFailedExceptionRes": false, "_DynamoDBClient.send": false, "saveOrder": true} {
		if bundle[fn] != want {
			t.Errorf("bundle: %s in-app %v, want %v", fn, bundle[fn], want)
		}
	}
	// Anonymous frames stay in-app but never group.
	a := Analyze("Error: x\n    at file:///var/task/index.mjs:1:100\n    at handler (file:///var/task/index.mjs:1:200)", "")
	b := Analyze("Error: x\n    at file:///var/task/index.mjs:3:900\n    at file:///var/task/index.mjs:1:100\n    at handler (file:///var/task/index.mjs:1:200)", "")
	if a.Fingerprint != b.Fingerprint || !a.Frames[0].InApp {
		t.Errorf("anonymous frames split or left the app: %s vs %s", a.Fingerprint, b.Fingerprint)
	}
}

func TestOrgRulesDoNotChangeTheDefaults(t *testing.T) {
	msg := "TypeError: x\n    at f (/var/task/vendor2/a.js:1:1)"
	before := Analyze(msg, "")
	_ = mustRules(t, "path:**/vendor2/** -app").Analyze(msg, "")
	if after := Analyze(msg, ""); after.Fingerprint != before.Fingerprint {
		t.Fatal("compiling org rules changed the default rules")
	}
}

// FuzzRules: any rules source either is refused with a position inside it,
// or parses to rules whose canonical print parses back to the same rules.
func FuzzRules(f *testing.F) {
	f.Add(DefaultRulesText())
	for _, s := range []string{
		`message:"*connection reset by peer*" fingerprint=db-connection-reset`,
		"type:TimeoutError function:fetchPrice fingerprint=x", "code:ForceRetryExecution ignore",
		`path:"a \"b\" \\c" -app`, "family:go module:{a,b}/** -group", "path:\"\" -app # c",
		"function:#x +app", "x", "path:{", "path:a\tfunction:b +app +group",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		rs, err := ParseRules("fuzz", src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("not a SyntaxError: %v", err)
			}
			lines := strings.Count(src, "\n") + 1
			if se.Line < 1 || se.Line > lines || se.Column < 1 {
				t.Fatalf("position %d:%d outside the %d-line source", se.Line, se.Column, lines)
			}
			return
		}
		printed := FormatRules(rs)
		again, err := ParseRules("fuzz", printed)
		if err != nil {
			t.Fatalf("printed form %q does not parse: %v", printed, err)
		}
		if len(again) != len(rs) {
			t.Fatalf("%d rules became %d", len(rs), len(again))
		}
		for i := range rs {
			a, b := rs[i], again[i]
			a.Line, b.Line = 0, 0
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("rule %q printed as %q parses to %q", src, printed, b.String())
			}
		}
		if FormatRules(again) != printed {
			t.Fatal("printing is not stable")
		}
		Default().With(rs).Analyze("TypeError: x\n    at f (/var/task/a.js:1:1)", "/aws/lambda/f")
	})
}

// FuzzGlob: the fast string tests a glob compiles to agree with the glob's
// meaning as a regular expression.
func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{
		{"**/node_modules/**", "/app/node_modules/x.js"},
		{"**/node_modules/**", "node_modules/x"},
		{"**/x.js", "x.js"},
		{"com.acme.**", "com.acme.A"},
		{"*reset*", "a reset b"},
		{"a*b?c", "axxbyc"},
		{"{a,b}/**", "b/c"},
		{"**@v**", "x@v1/y"},
		{"<**", "<frozen>"},
		{"", ""},
	} {
		f.Add(s[0], s[1], true)
		f.Add(s[0], s[1], false)
	}
	f.Fuzz(func(t *testing.T, pattern, s string, path bool) {
		g, err := compileGlob(pattern, path)
		if err != "" {
			return
		}
		alts, _ := expandBraces(pattern)
		want := false
		for _, a := range alts {
			re := regexp.MustCompile(globRegexp(tokenize(a), path))
			want = want || re.MatchString(s)
		}
		if got := g.match(s); got != want {
			t.Fatalf("glob %q (path %v) on %q: fast %v, regexp %v", pattern, path, s, got, want)
		}
	})
}
