package grouping

import "strings"

// The frame parsers below each read one line of one language's stack trace
// (already stripped of indentation) and fill a Frame with the function, the
// module (class, package or Python module), the file as printed, the line,
// and the column. Whether a frame is the application's own is not theirs to
// say: the rules decide it. They never read past the line they are given.

// ParseV8Frame parses a Node.js / V8 frame such as
// "at getUser (/var/task/src/users.js:42:18)" or "at file:///var/task/index.mjs:5:11".
func ParseV8Frame(line string) (Frame, bool) {
	t, ok := strings.CutPrefix(trimSpace(line), "at ")
	if !ok {
		return Frame{}, false
	}
	fn, loc := "", t
	if strings.HasSuffix(t, ")") {
		if i := lastSpaceParen(t); i >= 0 {
			fn, loc = t[:i], t[i+2:len(t)-1]
		} else if strings.HasSuffix(t, "(<anonymous>)") || strings.HasSuffix(t, "(native)") {
			return Frame{}, false
		}
	}
	if strings.HasPrefix(loc, "eval at ") {
		// "eval at fn (file:1:2), <anonymous>:3:4": keep the outer location.
		if i := strings.LastIndex(loc, ", "); i >= 0 {
			loc = loc[i+2:]
		}
	}
	loc = strings.TrimPrefix(loc, "file://")
	f := Frame{Function: normalizeFunction(fn)}
	// file:line:col, file:line, or a bare name such as "<anonymous>" / "native".
	file := loc
	if i := strings.LastIndexByte(file, ':'); i > 0 {
		if n, ok := atoi(file[i+1:]); ok {
			file = file[:i]
			f.Line = n
			if j := strings.LastIndexByte(file, ':'); j > 0 {
				if m, ok := atoi(file[j+1:]); ok {
					file = file[:j]
					f.Column, f.Line = f.Line, m
				}
			}
		}
	}
	if file == "" || strings.ContainsAny(file, " \t") && !strings.ContainsAny(file, "/\\") {
		return Frame{}, false
	}
	f.File = file
	return f, true
}

// lastSpaceParen is strings.LastIndex(t, " (") by the rarer '(' first.
func lastSpaceParen(t string) int {
	for j := len(t); ; {
		i := strings.LastIndexByte(t[:j], '(')
		if i <= 0 {
			return -1
		}
		if t[i-1] == ' ' {
			return i - 1
		}
		j = i
	}
}

// ParseJavaFrame parses a JVM frame such as
// "at com.example.Foo.bar(Foo.java:42)", "at java.base/java.lang.Thread.run(Thread.java:833)"
// or "at x.Y.z(Native Method) ~[app.jar:1.0]"; the leading "at " is optional
// (Lambda's Java runtime prints frames without it in its JSON).
func ParseJavaFrame(line string) (Frame, bool) {
	t := trimSpace(line)
	t = strings.TrimPrefix(t, "at ")
	open := strings.IndexByte(t, '(')
	if open <= 0 {
		return Frame{}, false
	}
	closeP := strings.IndexByte(t[open:], ')')
	if closeP < 0 {
		return Frame{}, false
	}
	name, loc := t[:open], t[open+1:open+closeP]
	if strings.IndexByte(name, ' ') >= 0 || strings.IndexByte(name, '\t') >= 0 {
		return Frame{}, false
	}
	// Hidden-class addresses first ("$$Lambda$12/0x0000000800c4b440"), then
	// the module or class-loader prefix: "java.base/java.lang.Thread.run", "app//com.x.Y.z".
	// JVM names only need normalizing for '$' (lambdas, anonymous and
	// generated classes) and '/' (modules, hidden-class addresses).
	slash := strings.IndexByte(name, '/')
	if slash >= 0 || strings.IndexByte(name, '$') >= 0 {
		name = normalizeFunction(name)
		if slash >= 0 {
			if i := strings.LastIndexByte(name, '/'); i >= 0 {
				name = name[i+1:]
			}
		}
	}
	if strings.IndexByte(name, '.') < 0 {
		return Frame{}, false
	}
	name = kotlinSuspend(name)
	f := Frame{Function: name}
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		f.Module = name[:i]
	}
	switch loc {
	case "Native Method", "Unknown Source", "Unknown", "":
	default:
		if i := strings.LastIndexByte(loc, ':'); i > 0 {
			if n, ok := atoi(loc[i+1:]); ok {
				f.Line = n
				loc = loc[:i]
			}
		}
		f.File = loc
	}
	return f, true
}

