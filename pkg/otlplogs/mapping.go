package otlplogs

import (
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
func Exception(message, logGroup string) (typ, msg, stack string) {
	r := grouping.Analyze(message, logGroup)
	if len(r.Chain) == 0 {
		return "", "", ""
	}
	top := r.Chain[0]
	var b strings.Builder
	for i, e := range r.Chain {
		if i > 0 {
			b.WriteString("Caused by: ")
		}
		b.WriteString(e.Type)
		if e.Message != "" {
			if e.Type != "" {
				b.WriteString(": ")
			}
			b.WriteString(e.Message)
		}
		b.WriteByte('\n')
		for _, f := range e.Frames {
			b.WriteString("    at ")
			b.WriteString(f.String())
			b.WriteByte('\n')
		}
	}
	return top.Type, top.Message, strings.TrimSuffix(b.String(), "\n")
}
