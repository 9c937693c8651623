package deploytest

import (
	"slices"
	"strings"
)

// The source functions (template.yaml, functions/sources): one binary, one function per
// kind, each optional and with its own role.

// sourceFunctions are the logical ids of the source functions, by kind.
var sourceFunctions = map[string]string{
	"kinesis":      "KinesisSourceFunction",
	"s3":           "S3SourceFunction",
	"subscription": "SubscriptionSourceFunction",
}

// allFunctions lists every function of template.yaml.
func allFunctions() []string {
	return []string{"IngestFunction", "GrouperFunction", "AlertsFunction", "KinesisSourceFunction", "S3SourceFunction", "SubscriptionSourceFunction"}
}

// functionPackage is the Go package a function is built from.
func functionPackage(fn string) string {
	if strings.HasSuffix(fn, "SourceFunction") {
		return "./functions/sources"
	}
	return "./functions/" + strings.ToLower(strings.TrimSuffix(fn, "Function"))
}

// envValuesOf is what each environment variable of fn must hold.
func envValuesOf(fn string) map[string]any {
	v := envValues()
	name, ok := strings.CutSuffix(fn, "SourceFunction")
	if !ok {
		return v
	}
	for kind, f := range sourceFunctions {
		if f == fn {
			v["AIENT_SOURCE_KIND"] = kind
		}
	}
	v["AIENT_DRAIN_ID"] = ref(name + "DrainId")
	v["AIENT_S3_PREFIX"] = ref("S3Prefix")
	return v
}

// optionalEnv are the variables fn's binary reads that only some kinds need.
func optionalEnv(fn string) []string {
	// The OpenTelemetry SDK's variables the exporter understands but the template leaves
	// unset: their defaults (and the headers, which on AWS come from the secret). The
	// ingest and every source export.
	otel := []string{
		"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_HEADERS",
		"OTEL_EXPORTER_OTLP_LOGS_HEADERS", "OTEL_EXPORTER_OTLP_COMPRESSION", "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION",
		"OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
	}
	if fn == "IngestFunction" {
		return otel
	}
	if strings.HasSuffix(fn, "SourceFunction") && fn != "S3SourceFunction" {
		return append(otel, "AIENT_S3_PREFIX")
	}
	if fn == "S3SourceFunction" {
		return otel
	}
	return nil
}

// sourceGrants is what every source function's role must allow, plus the kind's own.
func sourceGrants(name string, own []grant) roleWant {
	return roleWant{
		logGroup: ref(name + "SourceLogGroup"),
		grants: slices.Concat(
			grants(getAtt(name+"SourceLogGroup", "Arn"), "logs:CreateLogStream", "logs:PutLogEvents"),
			grants(getAtt("DrainsTable", "Arn"), "dynamodb:GetItem", "dynamodb:UpdateItem"),
			grants(getAtt("ClaimsTable", "Arn"), "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
			grants(getAtt("EventQueue", "Arn"), "sqs:SendMessage"),
			grants(getAtt("SourceFailureQueue", "Arn"), "sqs:SendMessage"),
			// Only when the stack exports OTLP logs with headers (HasOtlpHeadersSecret).
			grants(ref("OtlpHeadersSecretArn"), "secretsmanager:GetSecretValue"),
			own,
		),
	}
}
