package grouping

import (
	"strings"
	"testing"
)

// frameCase: what a user sees of one frame: function, file basename, line, in-app.
type frameCase struct {
	name  string
	line  string
	ok    bool
	fn    string
	file  string // basename
	lineN int
	inApp bool
}

func checkFrame(t *testing.T, family string, tc frameCase, f Frame, ok bool) {
	t.Helper()
	Default().decideFrame(familyIndex(family), &f)
	if ok != tc.ok {
		t.Fatalf("parsed=%v, want %v (frame %+v)", ok, tc.ok, f)
	}
	if !ok {
		return
	}
	if f.Function != tc.fn {
		t.Errorf("function %q, want %q", f.Function, tc.fn)
	}
	if got := basename(f.File); got != tc.file {
		t.Errorf("file %q, want %q", got, tc.file)
	}
	if f.Line != tc.lineN {
		t.Errorf("line %d, want %d", f.Line, tc.lineN)
	}
	if f.InApp != tc.inApp {
		t.Errorf("inApp %v, want %v", f.InApp, tc.inApp)
	}
}

func TestParseV8Frame(t *testing.T) {
	for _, tc := range []frameCase{
		{"named function in the deployment package", "    at getUser (/var/task/src/users.js:42:18)", true, "getUser", "users.js", 42, true},
		{"async method on the runtime's handler object", "at async Runtime.handler (file:///var/task/index.mjs:10:5)", true, "Runtime.handler", "index.mjs", 10, true},
		{"anonymous location-only frame", "at file:///var/task/config.mjs:7:11", true, "<anonymous>", "config.mjs", 7, true},
		{"Object.<anonymous> is anonymous", "at Object.<anonymous> (/app/server.js:3:1)", true, "<anonymous>", "server.js", 3, true},
		{"[as alias] is dropped", "at Runtime.handler [as handler] (/var/task/index.js:5:3)", true, "Runtime.handler", "index.js", 5, true},
		{"constructor call", "at new Client (/app/lib/client.js:12:9)", true, "Client", "client.js", 12, true},
		{"node internals are not in-app", "at process.processTicksAndRejections (node:internal/process/task_queues:95:5)", true, "process.processTicksAndRejections", "task_queues", 95, false},
		{"node_modules are not in-app", "at Job.run (/usr/src/app/node_modules/bull/lib/job.js:20:7)", true, "Job.run", "job.js", 20, false},
		{"the Lambda runtime is not in-app", "at Runtime.handleOnceNonStreaming (file:///var/runtime/index.mjs:1173:29)", true, "Runtime.handleOnceNonStreaming", "index.mjs", 1173, false},
		{"native code has no file", "at Date.toISOString (<anonymous>)", true, "Date.toISOString", "<anonymous>", 0, false},
		{"windows path", `at run (C:\app\dist\job.js:4:2)`, true, "run", "job.js", 4, true},
		{"not a frame", "TypeError: boom", false, "", "", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := ParseV8Frame(tc.line)
			checkFrame(t, FamilyNode, tc, f, ok)
		})
	}
}

func TestParseJavaFrame(t *testing.T) {
	for _, tc := range []frameCase{
		{"application class", "\tat com.acme.orders.OrderService.validate(OrderService.java:42)", true, "com.acme.orders.OrderService.validate", "OrderService.java", 42, true},
		{"module prefix is dropped, JDK is not in-app", "at java.base/java.lang.Thread.run(Thread.java:833)", true, "java.lang.Thread.run", "Thread.java", 833, false},
		{"Lambda Java runtime JSON frame without at", "com.acme.Handler.handleRequest(Handler.java:25)", true, "com.acme.Handler.handleRequest", "Handler.java", 25, true},
		{"native method", "at sun.nio.ch.Net.connect0(Native Method)", true, "sun.nio.ch.Net.connect0", "", 0, false},
		{"lambda method number is dropped", "at com.acme.W.lambda$run$3(W.java:10)", true, "com.acme.W.lambda$run$", "W.java", 10, true},
		{"hidden lambda class address is dropped", "at com.acme.W$$Lambda$97/0x0000000801aa0000.apply(Unknown Source)", true, "com.acme.W$$Lambda$.apply", "", 0, true},
		{"anonymous class number is dropped", "at com.acme.W$2.call(W.java:9)", true, "com.acme.W$.call", "W.java", 9, true},
		{"Spring is a library", "at org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:883)", true, "org.springframework.web.servlet.FrameworkServlet.service", "FrameworkServlet.java", 883, false},
		{"Lambda runtime is a library", "at com.amazonaws.services.lambda.runtime.api.client.EventHandlerLoader$PojoHandlerAsStreamHandler.handleRequest(EventHandlerLoader.java:205)", true, "com.amazonaws.services.lambda.runtime.api.client.EventHandlerLoader$PojoHandlerAsStreamHandler.handleRequest", "EventHandlerLoader.java", 205, false},
		{"logback packaging data", "at com.acme.A.b(A.java:3) ~[app.jar:1.2.0]", true, "com.acme.A.b", "A.java", 3, true},
		{"Kotlin file", "at com.acme.app.UserRepo.find(UserRepo.kt:12)", true, "com.acme.app.UserRepo.find", "UserRepo.kt", 12, true},
		{"header with parentheses is not a frame", "java.lang.IllegalArgumentException: bad value (x)", false, "", "", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := ParseJavaFrame(tc.line)
			checkFrame(t, FamilyJava, tc, f, ok)
		})
	}
}