// kotlinSuspend names a Kotlin suspend function's continuation frame after the
// function: "com.acme.Orders$load$2.invokeSuspend" (after its label number was
// scrubbed: "com.acme.Orders$load$.invokeSuspend") is "com.acme.Orders.load".
func kotlinSuspend(name string) string {
	rest, ok := strings.CutSuffix(name, ".invokeSuspend")
	if !ok || strings.IndexByte(rest, '$') < 0 {
		return name
	}
	rest = strings.TrimRight(rest, "$0123456789")
	if i := strings.LastIndexByte(rest, '$'); i > 0 {
		return rest[:i] + "." + rest[i+1:]
	}
	return name
}

// ParseDotnetFrame parses a .NET frame such as
// "at MyApp.Orders.Get(String id) in /src/MyApp/Orders.cs:line 42".
func ParseDotnetFrame(line string) (Frame, bool) {
	t, ok := strings.CutPrefix(trimSpace(line), "at ")
	if !ok {
		return Frame{}, false
	}
	var f Frame
	sig := t
	if i := strings.LastIndex(t, " in "); i > 0 && strings.Contains(t[i:], ":line ") {
		sig = t[:i]
		loc := t[i+4:]
		j := strings.LastIndex(loc, ":line ")
		f.File = loc[:j]
		if n, ok := atoi(strings.TrimSpace(loc[j+6:])); ok {
			f.Line = n
		}
	}
	name := sig
	if i := strings.IndexByte(sig, '('); i > 0 {
		name = sig[:i]
	} else if i == 0 {
		return Frame{}, false
	}
	name = strings.TrimSpace(name)
	if name == "" || strings.ContainsAny(name, " \t") {
		return Frame{}, false
	}
	// Generic arity and type arguments: Foo`1.Bar[T] -> Foo.Bar
	if i := strings.IndexByte(name, '['); i > 0 {
		name = name[:i]
	}
	name = normalizeFunction(stripBacktickArity(name))
	f.Function = name
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		f.Module = name[:i]
	}
	return f, true
}

