package grouping

import "strings"

// Platform failure kinds reported in Result.Platform.
const (
	PlatformTimeout     = "timeout"
	PlatformRuntimeExit = "runtime-exit"
	PlatformOutOfMemory = "out-of-memory"
	PlatformInitError   = "init-error"
)

// maxPlatformScan: platform failures announce themselves in the first bytes.
// (REPORT, INIT_REPORT and timeout lines are short; init errors name their
// type at the start of the Lambda runtime's error line).
const maxPlatformScan = 1 << 10

// platformRecord is the Lambda JSON log format's platform record.
type platformRecord struct {
	Type   string `json:"type"`
	Record struct {
		RequestID string `json:"requestId"`
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Phase     string `json:"phase"`
		Metrics   struct {
			MemorySizeMB    int `json:"memorySizeMB"`
			MaxMemoryUsedMB int `json:"maxMemoryUsedMB"`
		} `json:"metrics"`
	} `json:"record"`
}

// platformJSON reads the platform records of the Lambda JSON log format
// (platform.runtimeDone, platform.report, platform.initReport,
// platform.initRuntimeDone, platform.restoreReport) with a failed status,
// fingerprinted like their text forms.
func platformJSON(msg string) (kind, typ, title, requestID string) {
	if !strings.HasPrefix(msg, "{") || !strings.Contains(msg, `"platform.`) {
		return "", "", "", ""
	}
	var p platformRecord
	if !unmarshalLenient(msg, &p) || !strings.HasPrefix(p.Type, "platform.") {
		return "", "", "", ""
	}
	r := p.Record
	switch r.Status {
	case "timeout", "error", "failure":
	default:
		return "", "", "", ""
	}
	oom := r.ErrorType == "Runtime.OutOfMemory" || r.Metrics.MemorySizeMB > 0 && r.Metrics.MaxMemoryUsedMB >= r.Metrics.MemorySizeMB
	switch {
	case strings.HasPrefix(p.Type, "platform.init") || r.Phase == "init":
		t := firstString(r.ErrorType, "Runtime.InitError")
		if r.Status == "timeout" {
			return PlatformInitError, t, t + ": init timed out (" + p.Type + " status timeout)", r.RequestID
		}
		return PlatformInitError, t, t + ": init failed (" + p.Type + " " + r.Status + ")", r.RequestID
	case oom:
		return PlatformOutOfMemory, "Runtime.OutOfMemory", "Runtime.OutOfMemory: function ran out of memory", r.RequestID
	case r.Status == "timeout":
		return PlatformTimeout, "Lambda.Timeout", "Task timed out (" + p.Type + " status timeout)", r.RequestID
	}
	return PlatformRuntimeExit, "Runtime.ExitError", "Runtime.ExitError: " + firstString(r.ErrorType, "runtime "+r.Status), r.RequestID
}

// platformFailure recognises the Lambda platform's own failure lines, in
// text or in the JSON log format: timeouts, runtime exits, out of memory and
// init errors. title is the line a person reads; requestID the invocation;
// initReport is set for the platform's report of an init (INIT_REPORT,
// platform.initReport, platform.initRuntimeDone).
func platformFailure(msg string) (kind, typ, title, requestID string, initReport bool) {
	if kind, typ, title, requestID = platformJSON(msg); kind != "" {
		return kind, typ, title, requestID, kind == PlatformInitError
	}
	if len(msg) > maxPlatformScan {
		msg = msg[:maxPlatformScan]
	}
	kind, typ, title = platformText(msg)
	if kind != "" {
		requestID = platformRequestID(msg)
	}
	return kind, typ, title, requestID, kind == PlatformInitError && strings.Contains(msg, "INIT_REPORT")
}

// initTypesTheRuntimeReports are the init error types a runtime prints itself,
// with what failed to load, in its error line before the platform's report of
// the init: that line is the problem (its type and what it names), and its
// occurrence. The platform's report of the same failed init (INIT_REPORT
// text, platform.initReport JSON) says no more and would be a second problem
// for one bug: it is dropped as its duplicate (Result.Ignored, counted on the
// drain like ignore rules' drops). A report of an init the runtime could not
// describe (Status: timeout, Runtime.ExitError, Runtime.Unknown, any other
// type) is the problem itself: one per function, type and status, whatever
// the duration. A new type is a new entry.
var initTypesTheRuntimeReports = [...]string{
	"Runtime.ImportModuleError", "Runtime.HandlerNotFound", "Runtime.UserCodeSyntaxError", "Runtime.MalformedHandlerName",
}

// initReportDuplicate reports whether a platform init report of typ repeats
// the runtime's own error line.
func initReportDuplicate(typ string) bool {
	for _, t := range initTypesTheRuntimeReports {
		if typ == t {
			return true
		}
	}
	return false
}

// ignoredInitReport is the IgnoredBy of a dropped init report.
const ignoredInitReport = "the platform's init report of a failure the runtime's own error line reports (pkg/grouping initTypesTheRuntimeReports)"

// platformRequestID finds the invocation's request id in a platform line:
// "RequestId: X", or the token before "Task timed out".
func platformRequestID(msg string) string {
	if id := firstWord(afterLabel(msg, "RequestId: ")); id != "" {
		return id
	}
	if i := strings.Index(msg, " Task timed out after "); i > 0 {
		f := strings.Fields(msg[:i])
		if len(f) > 0 {
			return f[len(f)-1]
		}
	}
	return ""
}

// platformText is platformFailure for the text forms.
func platformText(msg string) (kind, typ, title string) {
	if !mentionsPlatform(msg) {
		return "", "", ""
	}
	return platformTextAll(msg)
}

