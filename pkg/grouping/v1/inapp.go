package v1

import "strings"

// isLibraryPath reports whether a file path belongs to a Lambda runtime, a
// language installation or a third-party library: /var/runtime/, awslambdaric,
// node:/internal/, node_modules, site-packages, dist-packages, lib/python*,
// go/pkg/mod, vendor, GOROOT, aws-lambda-go, gems and lib/ruby, PHP's
// [internal function]. It walks the path's segments once.
func isLibraryPath(p string) bool {
	if p == "" {
		return false
	}
	switch p[0] {
	case 'n', 'i', 'v':
		if strings.HasPrefix(p, "node:") || strings.HasPrefix(p, "internal/") || strings.HasPrefix(p, "vendor/") {
			return true
		}
	case '<':
		return strings.HasPrefix(p, "<frozen ") || strings.HasPrefix(p, "<internal:")
	case '[':
		return strings.HasPrefix(p, "[internal function]")
	case '/':
		if strings.HasPrefix(p, "/var/runtime/") || strings.HasPrefix(p, "/opt/aws-lambda-") ||
			strings.HasPrefix(p, "/usr/local/go/src/") || strings.HasPrefix(p, "/usr/lib/go") ||
			strings.HasPrefix(p, "/usr/share/go") || strings.HasPrefix(p, "/usr/share/php/") || strings.HasPrefix(p, "/usr/lib/php") {
			return true
		}
	}
	var prev2, prev string
	for p != "" {
		i := strings.IndexAny(p, `/\`)
		seg := p
		if i >= 0 {
			seg, p = p[:i], p[i+1:]
		} else {
			p = ""
		}
		switch seg {
		case "node_modules", "site-packages", "dist-packages", "vendor", "gems", "awslambdaric", "aws-lambda-go", "bundle":
			return true
		case "mod":
			if prev == "pkg" {
				return true
			}
		case "runtime":
			if prev == "src" && prev2 == "go" {
				return true
			}
		case "ruby":
			if prev == "lib" {
				return true
			}
		}
		if prev == "lib" && strings.HasPrefix(seg, "python") {
			return true
		}
		if strings.HasPrefix(seg, "aws-lambda-go@") {
			return true
		}
		prev2, prev = prev, seg
	}
	return false
}

// isJVMLibrary reports whether a qualified JVM name (class or class.method)
// belongs to the JDK, the Lambda Java runtime or a common library:
// java., javax., jdk., sun., com.sun., jakarta., kotlin(x)., scala., groovy.,
// org.springframework., org.mortbay., org.apache., org.eclipse., org.hibernate.,
// org.junit., org.slf4j., ch.qos., io.netty/micronaut/quarkus/vertx., reactor.,
// com.fasterxml., com.google., com.zaxxer., okhttp3., retrofit2.,
// com.amazonaws., software.amazon., lambdainternal.
func isJVMLibrary(name string) bool {
	dot := strings.IndexByte(name, '.')
	if dot < 0 {
		return false
	}
	top, second := name[:dot], ""
	switch top {
	case "org", "com", "io", "ch", "software":
		second = name[dot+1:]
		if i := strings.IndexByte(second, '.'); i >= 0 {
			second = second[:i]
		}
	}
	switch top {
	case "java", "javax", "jdk", "sun", "jakarta", "kotlin", "kotlinx", "scala", "groovy", "reactor",
		"lambdainternal", "okhttp3", "retrofit2":
		return true
	case "org":
		switch second {
		case "springframework", "mortbay", "apache", "eclipse", "hibernate", "junit", "slf4j":
			return true
		}
	case "com":
		switch second {
		case "sun", "fasterxml", "google", "zaxxer", "amazonaws":
			return true
		}
	case "io":
		switch second {
		case "netty", "micronaut", "quarkus", "vertx":
			return true
		}
	case "ch":
		return second == "qos"
	case "software":
		return second == "amazon"
	}
	return false
}

// isDotnetLibrary reports whether a qualified .NET name belongs to the base
// class library, ASP.NET, the Lambda .NET runtime (Amazon.Lambda.RuntimeSupport,
// and the AWS SDK under Amazon.) or a common library.
func isDotnetLibrary(name string) bool {
	if strings.HasPrefix(name, "lambda_method") {
		return true
	}
	top, _, ok := strings.Cut(name, ".")
	if !ok {
		return false
	}
	switch top {
	case "System", "Microsoft", "Amazon", "Newtonsoft", "Npgsql", "Dapper", "Polly", "MySqlConnector",
		"StackExchange", "Grpc", "Google", "Serilog", "NLog", "Castle", "Xunit", "NUnit":
		return true
	}
	return false
}

// isGoStdlib reports whether top is the first element of a Go standard
// library package path (or the runtime's own pseudo-functions).
func isGoStdlib(top string) bool {
	switch top {
	case "archive", "bufio", "builtin", "bytes", "cmp", "compress", "container", "context", "crypto",
		"database", "debug", "embed", "encoding", "errors", "expvar", "flag", "fmt", "go", "hash",
		"html", "image", "index", "internal", "io", "iter", "log", "maps", "math", "mime", "net",
		"os", "path", "plugin", "reflect", "regexp", "runtime", "slices", "sort", "strconv",
		"strings", "structs", "sync", "syscall", "testing", "text", "time", "unicode", "unique",
		"unsafe", "weak", "panic", "created", "goexit":
		return true
	}
	return false
}

// goPackage returns the package path of a Go function name such as
// "net/http.(*conn).serve" -> "net/http".
func goPackage(fn string) string {
	slash := strings.LastIndexByte(fn, '/')
	rest := fn[slash+1:]
	if dot := strings.IndexByte(rest, '.'); dot >= 0 {
		return fn[:slash+1+dot]
	}
	return fn
}

// isGoLibrary reports whether a Go function or its file is outside the app.
func isGoLibrary(fn, file string) bool {
	if isLibraryPath(file) || strings.Contains(file, "@v") || strings.Contains(fn, "aws-lambda-go/") || strings.Contains(fn, "/vendor/") {
		return true
	}
	pkg := goPackage(fn)
	top := pkg
	if i := strings.IndexByte(pkg, '/'); i >= 0 {
		top = pkg[:i]
	}
	if strings.IndexByte(top, '.') >= 0 {
		return false // a module path such as github.com/acme/app
	}
	return isGoStdlib(top)
}