func stripBacktickArity(s string) string {
	if strings.IndexByte(s, '`') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			for i+1 < len(s) && isDigit(s[i+1]) {
				i++
			}
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

// ParsePythonFrame parses a Python traceback frame line such as
// `File "/var/task/app.py", line 12, in handler`.
func ParsePythonFrame(line string) (Frame, bool) {
	t, ok := strings.CutPrefix(trimSpace(line), `File "`)
	if !ok {
		return Frame{}, false
	}
	q := strings.IndexByte(t, '"')
	if q < 0 {
		return Frame{}, false
	}
	f := Frame{File: t[:q]}
	rest := t[q+1:]
	if r, ok := strings.CutPrefix(rest, ", line "); ok {
		end := 0
		for end < len(r) && isDigit(r[end]) {
			end++
		}
		f.Line, _ = atoi(r[:end])
		rest = r[end:]
	}
	if r, ok := strings.CutPrefix(rest, ", in "); ok {
		f.Function = normalizeFunction(strings.TrimSpace(r))
	}
	mod := basename(f.File)
	mod = strings.TrimSuffix(mod, ".py")
	f.Module = mod
	return f, true
}

// ParseRubyFrame parses a Ruby backtrace line such as
// "app/models/user.rb:10:in `save'", "from /var/task/function.rb:5:in 'Foo#bar'"
// or "/var/task/lib.rb:7". rest is what follows the frame on the same line
// (the ": message (Type)" of the first line of an uncaught exception).
func ParseRubyFrame(line string) (f Frame, rest string, ok bool) {
	t := trimSpace(line)
	t = strings.TrimPrefix(t, "from ")
	i := strings.Index(t, ".rb:")
	if i <= 0 {
		return Frame{}, "", false
	}
	f.File = t[:i+3]
	r := t[i+4:]
	end := 0
	for end < len(r) && isDigit(r[end]) {
		end++
	}
	if end == 0 {
		return Frame{}, "", false
	}
	f.Line, _ = atoi(r[:end])
	r = r[end:]
	if m, ok := strings.CutPrefix(r, ":in "); ok && len(m) > 0 && (m[0] == '`' || m[0] == '\'') {
		if j := strings.IndexByte(m[1:], '\''); j >= 0 {
			f.Function = normalizeFunction(m[1 : j+1])
			r = m[j+2:]
		}
	}
	return f, r, true
}

// ParsePHPFrame parses a PHP stack trace line such as
// "#1 /var/task/src/Orders.php(20): App\\Orders->load('id')" or
// "#0 [internal function]: Foo::{closure}()". "#N {main}" is not a frame.
func ParsePHPFrame(line string) (Frame, bool) {
	t := trimSpace(line)
	if len(t) < 3 || t[0] != '#' || !isDigit(t[1]) {
		return Frame{}, false
	}
	i := 1
	for i < len(t) && isDigit(t[i]) {
		i++
	}
	t = strings.TrimSpace(t[i:])
	if t == "{main}" {
		return Frame{}, false
	}
	sep := strings.Index(t, ": ")
	if sep < 0 {
		return Frame{}, false
	}
	loc, call := t[:sep], t[sep+2:]
	var f Frame
	if strings.HasSuffix(loc, ")") {
		if j := strings.LastIndexByte(loc, '('); j > 0 {
			f.File = loc[:j]
			f.Line, _ = atoi(loc[j+1 : len(loc)-1])
		}
	} else {
		f.File = loc
	}
	if j := strings.IndexByte(call, '('); j > 0 {
		call = call[:j]
	}
	// PHP 8.4 closures carry their location: {closure:/path/file.php:12}
	if j := strings.Index(call, "{closure:"); j >= 0 {
		call = call[:j] + "{closure}"
	}
	f.Function = call
	if j := strings.LastIndex(call, "->"); j > 0 {
		f.Module = call[:j]
	} else if j := strings.LastIndex(call, "::"); j > 0 {
		f.Module = call[:j]
	}
	return f, true
}

// ParseGoFrame parses a Go traceback frame: the function line
// ("main.handler(0xc000010000, {0x1, 0x2})") and the location line that
// follows it ("\t/app/main.go:42 +0x1d").
func ParseGoFrame(funcLine, locLine string) (Frame, bool) {
	fn := trimSpace(funcLine)
	if fn == "" || strings.HasPrefix(fn, "created by ") || strings.ContainsAny(fn, " \t") && !strings.Contains(fn, ", ") && !strings.Contains(fn, "...") {
		return Frame{}, false
	}
	if strings.HasSuffix(fn, ")") {
		if i := strings.LastIndexByte(fn, '('); i > 0 {
			fn = fn[:i]
		}
	}
	if strings.ContainsAny(fn, " \t") {
		return Frame{}, false
	}
	loc := trimSpace(locLine)
	if i := strings.Index(loc, " +0x"); i >= 0 {
		loc = loc[:i]
	}
	if i := strings.IndexByte(loc, ' '); i >= 0 {
		loc = loc[:i]
	}
	f := Frame{Function: normalizeFunction(fn)}
	if i := strings.LastIndexByte(loc, ':'); i > 0 {
		if n, ok := atoi(loc[i+1:]); ok {
			f.File, f.Line = loc[:i], n
		}
	}
	if f.File == "" || !strings.HasSuffix(f.File, ".go") && !strings.HasSuffix(f.File, ".s") {
		return Frame{}, false
	}
	f.Module = goPackage(f.Function)
	return f, true
}
