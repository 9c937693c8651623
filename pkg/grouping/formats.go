package grouping

import "strings"

// lineFormat is one entry of the table of log line formats that are not stack
// traces: wrap strips a wrapper or prefix and returns the line inside it
// (the error is read from that), header reads a line that is itself the error
// (its first line only). Either may be nil.
type lineFormat struct {
	name   string
	wrap   func(t, line string) (string, bool) // line: t's first line
	header func(t string) (Exception, bool)
}

// lineFormats are tried in order; a new format is a new entry.
var lineFormats = [...]lineFormat{
	{name: "php-fpm child stderr", wrap: unwrapPHPFPM},
	{name: "go standard logger date", wrap: unwrapGoLogDate},
	{name: "laravel/monolog", wrap: unwrapMonolog},
	{name: "bref invoke error", wrap: unwrapInvokeError},
	{name: "api gateway execution log", wrap: unwrapAPIGateway, header: apiGatewayHeader},
	{name: "postgresql", header: postgresHeader},
	{name: "mysql error log", header: mysqlHeader},
	{name: "nginx error log", header: nginxHeader},
}

// maxUnwrap bounds how many wrappers one line may have.
const maxUnwrap = 4

// unwrapLine strips the log prefixes and wrappers around a line.
func unwrapLine(t string) string {
	for range maxUnwrap {
		t = stripLogPrefix(t)
		line := firstLine(t)
		changed := false
		for i := range lineFormats {
			if lineFormats[i].wrap == nil {
				continue
			}
			if rest, ok := lineFormats[i].wrap(t, line); ok && rest != t {
				t, changed = trimSpace(rest), true
				break
			}
		}
		if !changed {
			return t
		}
	}
	return t
}

// lineHeader reads a line format whose line is the error.
func lineHeader(t string) (Exception, bool) {
	line := firstLine(t)
	for i := range lineFormats {
		if h := lineFormats[i].header; h != nil {
			if e, ok := h(line); ok {
				return e, true
			}
		}
	}
	return Exception{}, false
}

// unwrapPHPFPM: `[21-Nov-2026 01:02:03] WARNING: [pool www] child 12 said into
// stderr: "NOTICE: PHP message: PHP Fatal error:  Uncaught ..."`. The wrapper's
// levels (WARNING, NOTICE) are PHP-FPM's, not the error's.
func unwrapPHPFPM(t, line string) (string, bool) {
	if !strings.Contains(line, "said into std") {
		return t, false
	}
	i := strings.Index(line, "said into stderr: \"")
	if i < 0 {
		i = strings.Index(line, "said into stdout: \"")
	}
	if i < 0 {
		return t, false
	}
	rest := t[i+len(`said into stderr: "`):]
	if j := strings.LastIndexByte(firstLine(rest), '"'); j >= 0 && j == len(firstLine(rest))-1 {
		rest = rest[:j] + rest[j+1:]
	}
	for _, p := range [...]string{"NOTICE: ", "WARNING: ", "ERROR: "} {
		rest = strings.TrimPrefix(rest, p)
	}
	rest = strings.TrimPrefix(rest, "PHP message: ")
	return rest, true
}

// unwrapGoLogDate: the Go standard logger's "2026/11/21 01:02:03[.000000] "
// prefix (optionally after a file:line from Lshortfile).
func unwrapGoLogDate(t, _ string) (string, bool) {
	if len(t) < 20 || !isDigit(t[0]) || t[4] != '/' || t[7] != '/' || t[10] != ' ' || t[13] != ':' || t[16] != ':' {
		return t, false
	}
	i := 19
	if i < len(t) && t[i] == '.' {
		i++
		for i < len(t) && isDigit(t[i]) {
			i++
		}
	}
	if i >= len(t) || t[i] != ' ' {
		return t, false
	}
	rest := t[i+1:]
	// nginx writes the same date: leave "[error] ..." to its header.
	if strings.HasPrefix(rest, "[") {
		return t, false
	}
	return rest, true
}

// unwrapMonolog: Laravel/Monolog "[2026-11-21 01:02:03] production.ERROR: msg {context}".
func unwrapMonolog(t, _ string) (string, bool) {
	if len(t) < 24 || t[0] != '[' || !isDigit(t[1]) {
		return t, false
	}
	end := strings.IndexByte(t, ']')
	if end < 10 || end > 40 {
		return t, false
	}
	rest := t[end+1:]
	rest = strings.TrimLeft(rest, " ")
	dot := strings.IndexByte(rest, '.')
	colon := strings.Index(rest, ": ")
	if dot <= 0 || colon <= dot || colon-dot > 12 || strings.ContainsAny(rest[:dot], " \t") || !isLevelWord(rest[dot+1:colon]) {
		return t, false
	}
	body := rest[colon+2:]
	// The context's "exception" holds the error: read it when present.
	if i := strings.Index(body, ` {"`); i >= 0 && strings.Contains(body[i:], `"exception":"[object] (`) {
		return monologException(body[i+1:]), true
	}
	return body, true
}