func TestParseDotnetFrame(t *testing.T) {
	for _, tc := range []frameCase{
		{"frame with file and line", "   at Orders.Function.GetCustomer(String id) in /src/Orders/Function.cs:line 42", true, "Orders.Function.GetCustomer", "Function.cs", 42, true},
		{"async state machine is the method", "at Orders.Api.OrdersController.<Create>d__4.MoveNext() in /src/Orders/Api/OrdersController.cs:line 31", true, "Orders.Api.OrdersController.Create", "OrdersController.cs", 31, true},
		{"windows path", `at Shop.Queue.Consumer.ReceiveAsync(CancellationToken ct) in C:\build\Shop\Queue\Consumer.cs:line 7`, true, "Shop.Queue.Consumer.ReceiveAsync", "Consumer.cs", 7, true},
		{"System is not in-app", "at System.Text.Json.ThrowHelper.ThrowJsonException(String message)", true, "System.Text.Json.ThrowHelper.ThrowJsonException", "", 0, false},
		{"Lambda RuntimeSupport is not in-app", "at Amazon.Lambda.RuntimeSupport.LambdaBootstrap.InvokeOnceAsync(CancellationToken cancellationToken)", true, "Amazon.Lambda.RuntimeSupport.LambdaBootstrap.InvokeOnceAsync", "", 0, false},
		{"generated lambda_method is not in-app", "at lambda_method1(Closure, Stream, ILambdaContext, Stream)", true, "lambda_method1", "", 0, false},
		{"generic arity", "at Shop.Repo`1.Get[T](Int32 id) in /src/Repo.cs:line 5", true, "Shop.Repo.Get", "Repo.cs", 5, true},
		{"not a frame", "System.Exception: boom", false, "", "", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := ParseDotnetFrame(tc.line)
			checkFrame(t, FamilyDotnet, tc, f, ok)
		})
	}
}

func TestParsePythonFrame(t *testing.T) {
	for _, tc := range []frameCase{
		{"handler in the deployment package", `  File "/var/task/lambda_function.py", line 12, in lambda_handler`, true, "lambda_handler", "lambda_function.py", 12, true},
		{"no-break-space indentation of the Lambda runtime", "\u00a0\u00a0File \"/var/task/app.py\", line 3, in handler", true, "handler", "app.py", 3, true},
		{"site-packages is a library", `  File "/opt/python/lib/python3.12/site-packages/botocore/client.py", line 1023, in _make_api_call`, true, "_make_api_call", "client.py", 1023, false},
		{"the standard library is not in-app", `  File "/var/lang/lib/python3.12/json/decoder.py", line 337, in decode`, true, "decode", "decoder.py", 337, false},
		{"the Lambda runtime is not in-app", `  File "/var/runtime/bootstrap.py", line 60, in main`, true, "main", "bootstrap.py", 60, false},
		{"frozen importlib is not in-app", `  File "<frozen importlib._bootstrap>", line 1204, in _gcd_import`, true, "_gcd_import", "<frozen importlib._bootstrap>", 1204, false},
		{"module level code", `  File "/app/main.py", line 1, in <module>`, true, "<module>", "main.py", 1, true},
		{"botocore bundled into the deployment package is a library", `  File "/var/task/botocore/client.py", line 960, in _make_api_call`, true, "_make_api_call", "client.py", 960, false},
		{"source line is not a frame", `    return event['user_id']`, false, "", "", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := ParsePythonFrame(tc.line)
			checkFrame(t, FamilyPython, tc, f, ok)
		})
	}
}

