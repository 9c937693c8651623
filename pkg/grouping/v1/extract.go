package v1

import "strings"

// extractor finds the error in a message; work counts bytes scanned.
type extractor struct {
	work *int
}

// maxDepth bounds how often extraction re-enters itself (JSON inside a
// Lambda text line inside a JSON message, causes of causes).
const maxDepth = 6

// extract returns the exception chain of a message and, when no exception
// was found, the text a title falls back to.
func (x *extractor) extract(msg string, depth int) ([]Exception, string) {
	t := trimSpace(msg)
	if depth > maxDepth || t == "" {
		return nil, t
	}
	t = stripLogPrefix(t)
	for _, p := range [...]string{"Invoke Error", "Uncaught Exception", "Unhandled Promise Rejection"} {
		if rest, ok := strings.CutPrefix(t, p); ok {
			if rest = trimSpace(rest); strings.HasPrefix(rest, "{") {
				t = rest
			}
			break
		}
	}
	if t != "" && t[0] == '{' {
		v, n, ok := parseJSONPrefix(t)
		if x.work != nil {
			*x.work += n
		}
		if ok && v.kind == jObject {
			chain, fallback := x.fromObject(&v, true, depth)
			if len(chain) > 0 || fallback != "" {
				return chain, fallback
			}
			if rest := trimSpace(t[n:]); rest != "" {
				t = rest
			}
		}
	}
	if len(t) > maxScan {
		t = t[:maxScan]
	}
	chain := parseStack(t, x.work)
	if len(chain) == 0 {
		if e, ok := headerOf(firstLine(t)); ok {
			chain = []Exception{e}
		}
	}
	return chain, t
}

// isLevelWord reports a log level name as the Lambda runtimes print them.
func isLevelWord(s string) bool {
	switch strings.ToUpper(s) {
	case "ERROR", "FATAL", "CRITICAL", "WARN", "WARNING", "INFO", "DEBUG", "TRACE", "FAIL", "CRIT", "ERR":
		return true
	}
	return false
}

// stripLogPrefix removes the line prefixes the Lambda runtimes and common
// loggers put before a message: "<time>\t<requestId>\tERROR\t",
// "[ERROR]\t<time>\t<requestId>\t", "[ERROR] ", a bare leading "ERROR " and the
// .NET console "fail: Category[0]" line.
func stripLogPrefix(t string) string {
	if len(t) > 2 && t[0] == '[' {
		if j := strings.IndexByte(t, ']'); j > 1 && j < 12 && isLevelWord(t[1:j]) {
			rest := t[j+1:]
			if strings.HasPrefix(rest, "\t") {
				f := strings.SplitN(rest[1:], "\t", 3)
				if len(f) == 3 && len(f[0]) >= 10 && isDigit(f[0][0]) {
					return trimSpace(f[2])
				}
			}
			return trimSpace(rest)
		}
	}
	if len(t) > 20 && isDigit(t[0]) {
		line := firstLine(t)
		if tab := strings.IndexByte(line, '\t'); tab > 0 && tab < 40 {
			rest := t[tab+1:]
			if tab2 := strings.IndexByte(firstLine(rest), '\t'); tab2 >= 0 && tab2 < 64 {
				rest2 := rest[tab2+1:]
				if tab3 := strings.IndexByte(firstLine(rest2), '\t'); tab3 > 0 && tab3 < 10 && isLevelWord(rest2[:tab3]) {
					return trimSpace(rest2[tab3+1:])
				}
			}
		}
	}
	// Ruby Logger: "E, [2026-11-21T01:02:03.123456 #1] ERROR -- app: message"
	if len(t) > 4 && t[1] == ',' && t[2] == ' ' && t[3] == '[' {
		if i := strings.Index(firstLine(t), " -- "); i > 0 {
			rest := t[i+4:]
			if j := strings.Index(firstLine(rest), ": "); j >= 0 {
				return trimSpace(rest[j+2:])
			}
		}
	}
	// A leading level word: "ERROR Aient Firehose smoke test error".
	if sp := strings.IndexAny(firstLine(t), " \t"); sp >= 3 && sp <= 8 && isLevelWord(t[:sp]) && strings.ToUpper(t[:sp]) == t[:sp] {
		return trimSpace(t[sp+1:])
	}
	for _, p := range [...]string{"fail: ", "crit: ", "error: "} {
		if strings.HasPrefix(t, p) {
			line := firstLine(t)
			if strings.HasSuffix(line, "]") && len(line) < len(t) {
				return trimSpace(t[len(line)+1:])
			}
			return trimSpace(t[len(p):])
		}
	}
	return t
}