// monologException turns Monolog's context
// {"exception":"[object] (Type(code: 0): msg at /file.php:12)\n[stacktrace]\n#0 ..."}
// into PHP's own uncaught form, which parsePHP reads.
func monologException(ctx string) string {
	var o errObject
	if _, ok := decodeObject(ctx, &o); !ok {
		return ctx
	}
	s, _ := rawString(o.ErrorAnyException)
	s = strings.TrimPrefix(s, "[object] (")
	open := strings.Index(s, "(code: ")
	if open <= 0 {
		return ctx
	}
	typ := s[:open]
	rest := s[open:]
	close := strings.Index(rest, "): ")
	if close < 0 {
		return ctx
	}
	rest = rest[close+3:]
	head, trace, _ := strings.Cut(rest, "\n[stacktrace]\n")
	msg, loc := head, ""
	if i := strings.LastIndex(head, " at "); i >= 0 {
		msg, loc = head[:i], strings.TrimSuffix(head[i+4:], ")")
	}
	trace = strings.TrimSuffix(strings.TrimSpace(trace), `"}`)
	return "PHP Fatal error:  Uncaught " + typ + ": " + msg + " in " + loc + "\nStack trace:\n" + trace
}

// unwrapInvokeError: the runtime error JSON after "Invoke Error", whatever
// precedes it on the line (Bref prints its own request id form).
func unwrapInvokeError(t, line string) (string, bool) {
	for _, p := range [...]string{"Invoke Error", "Uncaught Exception", "Unhandled Promise Rejection"} {
		i := strings.Index(line[:min(len(line), 200+len(p))], p) // found after 200 it is not taken
		if i < 0 {
			continue
		}
		if rest := trimSpace(t[i+len(p):]); strings.HasPrefix(rest, "{") {
			return rest, true
		}
	}
	return t, false
}

// unwrapAPIGateway strips an API Gateway execution log's "(request-id) ".
func unwrapAPIGateway(t, _ string) (string, bool) {
	if len(t) < 4 || t[0] != '(' {
		return t, false
	}
	end := strings.IndexByte(t, ')')
	if end < 8 || end > 64 || strings.ContainsAny(t[1:end], " \t") || end+1 >= len(t) || t[end+1] != ' ' {
		return t, false
	}
	return t[end+2:], true
}

// apiGatewayHeader reads API Gateway's failures: "Execution failed due to a
// timeout error", "Execution failed due to configuration error: Malformed
// Lambda proxy response", "Lambda execution failed with status 200 due to
// customer function error: ...", "Method completed with status: 502".
func apiGatewayHeader(t string) (Exception, bool) {
	switch {
	case strings.HasPrefix(t, "Execution failed due to "):
		return Exception{Type: "APIGateway.ExecutionFailed", Message: t[len("Execution failed due to "):]}, true
	case strings.HasPrefix(t, "Lambda execution failed with status "):
		return Exception{Type: "APIGateway.LambdaExecutionFailed", Message: t[len("Lambda execution failed with status "):]}, true
	case strings.HasPrefix(t, "Method completed with status: 5"):
		code := firstWord(t[len("Method completed with status: "):])
		return Exception{Type: "APIGateway.Status" + code, Message: "Method completed with status " + code}, true
	}
	return Exception{}, false
}

// postgresHeader reads a PostgreSQL log line (RDS/Aurora's default
// log_line_prefix "%t:%r:%u@%d:[%p]:"): "...:[12345]:ERROR:  msg".
func postgresHeader(t string) (Exception, bool) {
	for _, sev := range [...]string{"ERROR:  ", "FATAL:  ", "PANIC:  "} {
		i := strings.Index(t, "]:"+sev)
		if i < 0 {
			if !strings.HasPrefix(t, sev) {
				continue
			}
			i = -2
		}
		return Exception{Type: "postgres." + strings.TrimSuffix(sev, ":  "), Message: t[i+2+len(sev):]}, true
	}
	return Exception{}, false
}

// mysqlHeader reads a MySQL 8 error log line:
// "2026-11-21T01:02:03.123456Z 12 [ERROR] [MY-013183] [InnoDB] msg".
func mysqlHeader(t string) (Exception, bool) {
	i := strings.Index(t, " [ERROR] [MY-")
	if i < 0 || i > 64 || !isDigit(t[0]) {
		return Exception{}, false
	}
	rest := t[i+len(" [ERROR] ["):]
	end := strings.IndexByte(rest, ']')
	if end < 0 {
		return Exception{}, false
	}
	return Exception{Type: "mysql." + rest[:end], Message: trimSpace(rest[end+1:])}, true
}

// nginxHeader reads "2026/11/21 01:02:03 [error] 12#12: *345 msg, client: ...":
// the message up to its request context, which varies per request.
func nginxHeader(t string) (Exception, bool) {
	if len(t) < 21 || t[4] != '/' || t[19] != ' ' {
		return Exception{}, false
	}
	rest := t[20:]
	var sev string
	for _, s := range [...]string{"[error] ", "[crit] ", "[alert] ", "[emerg] "} {
		if strings.HasPrefix(rest, s) {
			sev, rest = s[1:len(s)-2], rest[len(s):]
			break
		}
	}
	if sev == "" {
		return Exception{}, false
	}
	// "12#12: " then an optional "*345 " connection number.
	if i := strings.Index(rest, ": "); i > 0 && i < 24 && strings.IndexByte(rest[:i], '#') > 0 {
		rest = rest[i+2:]
	}
	if len(rest) > 1 && rest[0] == '*' {
		if i := strings.IndexByte(rest, ' '); i > 0 {
			rest = rest[i+1:]
		}
	}
	if i := strings.Index(rest, ", client: "); i >= 0 {
		rest = rest[:i]
	}
	return Exception{Type: "nginx." + sev, Message: rest}, true
}