func TestParseRubyFrame(t *testing.T) {
	for _, tc := range []frameCase{
		{"backtick quote", "app/controllers/books_controller.rb:69:in `recursivewordload'", true, "recursivewordload", "books_controller.rb", 69, true},
		{"from prefix and block", "\tfrom /var/task/app/importer.rb:12:in `block in import'", true, "import", "importer.rb", 12, true},
		{"Ruby 3.4 quotes with class", "app/services/billing.rb:8:in 'Billing#charge!'", true, "Billing#charge!", "billing.rb", 8, true},
		{"gems are libraries", "/var/task/vendor/bundle/ruby/3.3.0/gems/csv-3.2.8/lib/csv.rb:1906:in `each'", true, "each", "csv.rb", 1906, false},
		{"no method", "/var/task/function.rb:7", true, "", "function.rb", 7, true},
		{"not a frame", "NoMethodError (undefined method):", false, "", "", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _, ok := ParseRubyFrame(tc.line)
			checkFrame(t, FamilyRuby, tc, f, ok)
		})
	}
}

func TestParsePHPFrame(t *testing.T) {
	for _, tc := range []frameCase{
		{"method call in the application", `#0 /var/task/src/Billing/Service.php(20): App\Billing\Gateway->charge(Object(App\Billing\Payment))`, true, `App\Billing\Gateway->charge`, "Service.php", 20, true},
		{"internal function", "#0 [internal function]: ErrorEntryGenerator::{closure}()", true, "ErrorEntryGenerator::{closure}", "[internal function]", 0, false},
		{"vendor is a library", "#1 /var/task/vendor/bref/bref/src/Runtime/Invoker.php(29): App\\Service->handle(Array)", true, `App\Service->handle`, "Invoker.php", 29, false},
		{"main is not a frame", "#4 {main}", false, "", "", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := ParsePHPFrame(tc.line)
			checkFrame(t, FamilyPHP, tc, f, ok)
		})
	}
}

func TestParseGoFrame(t *testing.T) {
	tests := []struct {
		frameCase
		loc string
	}{
		{frameCase{"main package with pointer arguments", "main.doPanic(0x12f0ea0, 0xc00010e1c0)", true, "main.doPanic", "httppanic.go", 8, true}, "\t/Users/ingvar/src/go/src/httppanic.go:8 +0x39"},
		{frameCase{"closure suffix is dropped", "github.com/acme/worker/queue.(*Consumer).Start.func1()", true, "github.com/acme/worker/queue.(*Consumer).Start.func", "consumer.go", 40, true}, "\t/home/runner/work/worker/queue/consumer.go:40 +0x1d"},
		{frameCase{"the standard library is not in-app", "net/http.(*conn).serve(0xc00007eaa0, {0x12f10a0, 0xc00008a780})", true, "net/http.(*conn).serve", "server.go", 1847, false}, "\t/usr/local/go/src/net/http/server.go:1847 +0x646"},
		{frameCase{"the runtime's panic is not in-app", "panic({0x12472a0, 0x12ece10})", true, "panic", "panic.go", 513, false}, "\t/usr/local/go/src/runtime/panic.go:513 +0x1b9"},
		{frameCase{"module cache is a library", "github.com/aws/aws-lambda-go/lambda.(*Function).Invoke(...)", true, "github.com/aws/aws-lambda-go/lambda.(*Function).Invoke", "function.go", 64, false}, "\t/root/go/pkg/mod/github.com/aws/aws-lambda-go@v1.47.0/lambda/function.go:64"},
		{frameCase{"generic instantiation is dropped", "main.Map[...](...)", true, "main.Map", "main.go", 5, true}, "\t/app/main.go:5 +0x10"},
		{frameCase{"created by is not a frame", "created by main.main", false, "", "", 0, false}, "\t/app/main.go:9 +0x91"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := ParseGoFrame(tc.line, tc.loc)
			checkFrame(t, FamilyGo, tc.frameCase, f, ok)
		})
	}
}