// Roles of the fields of a structured log line (see fieldRole).
const (
	roleNone = iota
	roleType
	roleErrMessage
	roleLogMessage
	roleStack
	roleNested
	roleCause
	roleErrorAny
)

// fieldRole assigns a role to a JSON key (compared case-insensitively).
// top is false inside a nested error object, where "type", "name" and
// "message" describe the error itself.
func fieldRole(k string, top bool) (role, prio int) {
	switch strings.ToLower(k) {
	case "errortype", "error_type", "exception_name", "exception_type", "exceptiontype",
		"error.type", "error.kind", "exception.type", "exception_class", "exceptionclass":
		return roleType, 0
	case "type", "name", "class", "kind", "classname":
		if !top {
			return roleType, 1
		}
	case "errormessage", "error_message", "error.message", "exception.message", "exception_message":
		return roleErrMessage, 0
	case "message", "localizedmessage", "msg":
		if !top {
			return roleErrMessage, 1
		}
		if len(k) == 3 {
			return roleLogMessage, 1
		}
		return roleLogMessage, 0
	case "@mt":
		return roleLogMessage, 2
	case "@m", "event", "text":
		return roleLogMessage, 3
	case "stack", "stacktrace", "stack_trace", "exc_info", "error.stack_trace", "error.stack",
		"exception.stacktrace", "exception.stack_trace", "extendedstacktrace", "backtrace", "traceback", "@x", "trace":
		return roleStack, 0
	case "exception", "error", "err", "thrown", "exc", "e":
		return roleErrorAny, 0
	case "cause", "reason", "innerexception", "inner", "previous":
		return roleCause, 0
	}
	return roleNone, 0
}

// fromObject reads an error out of a JSON object: the Lambda runtimes' error
// JSON (errorType/errorMessage/stackTrace/cause), the Lambda JSON log format
// (the error nested in "message"), pino/bunyan (err{type,message,stack}),
// winston, structlog, serilog (@x/@mt), log4j2 (thrown{name,message,
// extendedStackTrace}), .NET's JSON console (Exception) and others.
func (x *extractor) fromObject(o *jvalue, top bool, depth int) ([]Exception, string) {
	var (
		typ, emsg, logMsg       string
		typPrio, emPrio, lmPrio = 9, 9, 9
		stack                   *jvalue
		nested, cause           *jvalue
		errText                 string
	)
	for i, k := range o.keys {
		v := &o.vals[i]
		role, prio := fieldRole(k, top)
		switch role {
		case roleType:
			if v.kind == jString && prio < typPrio && v.str != "" {
				typ, typPrio = v.str, prio
			}
		case roleErrMessage:
			if v.kind == jString && prio < emPrio {
				emsg, emPrio = v.str, prio
			} else if v.kind == jObject && nested == nil {
				nested = v
			}
		case roleLogMessage:
			switch v.kind {
			case jString:
				if prio < lmPrio {
					logMsg, lmPrio = v.str, prio
				}
			case jObject:
				if nested == nil {
					nested = v
				}
			}
		case roleStack:
			if stack == nil && (v.kind == jString || v.kind == jArray) {
				stack = v
			}
		case roleErrorAny:
			switch v.kind {
			case jObject:
				if nested == nil || nested == o.get("message") {
					nested = v
				}
			case jString:
				switch {
				case strings.IndexByte(v.str, '\n') >= 0 && stack == nil:
					stack = v
				case errText == "":
					errText = v.str
				}
			}
		case roleCause:
			if v.kind == jObject && cause == nil {
				cause = v
			}
		}
	}
	if errText != "" {
		if typ == "" && !strings.ContainsAny(errText, " \t") && looksLikeTypeName(errText) {
			typ = errText
		} else if emsg == "" {
			emsg = errText
		}
	}
	var chain []Exception
	if stack != nil {
		chain = x.stackChain(stack, depth)
	}
	if len(chain) == 0 && nested != nil && depth < maxDepth {
		chain, _ = x.fromObject(nested, false, depth+1)
	}
	switch {
	case len(chain) == 0 && (typ != "" || emsg != ""):
		if typ == "" && emsg != "" && logMsg != "" && emsg != logMsg {
			emsg = logMsg + ": " + emsg
		}
		chain = []Exception{{Type: typ, Message: emsg}}
	case len(chain) > 0:
		if chain[0].Type == "" {
			chain[0].Type = typ
		}
		if chain[0].Message == "" {
			if chain[0].Type == "" && emsg != "" && logMsg != "" && emsg != logMsg {
				emsg = logMsg + ": " + emsg
			}
			chain[0].Message = emsg
		}
	}
	if len(chain) == 0 && top && logMsg != "" && depth < maxDepth {
		// The message itself may hold a stack trace or a runtime error line.
		c, _ := x.extract(logMsg, depth+1)
		chain = c
	}
	if cause != nil && len(chain) < maxChain && depth < maxDepth {
		c, _ := x.fromObject(cause, false, depth+1)
		if len(chain)+len(c) > maxChain {
			c = c[:maxChain-len(chain)]
		}
		chain = append(chain, c...)
	}
	return chain, logMsg
}