// platformTextAll is platformText without its gate.
func platformTextAll(msg string) (kind, typ, title string) {
	if i := strings.Index(msg, "Task timed out after "); i >= 0 && isTimeoutSeconds(msg[i+len("Task timed out after "):]) {
		return PlatformTimeout, "Lambda.Timeout", firstLine(msg[i:])
	}
	if strings.Contains(msg, "INIT_REPORT") {
		if strings.Contains(msg, "Status: error") || strings.Contains(msg, "Status: timeout") {
			t := "Runtime.InitError"
			if et := afterLabel(msg, "Error Type: "); et != "" {
				t = et
			}
			status := afterLabel(msg, "Status: ")
			if status == "timeout" {
				return PlatformInitError, t, t + ": init timed out (INIT_REPORT Status: timeout)"
			}
			return PlatformInitError, t, t + ": init failed (INIT_REPORT " + status + ")"
		}
		return "", "", ""
	}
	// The Lambda error types raised while loading the function.
	for _, t := range [...]string{
		"Runtime.ImportModuleError", "Runtime.HandlerNotFound", "Runtime.UserCodeSyntaxError",
		"Runtime.MalformedHandlerName", "Runtime.InvalidEntrypoint", "Runtime.InitError",
	} {
		if strings.Contains(msg, t) {
			return PlatformInitError, t, ""
		}
	}
	// Lambda kills a function that ran out of memory: "signal: killed".
	oom := strings.Contains(msg, "Runtime.OutOfMemory") || memoryExhausted(msg) || strings.Contains(msg, "Runtime exited with error: signal: killed")
	if strings.HasPrefix(msg, "REPORT ") || strings.Contains(msg, "\nREPORT ") {
		if !oom && !strings.Contains(msg, "Status: error") && !strings.Contains(msg, "Status: timeout") {
			return "", "", ""
		}
		if strings.Contains(msg, "Status: timeout") && !oom {
			return PlatformTimeout, "Lambda.Timeout", "Task timed out (REPORT Status: timeout)"
		}
	}
	exit := strings.Contains(msg, "Runtime.ExitError") || strings.Contains(msg, "Runtime exited with error") ||
		strings.Contains(msg, "Runtime exited without providing a reason")
	switch {
	case oom:
		return PlatformOutOfMemory, "Runtime.OutOfMemory", "Runtime.OutOfMemory: function ran out of memory"
	case exit:
		t := "Runtime exited"
		if i := strings.Index(msg, "Runtime exited"); i >= 0 {
			t = firstLine(msg[i:])
		}
		return PlatformRuntimeExit, "Runtime.ExitError", "Runtime.ExitError: " + t
	}
	return "", "", ""
}

// mentionsPlatform reports whether msg holds one of the markers some branch of
// platformText needs ("REPORT", "Task timed out", "Memory Size: ", "Runtime
// exited" or "Runtime." and one of platformRuntimeTypes): without one
// platformText finds nothing, so the usual message ("at Runtime.handler ..." of
// every Node trace included) is passed over in one pass over its 'R's and two
// searches instead of a dozen (FuzzMentionsPlatform checks it against the
// ungated platformText).
func mentionsPlatform(msg string) bool {
	for i := 0; ; {
		j := strings.IndexByte(msg[i:], 'R')
		if j < 0 {
			break
		}
		i += j
		rest := msg[i:]
		if strings.HasPrefix(rest, "REPORT") || strings.HasPrefix(rest, "Runtime exited") {
			return true
		}
		if r, ok := strings.CutPrefix(rest, "Runtime."); ok {
			for _, t := range platformRuntimeTypes {
				if strings.HasPrefix(r, t) {
					return true
				}
			}
		}
		i++
	}
	return strings.Contains(msg, "Task timed out") || strings.Contains(msg, "Memory Size: ")
}

// platformRuntimeTypes are the "Runtime." error types platformText looks for.
var platformRuntimeTypes = [...]string{
	"ImportModuleError", "HandlerNotFound", "UserCodeSyntaxError", "MalformedHandlerName",
	"InvalidEntrypoint", "InitError", "OutOfMemory", "ExitError",
}

// memoryExhausted reports a REPORT line whose Max Memory Used reached the
// Memory Size.
func memoryExhausted(msg string) bool {
	size, ok1 := atoi(firstWord(afterLabel(msg, "Memory Size: ")))
	used, ok2 := atoi(firstWord(afterLabel(msg, "Max Memory Used: ")))
	return ok1 && ok2 && size > 0 && used >= size
}

// afterLabel returns the text after label up to the next tab or line break.
func afterLabel(msg, label string) string {
	i := strings.Index(msg, label)
	if i < 0 {
		return ""
	}
	rest := msg[i+len(label):]
	if j := strings.IndexAny(rest, "\t\n"); j >= 0 {
		rest = rest[:j]
	}
	return strings.TrimSpace(rest)
}

func firstWord(s string) string {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i]
	}
	return s
}

// functionName returns the Lambda function name of a log group
// ("/aws/lambda/<name>"), or the log group itself.
func functionName(logGroup string) string {
	if rest, ok := strings.CutPrefix(logGroup, "/aws/lambda/"); ok {
		return rest
	}
	return logGroup
}

// isTimeoutSeconds reports whether s starts with the platform's "3.00 seconds".
func isTimeoutSeconds(s string) bool {
	i := 0
	for i < len(s) && (isDigit(s[i]) || s[i] == '.') {
		i++
	}
	return i > 0 && strings.HasPrefix(s[i:], " seconds")
}