func TestNormalizedMessageHidesVariableParts(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"numbers and ids", "order 12345 for user u_9f8e7d failed", "order <v> for user <v> failed"},
		{"uuid request id", "request 6f1c7c0e-9f0b-4a3e-8c64-1c9d2d7c0a11 failed", "request <v> failed"},
		{"ip and port", "dial tcp 10.0.0.12:5432: connect: connection refused", "dial tcp <v>: connect: connection refused"},
		{"email", "no mailbox for alice.smith@example.org", "no mailbox for <email>"},
		{"url", "GET https://api.example.com/v1/items?id=4 returned 502", "GET <url> returned <v>"},
		{"quoted identifiers stay", `key 'user_id' not in "payload"`, `key 'user_id' not in "payload"`},
		{
			"quoted values that vary are masked", `no order '8f1c2e9a-0b4d-4c2e-9a11-3f5e7d9c1b2a' for 'bob@example.org' of '$12.50' at '2026-11-21T01:02:03Z' token 'tok_8fK2qL'`,
			`no order '<v>' for '<email>' of '<v>' at '<v>:<v>:<v>' token '<v>'`,
		},
		{"digits inside a quoted identifier", `bucket 'acme-logs-2024' table "orders_v2"`, `bucket 'acme-logs-<n>' table "orders_v<n>"`},
		{"value after equals", "bad input name=bob limit=abc", "bad input name=<v> limit=<v>"},
		{"duration and date", "timed out after 3.00s at 2026-11-21T01:02:03Z", "timed out after <v> at <v>"},
		{"hex address", "object at 0x7f3a2b1c9d00 is gone", "object at <v> is gone"},
		{"white space collapses", "a\n\t  b", "a b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(appendNormalizedMessage(nil, tt.in)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestInAppByLanguage(t *testing.T) {
	inApp := func(family string, f Frame) bool {
		Default().decideFrame(familyIndex(family), &f)
		return f.InApp
	}
	isLibraryPath := func(p string) bool { return !inApp("", Frame{File: p}) }
	isGoLibrary := func(fn, file string) bool {
		return !inApp(FamilyGo, Frame{Function: fn, Module: goPackage(fn), File: file})
	}
	isJVMLibrary := func(fn string) bool { return !inApp(FamilyJava, Frame{Function: fn}) }
	isDotnetLibrary := func(fn string) bool { return !inApp(FamilyDotnet, Frame{Function: fn}) }
	// One frame per runtime location named in DESIGN section 9.
	notInApp := []string{
		"/var/runtime/index.mjs", "/var/lang/lib/python3.12/site-packages/awslambdaric/bootstrap.py",
		"node:internal/process/task_queues", "internal/process/task_queues",
		"/usr/src/app/node_modules/x/index.js", "/usr/lib/python3/dist-packages/yaml/__init__.py",
		"/root/go/pkg/mod/github.com/x/y@v1.0.0/z.go", "/app/vendor/github.com/x/y/z.go",
	}
	for _, p := range notInApp {
		if !isLibraryPath(p) {
			t.Errorf("%s should not be in-app", p)
		}
	}
	for _, p := range []string{"/var/task/index.js", "/app/main.py", "src/handler.rb", "/var/task/src/Service.php"} {
		if isLibraryPath(p) {
			t.Errorf("%s should be in-app", p)
		}
	}
	for _, fn := range []string{"runtime.gopanic", "net/http.(*conn).serve", "internal/poll.runtime_pollWait", "github.com/aws/aws-lambda-go/lambda.(*Function).Invoke"} {
		if !isGoLibrary(fn, "") {
			t.Errorf("Go %s should not be in-app", fn)
		}
	}
	for _, fn := range []string{"main.handler", "github.com/acme/app/store.(*DB).Get", "panics.nilPtrDereference"} {
		if isGoLibrary(fn, "") {
			t.Errorf("Go %s should be in-app", fn)
		}
	}
	for _, class := range []string{"java.util.Optional.ifPresent", "javax.servlet.http.HttpServlet.service", "jdk.internal.reflect.X.y", "sun.nio.ch.Net.connect", "org.springframework.A.b", "org.mortbay.jetty.Server.handle", "org.apache.catalina.A.b", "com.amazonaws.services.lambda.runtime.X.y"} {
		if !isJVMLibrary(class) {
			t.Errorf("JVM %s should not be in-app", class)
		}
	}
	for _, class := range []string{"com.acme.orders.OrderService.validate", "org.acme.Foo.bar", "io.acme.Baz.qux", "javaapp.Main.main", "Main.main"} {
		if isJVMLibrary(class) {
			t.Errorf("JVM %s should be in-app", class)
		}
	}
	for _, m := range []string{"Shop.Api.Catalog.Load", "Orders.Function.FunctionHandler", "SystemTools.X.Y"} {
		if isDotnetLibrary(m) {
			t.Errorf(".NET %s should be in-app", m)
		}
	}
	for _, m := range []string{"System.Linq.Enumerable.First", "Microsoft.AspNetCore.Mvc.X.Y", "Amazon.Lambda.RuntimeSupport.LambdaBootstrap.InvokeOnceAsync"} {
		if !isDotnetLibrary(m) {
			t.Errorf(".NET %s should not be in-app", m)
		}
	}
}