// stackChain parses a stack field: a string, an array of frame strings
// (joined), or an array of frame objects.
func (x *extractor) stackChain(v *jvalue, depth int) []Exception {
	if v.kind == jString {
		s := v.str
		if len(s) > maxScan {
			s = s[:maxScan]
		}
		chain := parseStack(s, x.work)
		if len(chain) == 0 {
			if e, ok := headerOf(firstLine(trimSpace(s))); ok {
				chain = []Exception{e}
			}
		}
		return chain
	}
	if len(v.vals) == 0 {
		return nil
	}
	if v.vals[0].kind == jObject {
		var e Exception
		for i := range v.vals {
			if f, ok := objectFrame(&v.vals[i]); ok && len(e.Frames) < maxFrames {
				e.Frames = appendFrame(e.Frames, f)
			}
		}
		if len(e.Frames) == 0 {
			return nil
		}
		return []Exception{e}
	}
	var b strings.Builder
	for i := range v.vals {
		s := v.vals[i].str
		if v.vals[i].kind != jString || b.Len()+len(s) > maxScan {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(s)
	}
	return x.stackChain(&jvalue{kind: jString, str: b.String()}, depth)
}

// objectFrame reads one frame object: aws-lambda-go {path, line, label},
// log4j2 {class, method, file, line}, Jackson-serialised StackTraceElement
// {className, methodName, fileName, lineNumber}, PHP {class, function, file, line}.
func objectFrame(o *jvalue) (Frame, bool) {
	var f Frame
	str := func(keys ...string) string {
		for _, k := range keys {
			if v := o.getFold(k); v != nil && v.kind == jString {
				return v.str
			}
		}
		return ""
	}
	num := func(keys ...string) int {
		for _, k := range keys {
			if v := o.getFold(k); v != nil && v.kind == jNumber {
				n, _ := atoi(v.str)
				return n
			}
		}
		return 0
	}
	f.Line = num("line", "lineNumber")
	if label := str("label"); label != "" || str("path") != "" {
		// aws-lambda-go: label is the function without its package path.
		f.Function = normalizeFunction(label)
		f.File = str("path")
		top := f.File
		if i := strings.IndexByte(top, '/'); i >= 0 {
			top = top[:i]
		}
		f.InApp = !isLibraryPath(f.File) && !strings.Contains(f.File, "@v") && !isGoLibrary(top+".x", "")
		return f, f.Function != "" || f.File != ""
	}
	class := str("class", "className", "declaringClass")
	method := str("method", "methodName", "function")
	f.File = str("file", "fileName")
	switch {
	case class != "" && strings.Contains(f.File, ".php") || strings.Contains(class, "\\"):
		f.Module = class
		f.Function = class + "->" + method
		f.InApp = !isLibraryPath(f.File)
	case class != "":
		f.Function = normalizeFunction(class + "." + method)
		f.Module = class
		f.InApp = !isJVMLibrary(class) && !isDotnetLibrary(class)
	default:
		f.Function = method
		f.InApp = f.File != "" && !isLibraryPath(f.File)
	}
	return f, f.Function != "" || f.File != ""
}
