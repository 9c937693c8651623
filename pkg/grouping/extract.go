package grouping

import "strings"

// extractor finds the error in a message; work counts bytes scanned.
type extractor struct {
	sc *scratch
	// context is what names where the error happened when the error itself
	// cannot (a Step Functions state machine); it is a fingerprint component.
	context, contextHint string
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
	t = unwrapLine(t)
	if t != "" && t[0] == '{' {
		var o errObject
		n, ok := decodeObject(t, &o)
		x.sc.count(n)
		if ok {
			chain, fallback := x.fromObject(&o, true, depth)
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
	chain := parseStack(t, x.sc)
	if len(chain) == 0 {
		if e, ok := lineHeader(t); ok {
			chain = []Exception{e}
		} else if e, ok := headerOf(firstLine(t)); ok {
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
		if tab := tabInLine(t, 40); tab > 0 {
			rest := t[tab+1:]
			if tab2 := tabInLine(rest, 64); tab2 >= 0 {
				rest2 := rest[tab2+1:]
				if tab3 := tabInLine(rest2, 10); tab3 > 0 && isLevelWord(rest2[:tab3]) {
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
	if sp := leadingWordEnd(t); sp >= 3 && sp <= 8 && isLevelWord(t[:sp]) && strings.ToUpper(t[:sp]) == t[:sp] {
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

// tabInLine is strings.IndexByte(firstLine(s), '\t') when that is below
// limit, else -1, reading at most limit bytes.
func tabInLine(s string, limit int) int {
	for i := 0; i < len(s) && i < limit; i++ {
		switch s[i] {
		case '\t':
			return i
		case '\n':
			return -1
		}
	}
	return -1
}

// leadingWordEnd is strings.IndexAny(firstLine(t), " \t") where that is at
// most 8, else -1: the end of a leading level word.
func leadingWordEnd(t string) int {
	for i := 0; i < len(t) && i <= 8; i++ {
		switch t[i] {
		case ' ', '\t':
			return i
		case '\n':
			return -1
		}
	}
	return -1
}

// firstString returns the first non-empty string.
func firstString(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// firstRaw returns the first raw value of one of the kinds.
func firstRaw(kinds string, raws ...rawJSON) rawJSON {
	for _, r := range raws {
		if k := rawKind(r); k != 0 && strings.IndexByte(kinds, k) >= 0 {
			return r
		}
	}
	return ""
}

// fromObject reads an error out of a JSON object: the Lambda runtimes' error
// JSON (errorType/errorMessage/stackTrace/cause), the Lambda JSON log format
// (the error nested in "message"), pino/bunyan (err{type,message,stack}),
// winston, structlog, serilog (@x/@mt), log4j2 (thrown{name,message,
// extendedStackTrace}), .NET's JSON console (Exception) and others. top is
// false inside a nested error object, where "type", "name" and "message"
// describe the error itself.
func (x *extractor) fromObject(o *errObject, top bool, depth int) ([]Exception, string) {
	typ := firstString(o.ErrorType, o.ErrorTypeS, o.ExceptionName, o.ExceptionTypeS, o.ExceptionType,
		o.ErrorDotType, o.ErrorDotKind, o.ExcDotType, o.ExcClassS, o.ExcClass)
	if typ == "" && !top {
		typ = firstString(o.Type, o.Name, o.Class, o.Kind, o.ClassName)
	}
	emsg := firstString(o.ErrorMessage, o.ErrorMessageS, o.ErrorDotMessage, o.ExcDotMessage, o.ExcMessageS)
	message, _ := rawString(o.Message)
	msg, _ := rawString(o.Msg)
	var logMsg string
	if top {
		if chain, ok := x.stepFunctions(o, depth); ok {
			return chain, ""
		}
		wrapped, _ := rawString(o.Log)
		logMsg = firstString(message, msg, o.MT, o.M, o.Event, o.Text, wrapped)
	} else if emsg == "" {
		emsg = firstString(message, o.LocalizedMessage, msg)
	}
	nested := firstRaw("{", o.Message, o.Msg)
	nestedIsMessage := nested != "" // an error object's member stands in for it
	stack := firstRaw(`"[`, o.Stack, o.StackTrace, o.StackTraceS, o.ExcInfo, o.ErrorStackTrace, o.ErrorStack,
		o.ExcStackTrace, o.ExcStackTraceS, o.ExtendedStack, o.Backtrace, o.Traceback, o.X, o.Trace)
	var errText string
	for _, raw := range [...]rawJSON{o.ErrorAnyException, o.ErrorAnyError, o.ErrorAnyErr, o.ErrorAnyThrown, o.ErrorAnyExc, o.ErrorAnyE} {
		switch rawKind(raw) {
		case '{':
			if nested == "" || nestedIsMessage {
				nested, nestedIsMessage = raw, false
			}
		case '"':
			s, _ := rawString(raw)
			switch {
			case strings.IndexByte(s, '\n') >= 0 && stack == "":
				stack = raw
			case errText == "":
				errText = s
			}
		}
	}
	cause := firstRaw("{", o.Cause, o.Reason, o.InnerException, o.Inner, o.Previous)
	if errText != "" {
		if typ == "" && !strings.ContainsAny(errText, " \t") && looksLikeTypeName(errText) {
			typ = errText
		} else if emsg == "" {
			emsg = errText
		}
	}
	var chain []Exception
	if stack != "" {
		chain = x.stackChain(stack)
	}
	if len(chain) == 0 && nested != "" && depth < maxDepth {
		var n errObject
		if unmarshalLenient(string(nested), &n) {
			chain, _ = x.fromObject(&n, false, depth+1)
		}
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
	if len(chain) > 0 && chain[0].Code == "" {
		chain[0].Code = rawScalar(o.Code)
	}
	if len(chain) == 0 && top && logMsg != "" && depth < maxDepth {
		// The message itself may hold a stack trace or a runtime error line.
		c, _ := x.extract(logMsg, depth+1)
		chain = c
	}
	if cause != "" && len(chain) < maxChain && depth < maxDepth {
		var n errObject
		if unmarshalLenient(string(cause), &n) {
			c, _ := x.fromObject(&n, false, depth+1)
			if len(chain)+len(c) > maxChain {
				c = c[:maxChain-len(chain)]
			}
			chain = append(chain, c...)
		}
	}
	return chain, logMsg
}

// stepFunctions reads a Step Functions execution event that failed
// (ExecutionFailed, TaskFailed, LambdaFunctionFailed, ...TimedOut, ...Aborted):
// the error and its cause (the cause is often a Lambda error object, read as
// such); the state machine is the context.
func (x *extractor) stepFunctions(o *errObject, depth int) ([]Exception, bool) {
	if rawKind(o.Details) != '{' || !sfnFailure(o.Type) {
		return nil, false
	}
	var d sfnDetails
	if !unmarshalLenient(string(o.Details), &d) || d.Error == "" && d.Cause == "" {
		return nil, false
	}
	if arn := o.ExecutionArn; arn != "" {
		// arn:aws:states:region:account:execution:StateMachine:execution-id
		if p := strings.Split(arn, ":"); len(p) >= 7 && (p[5] == "execution" || p[5] == "express") {
			x.context, x.contextHint = p[6], "the state machine, from the execution ARN"
		}
	}
	if strings.HasPrefix(trimSpace(d.Cause), "{") && depth < maxDepth {
		if c, _ := x.extract(d.Cause, depth+1); len(c) > 0 {
			if c[0].Type == "" {
				c[0].Type = d.Error
			}
			return c, true
		}
	}
	return []Exception{{Type: d.Error, Message: d.Cause}}, true
}

// sfnFailure reports the Step Functions event types of failures.
func sfnFailure(t string) bool {
	return strings.HasSuffix(t, "Failed") || strings.HasSuffix(t, "TimedOut") || strings.HasSuffix(t, "Aborted")
}

// stackChain parses a stack field: a string, an array of frame strings
// (joined), or an array of frame objects.
func (x *extractor) stackChain(raw rawJSON) []Exception {
	if rawKind(raw) == '"' {
		s, _ := rawString(raw)
		return x.stackText(s)
	}
	var e Exception
	var b strings.Builder
	objects, first := false, true
	rawArrayStrings(raw, func(it rawJSON, s string, isStr bool) bool {
		if first {
			objects, first = rawKind(it) == '{', false
		}
		if objects {
			var fo frameObject
			if len(e.Frames) >= maxFrames {
				return false
			}
			if !unmarshalLenient(string(it), &fo) {
				return true
			}
			if f, fam, ok := objectFrame(&fo); ok {
				if e.Family == "" {
					e.Family = fam
				}
				e.Frames = x.sc.appendFrame(e.Frames, f)
			}
			return true
		}
		if !isStr || b.Len()+len(s) > maxScan {
			return true
		}
		if b.Cap() == 0 {
			b.Grow(min(len(raw), maxScan)) // the joined text is about the array's: one allocation
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(s)
		return true
	})
	if objects {
		if len(e.Frames) == 0 {
			return nil
		}
		return []Exception{e}
	}
	if first {
		return nil
	}
	return x.stackText(b.String())
}

// stackText parses a stack trace string.
func (x *extractor) stackText(s string) []Exception {
	if len(s) > maxScan {
		s = s[:maxScan]
	}
	chain := parseStack(s, x.sc)
	if len(chain) == 0 {
		if e, ok := headerOf(firstLine(trimSpace(s))); ok {
			chain = []Exception{e}
		}
	}
	return chain
}

// objectFrame reads one frame object and the family its shape belongs to.
func objectFrame(o *frameObject) (Frame, string, bool) {
	var f Frame
	line := o.Line
	if rawKind(line) != '0' {
		line = o.LineNumber
	}
	if rawKind(line) == '0' {
		f.Line, _ = atoi(string(line))
	}
	if o.Label != "" || o.Path != "" {
		// aws-lambda-go: label is the function without its package path.
		f.Function = normalizeFunction(o.Label)
		f.File = o.Path
		if i := strings.LastIndexByte(f.File, '/'); i > 0 {
			f.Module = f.File[:i]
		}
		return f, FamilyGo, f.Function != "" || f.File != ""
	}
	class := firstString(o.Class, o.ClassName, o.DeclaringClass)
	method := firstString(o.Method, o.MethodName, o.Function)
	f.File = firstString(o.File, o.FileName)
	fam := ""
	switch {
	case class != "" && strings.Contains(f.File, ".php") || strings.Contains(class, "\\"):
		f.Module = class
		f.Function = class + "->" + method
		fam = FamilyPHP
	case class != "":
		f.Function = normalizeFunction(class + "." + method)
		f.Module = class
		fam = FamilyJava
	default:
		f.Function = method
	}
	return f, fam, f.Function != "" || f.File != ""
}
