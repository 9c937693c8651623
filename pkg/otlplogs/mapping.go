package otlplogs

import (
	"strconv"
	"strings"

	logspb "go.opentelemetry.io/proto/otlp/logs/v1"

	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/grouping"
)

// The names of the mapping (OpenTelemetry semantic conventions, plus aient.* of our own).
const (
	ScopeName = "firehose-drain"

	AttrEncodingFormat   = "encoding.format"
	EncodingCloudWatch   = "aws.cloudwatch"
	AttrCloudProvider    = "cloud.provider"
	AttrCloudAccountID   = "cloud.account.id"
	AttrCloudRegion      = "cloud.region"
	AttrCloudPlatform    = "cloud.platform"
	PlatformLambda       = "aws_lambda"
	AttrLogGroupNames    = "aws.log.group.names"
	AttrLogStreamNames   = "aws.log.stream.names"
	AttrServiceName      = "service.name"
	AttrFaaSName         = "faas.name"
	AttrFaaSVersion      = "faas.version"
	AttrFaaSInstance     = "faas.instance"
	AttrDeploymentEnv    = "deployment.environment.name"
	AttrOrg              = "aient.org"
	AttrDrainID          = "aient.drain.id"
	AttrLogRecordUID     = "log.record.uid"
	AttrInvocationID     = "faas.invocation_id"
	AttrExceptionType    = "exception.type"
	AttrExceptionMessage = "exception.message"
	AttrExceptionStack   = "exception.stacktrace"
)

// lambdaPrefix starts the log group of every Lambda function.
const lambdaPrefix = "/aws/lambda/"

// Severity maps a level to the OTLP severity number and text: DEBUG 5, INFO 9, WARN 13,
// ERROR 17, FATAL 21, and 0 with no text when the level is unknown.
func Severity(l event.Level) (logspb.SeverityNumber, string) {
	switch l {
	case event.Debug:
		return logspb.SeverityNumber_SEVERITY_NUMBER_DEBUG, "DEBUG"
	case event.Info:
		return logspb.SeverityNumber_SEVERITY_NUMBER_INFO, "INFO"
	case event.Warn:
		return logspb.SeverityNumber_SEVERITY_NUMBER_WARN, "WARN"
	case event.Error:
		return logspb.SeverityNumber_SEVERITY_NUMBER_ERROR, "ERROR"
	case event.Fatal:
		return logspb.SeverityNumber_SEVERITY_NUMBER_FATAL, "FATAL"
	}
	return logspb.SeverityNumber_SEVERITY_NUMBER_UNSPECIFIED, ""
}

// LambdaFunction returns the function name of a /aws/lambda/NAME log group.
func LambdaFunction(logGroup string) (string, bool) {
	name, ok := strings.CutPrefix(logGroup, lambdaPrefix)
	if !ok || name == "" {
		return "", false
	}
	return name, true
}

// LambdaVersion returns the function version a Lambda log stream names:
// "2026/11/20/[$LATEST]0123abcd" -> "$LATEST", "2026/11/20/[7]0123abcd" -> "7".
func LambdaVersion(stream string) string {
	i := strings.IndexByte(stream, '[')
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(stream[i:], ']')
	if j < 2 {
		return ""
	}
	return stream[i+1 : i+j]
}

// ServiceName is the function name for a Lambda log group, else the log group.
func ServiceName(logGroup string) string {
	if fn, ok := LambdaFunction(logGroup); ok {
		return fn
	}
	return logGroup
}

// Exception is what the grouper's extraction says of an error-class message: the type and
// message of the outermost exception and the chain as a stack trace text.
func Exception(message string) (typ, msg, stack string) {
	chain := grouping.Exceptions(message)
	if len(chain) == 0 {
		return "", "", ""
	}
	return chain[0].Type, chain[0].Message, string(appendStack(nil, chain))
}

// appendStack appends the chain as exception.stacktrace reads: each exception as
// "Type: message" (the first after "Caused by: "), each frame on a line of its own after
// "    at ", as Frame.String renders it.
func appendStack(b []byte, chain []grouping.Exception) []byte {
	start := len(b)
	for i, e := range chain {
		if i > 0 {
			b = append(b, "Caused by: "...)
		}
		b = append(b, e.Type...)
		if e.Message != "" {
			if e.Type != "" {
				b = append(b, ": "...)
			}
			b = append(b, e.Message...)
		}
		b = append(b, '\n')
		for _, f := range e.Frames {
			b = append(b, "    at "...)
			b = appendFrame(b, &f)
			b = append(b, '\n')
		}
	}
	if len(b) > start {
		b = b[:len(b)-1] // the last line's newline
	}
	return b
}

// appendFrame appends f as grouping.Frame.String renders it: "function (file:line)".
func appendFrame(b []byte, f *grouping.Frame) []byte {
	where := f.File
	if where == "" {
		where = f.Module
	}
	hasWhere := where != "" || f.Line > 0
	if f.Function != "" {
		b = append(b, f.Function...)
		if !hasWhere {
			return b
		}
		b = append(b, " ("...)
	}
	b = append(b, where...)
	if f.Line > 0 {
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(f.Line), 10)
	}
	if f.Function != "" {
		b = append(b, ')')
	}
	return b
}