// TestChainOrder: every language yields the chain outermost first and frames
// most recent call first.
func TestChainOrder(t *testing.T) {
	tests := []struct {
		name    string
		message string
		types   []string
		top     string // function of the primary frames' first frame
	}{
		{
			"Java Caused by", "java.lang.RuntimeException: outer\n\tat com.a.B.c(B.java:1)\nCaused by: java.io.IOException: inner\n\tat com.a.D.e(D.java:2)\n\t... 1 more",
			[]string{"java.lang.RuntimeException", "java.io.IOException"},
			"com.a.D.e",
		},
		{
			"Python raise from", "Traceback (most recent call last):\n  File \"/app/a.py\", line 1, in inner\n    x()\nKeyError: 'k'\n\nThe above exception was the direct cause of the following exception:\n\nTraceback (most recent call last):\n  File \"/app/a.py\", line 5, in outer\n    inner()\n  File \"/app/a.py\", line 3, in wrap\n    raise ValueError('v') from e\nValueError: v",
			[]string{"ValueError", "KeyError"},
			"inner",
		},
		{
			".NET inner exception", "System.InvalidOperationException: outer\n ---> System.ArgumentException: inner\n   at A.B.Inner() in /s/B.cs:line 3\n   --- End of inner exception stack trace ---\n   at A.B.Outer() in /s/B.cs:line 9",
			[]string{"System.InvalidOperationException", "System.ArgumentException"},
			"A.B.Inner",
		},
		{
			"PHP Next", "PHP Fatal error:  Uncaught LogicException: inner in /app/a.php:3\nStack trace:\n#0 {main}\n\nNext RuntimeException: outer in /app/b.php:7\nStack trace:\n#0 {main}\n  thrown in /app/b.php on line 7",
			[]string{"RuntimeException", "LogicException"},
			"{main}",
		},
		{
			"Python frames most recent first", "Traceback (most recent call last):\n  File \"/app/a.py\", line 1, in first\n    f()\n  File \"/app/a.py\", line 2, in last\n    g()\nOSError: x",
			[]string{"OSError"},
			"last",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Analyze(tt.message, "")
			var types []string
			for _, e := range r.Chain {
				types = append(types, e.Type)
			}
			if strings.Join(types, ",") != strings.Join(tt.types, ",") {
				t.Errorf("chain %v, want %v", types, tt.types)
			}
			if len(r.Frames) == 0 || r.Frames[0].Function != tt.top {
				t.Errorf("primary frames %+v, want first %q", r.Frames, tt.top)
			}
		})
	}
}

// TestChainFramesAreIndependent: the frames of one exception can be appended
// to without touching another's (they share one allocation).
func TestChainFramesAreIndependent(t *testing.T) {
	r := Analyze("java.lang.RuntimeException: outer\n\tat com.a.B.c(B.java:1)\n\tat com.a.B.d(B.java:2)\nCaused by: java.io.IOException: inner\n\tat com.a.D.e(D.java:3)", "")
	if len(r.Chain) != 2 {
		t.Fatalf("chain of %d", len(r.Chain))
	}
	outer := append(r.Chain[0].Frames, Frame{Function: "appended"})
	_ = outer
	if got := r.Chain[1].Frames[0].Function; got != "com.a.D.e" {
		t.Fatalf("inner exception's first frame became %q", got)
	}
}
