package deploytest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

// TestCfnLint runs cfn-lint on the SAM template and the user-side templates, as `make lint`
// does: any error or warning fails.
func TestCfnLint(t *testing.T) {
	bin := lookTool(t, "cfn-lint", "install it with `pip install cfn-lint`", true)
	root := repoRoot(t)
	files := []string{"template.yaml"}
	more, err := filepath.Glob(filepath.Join(root, "deploy", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range more {
		rel, err := filepath.Rel(root, f)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, rel)
	}
	if len(files) < 2 {
		t.Fatalf("no deploy/*.yaml next to template.yaml: found %v", files)
	}
	out, stderr, err := tryRunIn(root, bin, files...)
	if err != nil {
		t.Fatalf("cfn-lint %v: %v\n%s%s", files, err, out, stderr)
	}
}

// cfn is a CloudFormation template as JSON decodes it.
type cfn struct {
	Parameters map[string]map[string]any `json:"Parameters"`
	Conditions map[string]any            `json:"Conditions"`
	Mappings   map[string]any            `json:"Mappings"`
	Resources  map[string]cfnResource    `json:"Resources"`
	Outputs    map[string]struct {
		Value any `json:"Value"`
	} `json:"Outputs"`
}

type cfnResource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
	Metadata   map[string]any `json:"Metadata"`
}

func ref(name string) any { return map[string]any{"Ref": name} }

func getAtt(res, attr string) any { return map[string]any{"Fn::GetAtt": []any{res, attr}} }

// transformed is template.yaml's SAM transform, run once per test process (four tests read it;
// each decodes its own copy).
var transformed struct {
	sync.Mutex
	out []byte
}

// samTransform runs the SAM transform offline (testdata/sam_transform.py, with the
// aws-sam-translator that cfn-lint installs) and decodes the CloudFormation it produces.
func samTransform(t *testing.T) cfn {
	t.Helper()
	transformed.Lock()
	defer transformed.Unlock()
	if transformed.out == nil {
		py := lookTool(t, "python3", "install Python 3 and `pip install cfn-lint` (it brings aws-sam-translator)", true)
		if _, stderr, err := tryRunIn(".", py, "-c", "import samtranslator"); err != nil {
			msg := fmt.Sprintf("aws-sam-translator is not importable (%v: %s): `pip install cfn-lint` installs it", err, stderr)
			if os.Getenv(requireEnv) != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
		root := repoRoot(t)
		transformed.out = runIn(t, root, py, filepath.Join("internal", "testkit", "deploytest", "testdata", "sam_transform.py"), "template.yaml")
	}
	out := transformed.out
	var c cfn
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatalf("decode the transformed template: %v", err)
	}
	return c
}

func (c cfn) resource(t *testing.T, name, typ string) cfnResource {
	t.Helper()
	r, ok := c.Resources[name]
	if !ok {
		t.Fatalf("no resource %s in the transformed template", name)
	}
	if r.Type != typ {
		t.Fatalf("%s is a %s, want %s", name, r.Type, typ)
	}
	return r
}

// number reads a numeric property: a literal, or a Ref to a parameter's Default.
func (c cfn) number(t *testing.T, v any) float64 {
	t.Helper()
	switch x := v.(type) {
	case float64:
		return x
	case string:
		var f float64
		if _, err := fmt.Sscan(x, &f); err != nil {
			t.Fatalf("%q is not a number", x)
		}
		return f
	case map[string]any:
		if name, ok := x["Ref"].(string); ok {
			if p, ok := c.Parameters[name]; ok {
				return c.number(t, p["Default"])
			}
		}
	}
	t.Fatalf("%#v is neither a number nor a Ref to a parameter", v)
	return 0
}

func TestSAMTransform(t *testing.T) {
	c := samTransform(t)
	root := repoRoot(t)

	t.Run("both functions are Go on provided.al2023 arm64, built by the Makefile", func(t *testing.T) {
		makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
		if err != nil {
			t.Fatal(err)
		}
		for _, fn := range allFunctions() {
			r := c.resource(t, fn, "AWS::Lambda::Function")
			p := r.Properties
			if p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" ||
				!reflect.DeepEqual(p["Architectures"], []any{"arm64"}) {
				t.Errorf("%s: Runtime %v Handler %v Architectures %v, want provided.al2023, bootstrap, [arm64]",
					fn, p["Runtime"], p["Handler"], p["Architectures"])
			}
			if r.Metadata["BuildMethod"] != "makefile" {
				t.Errorf("%s: Metadata.BuildMethod = %v, want makefile", fn, r.Metadata["BuildMethod"])
			}
			if !regexp.MustCompile(`(?m)^build-` + fn + `:`).Match(makefile) {
				t.Errorf("Makefile has no build-%s target, which `sam build` runs", fn)
			}
		}
	})

	t.Run("the LogLevel parameter reaches the lambdacontext logger (AWS_LAMBDA_LOG_LEVEL)", func(t *testing.T) {
		// Lambda sets AWS_LAMBDA_LOG_LEVEL from ApplicationLogLevel, only with JSON log format.
		want := map[string]any{"Fn::FindInMap": []any{"LogLevels", ref("LogLevel"), "Lambda"}}
		for _, fn := range allFunctions() {
			lc, _ := c.resource(t, fn, "AWS::Lambda::Function").Properties["LoggingConfig"].(map[string]any)
			if lc["LogFormat"] != "JSON" || !reflect.DeepEqual(lc["ApplicationLogLevel"], want) {
				t.Errorf("%s LoggingConfig = %v, want JSON with ApplicationLogLevel from LogLevel", fn, lc)
			}
		}
		allowed, _ := c.Parameters["LogLevel"]["AllowedValues"].([]any)
		mapping, _ := c.Mappings["LogLevels"].(map[string]any)
		for _, v := range allowed {
			m, _ := mapping[v.(string)].(map[string]any)
			if lv, _ := m["Lambda"].(string); !slices.Contains([]string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}, lv) {
				t.Errorf("LogLevel %v maps to Lambda level %q", v, lv)
			}
		}
	})

	t.Run("ingest answers within Firehose's 3 minute wait", func(t *testing.T) {
		timeout := c.number(t, c.resource(t, "IngestFunction", "AWS::Lambda::Function").Properties["Timeout"])
		if timeout < 60 || timeout > 120 {
			t.Errorf("ingest Timeout = %v s, want 60-120 (Firehose waits 180 s)", timeout)
		}
	})

	t.Run("Function URL is public (AuthType NONE), buffered, and invocable", func(t *testing.T) {
		url := c.resource(t, "IngestFunctionUrl", "AWS::Lambda::Url").Properties
		if url["AuthType"] != "NONE" || url["InvokeMode"] != "BUFFERED" {
			t.Errorf("Function URL AuthType %v InvokeMode %v, want NONE BUFFERED", url["AuthType"], url["InvokeMode"])
		}
		if !reflect.DeepEqual(url["TargetFunctionArn"], ref("IngestFunction")) {
			t.Errorf("Function URL targets %v, want the ingest function", url["TargetFunctionArn"])
		}
		// Since October 2025 a public URL needs both lambda:InvokeFunctionUrl and
		// lambda:InvokeFunction (InvokedViaFunctionUrl) in the function's resource policy.
		var urlPerm, invokePerm bool
		for _, r := range c.Resources {
			p := r.Properties
			if r.Type != "AWS::Lambda::Permission" || !reflect.DeepEqual(p["FunctionName"], ref("IngestFunction")) || p["Principal"] != "*" {
				continue
			}
			switch p["Action"] {
			case "lambda:InvokeFunctionUrl":
				urlPerm = urlPerm || p["FunctionUrlAuthType"] == "NONE"
			case "lambda:InvokeFunction":
				invokePerm = invokePerm || p["InvokedViaFunctionUrl"] == true
			}
		}
		if !urlPerm || !invokePerm {
			t.Errorf("public permissions: lambda:InvokeFunctionUrl(NONE) %v, lambda:InvokeFunction(InvokedViaFunctionUrl) %v; want both", urlPerm, invokePerm)
		}
	})

	t.Run("grouper's SQS trigger reports batch item failures, batch size and window are parameters", func(t *testing.T) {
		var found bool
		for name, r := range c.Resources {
			p := r.Properties
			if r.Type != "AWS::Lambda::EventSourceMapping" || !reflect.DeepEqual(p["FunctionName"], ref("GrouperFunction")) {
				continue
			}
			found = true
			if !reflect.DeepEqual(p["EventSourceArn"], getAtt("EventQueue", "Arn")) {
				t.Errorf("%s reads %v, want the event queue", name, p["EventSourceArn"])
			}
			types, _ := p["FunctionResponseTypes"].([]any)
			if !slices.Contains(types, any("ReportBatchItemFailures")) {
				t.Errorf("%s FunctionResponseTypes = %v, want ReportBatchItemFailures", name, p["FunctionResponseTypes"])
			}
			for prop, param := range map[string]string{"BatchSize": "GrouperBatchSize", "MaximumBatchingWindowInSeconds": "GrouperBatchingWindow"} {
				if !reflect.DeepEqual(p[prop], ref(param)) {
					t.Errorf("%s %s = %v, want the parameter %s", name, prop, p[prop], param)
				}
			}
		}
		if !found {
			t.Fatal("no event source mapping for the grouper")
		}
	})

	t.Run("queue hides a message for 6x the grouper timeout plus the batching window and redrives to the DLQ", func(t *testing.T) {
		q := c.resource(t, "EventQueue", "AWS::SQS::Queue").Properties
		grouperTimeout := c.number(t, c.resource(t, "GrouperFunction", "AWS::Lambda::Function").Properties["Timeout"])
		window := c.number(t, c.Parameters["GrouperBatchingWindow"]["MaxValue"])
		if vis := c.number(t, q["VisibilityTimeout"]); vis < 6*grouperTimeout+window {
			t.Errorf("VisibilityTimeout %v < 6 x grouper timeout %v + max batching window %v", vis, grouperTimeout, window)
		}
		rp, _ := q["RedrivePolicy"].(map[string]any)
		if !reflect.DeepEqual(rp["deadLetterTargetArn"], getAtt("DeadLetterQueue", "Arn")) {
			t.Errorf("RedrivePolicy.deadLetterTargetArn = %v, want the DLQ", rp["deadLetterTargetArn"])
		}
		if !reflect.DeepEqual(rp["maxReceiveCount"], ref("MaxReceiveCount")) || c.number(t, rp["maxReceiveCount"]) != 5 {
			t.Errorf("RedrivePolicy.maxReceiveCount = %v, want the MaxReceiveCount parameter (default 5)", rp["maxReceiveCount"])
		}
		dlq := c.resource(t, "DeadLetterQueue", "AWS::SQS::Queue").Properties
		if got := c.number(t, dlq["MessageRetentionPeriod"]); got != 14*24*3600 {
			t.Errorf("DLQ retention %v s, want 14 days", got)
		}
	})

	t.Run("an alarm fires when the DLQ holds a message", func(t *testing.T) {
		a := c.resource(t, "DeadLetterAlarm", "AWS::CloudWatch::Alarm").Properties
		dims, _ := a["Dimensions"].([]any)
		want := []any{map[string]any{"Name": "QueueName", "Value": getAtt("DeadLetterQueue", "QueueName")}}
		if a["Namespace"] != "AWS/SQS" || a["MetricName"] != "ApproximateNumberOfMessagesVisible" ||
			a["ComparisonOperator"] != "GreaterThanThreshold" || c.number(t, a["Threshold"]) != 0 || !reflect.DeepEqual(dims, want) {
			t.Errorf("alarm = %v, want AWS/SQS ApproximateNumberOfMessagesVisible > 0 on the DLQ", a)
		}
	})

	t.Run("tables are on demand, encrypted, recoverable, keyed as the stores expect, with TTL where items expire", func(t *testing.T) {
		cases := []struct {
			table, hash, ttl string
			gsi              map[string]any
		}{
			{table: "DrainsTable", hash: "id"},
			{table: "ClaimsTable", hash: "pk", ttl: "expires_at"},
			{table: "ProblemsTable", hash: "pk", ttl: "expires_at", gsi: map[string]any{
				"IndexName": "byScope",
				"KeySchema": []any{
					map[string]any{"AttributeName": "scope", "KeyType": "HASH"},
					map[string]any{"AttributeName": "lastSeen", "KeyType": "RANGE"},
				},
				"Projection": map[string]any{"ProjectionType": "ALL"},
			}},
		}
		for _, tc := range cases {
			p := c.resource(t, tc.table, "AWS::DynamoDB::Table").Properties
			if p["BillingMode"] != "PAY_PER_REQUEST" {
				t.Errorf("%s BillingMode %v", tc.table, p["BillingMode"])
			}
			if !reflect.DeepEqual(p["KeySchema"], []any{map[string]any{"AttributeName": tc.hash, "KeyType": "HASH"}}) {
				t.Errorf("%s KeySchema %v, want hash %s", tc.table, p["KeySchema"], tc.hash)
			}
			if !reflect.DeepEqual(p["PointInTimeRecoverySpecification"], map[string]any{"PointInTimeRecoveryEnabled": true}) {
				t.Errorf("%s has no point-in-time recovery: %v", tc.table, p["PointInTimeRecoverySpecification"])
			}
			if !reflect.DeepEqual(p["SSESpecification"], map[string]any{"SSEEnabled": true}) {
				t.Errorf("%s SSESpecification %v", tc.table, p["SSESpecification"])
			}
			var wantTTL any
			if tc.ttl != "" {
				wantTTL = map[string]any{"AttributeName": tc.ttl, "Enabled": true}
			}
			if !reflect.DeepEqual(p["TimeToLiveSpecification"], wantTTL) {
				t.Errorf("%s TimeToLiveSpecification %v, want %v", tc.table, p["TimeToLiveSpecification"], wantTTL)
			}
			// The whole set of indexes is the store's (TestTemplateTablesAreTheStoresTables);
			// here, the one the ingest path's store depends on is there.
			gsis, _ := p["GlobalSecondaryIndexes"].([]any)
			switch {
			case tc.gsi == nil && len(gsis) > 0:
				t.Errorf("%s GlobalSecondaryIndexes %v, want none", tc.table, gsis)
			case tc.gsi != nil && !slices.ContainsFunc(gsis, func(g any) bool { return reflect.DeepEqual(g, tc.gsi) }):
				t.Errorf("%s GlobalSecondaryIndexes %v, want %v among them", tc.table, gsis, tc.gsi)
			}
		}
	})

	t.Run("the pepper is a generated 64-character secret", func(t *testing.T) {
		g, _ := c.resource(t, "PepperSecret", "AWS::SecretsManager::Secret").Properties["GenerateSecretString"].(map[string]any)
		if c.number(t, g["PasswordLength"]) != 64 || g["ExcludePunctuation"] != true || g["SecretStringTemplate"] != nil {
			t.Errorf("GenerateSecretString = %v, want a plain 64-character string without punctuation", g)
		}
	})

	t.Run("every environment variable a function reads is set to the right resource", func(t *testing.T) {
		for _, fn := range allFunctions() {
			env, _ := c.resource(t, fn, "AWS::Lambda::Function").Properties["Environment"].(map[string]any)
			vars, _ := env["Variables"].(map[string]any)
			names, from := envNamesRead(t, root, fn)
			t.Logf("%s reads %v (%s)", fn, names, from)
			for _, name := range names {
				got, ok := vars[name]
				if !ok && slices.Contains(optionalEnv(fn), name) {
					continue
				}
				if !ok {
					t.Errorf("%s reads %s, which the template does not set", fn, name)
					continue
				}
				want, known := envValuesOf(fn)[name]
				if !known {
					t.Errorf("%s reads %s, which this test does not know: add it to envValues", fn, name)
					continue
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s %s = %v, want %v", fn, name, got, want)
				}
			}
			for name := range vars {
				if !slices.Contains(names, name) {
					t.Errorf("%s sets %s, which the function does not read", fn, name)
				}
			}
		}
	})

	t.Run("each role allows exactly the calls its function makes, on the right resources", func(t *testing.T) {
		for fn, want := range requiredGrants() {
			f := c.resource(t, fn, "AWS::Lambda::Function").Properties
			roleName := roleOf(t, f["Role"])
			role := c.resource(t, roleName, "AWS::IAM::Role").Properties
			if role["ManagedPolicyArns"] != nil {
				t.Errorf("%s attaches managed policies %v: their grants are not scoped to this stack", roleName, role["ManagedPolicyArns"])
			}
			for name, r := range c.Resources {
				if (r.Type == "AWS::IAM::Policy" || r.Type == "AWS::IAM::ManagedPolicy") && strings.Contains(fmt.Sprint(r.Properties["Roles"]), roleName) {
					t.Errorf("%s attaches more permissions to %s", name, roleName)
				}
			}
			if lc, _ := f["LoggingConfig"].(map[string]any); !reflect.DeepEqual(lc["LogGroup"], want.logGroup) {
				t.Errorf("%s logs to %v, but its role may only write to %v", fn, lc["LogGroup"], want.logGroup)
			}
			allowed := allowedGrants(t, roleName, role)
			need := map[grantKey]bool{}
			for _, g := range want.grants {
				need[g.key()] = true
				if !allowed[g.key()] {
					t.Errorf("%s calls %s on %v, which its role %s does not allow", fn, g.action, g.resource, roleName)
				}
			}
			for g := range allowed {
				if !need[g] {
					t.Errorf("%s's role allows %s on %s, which the function does not need", fn, g.action, g.resource)
				}
			}
		}
	})

	t.Run("outputs name every resource the CLI needs", func(t *testing.T) {
		want := map[string]any{
			"FunctionUrl":         getAtt("IngestFunctionUrl", "FunctionUrl"),
			"EndpointPattern":     map[string]any{"Fn::Sub": "${IngestFunctionUrl.FunctionUrl}aws/firehose/{drainId}"},
			"IngestFunctionName":  ref("IngestFunction"),
			"GrouperFunctionName": ref("GrouperFunction"),
			"DrainsTableName":     ref("DrainsTable"),
			"ClaimsTableName":     ref("ClaimsTable"),
			"ProblemsTableName":   ref("ProblemsTable"),
			"QueueUrl":            ref("EventQueue"),
			"DeadLetterQueueUrl":  ref("DeadLetterQueue"),
			"PepperSecretArn":     ref("PepperSecret"),
		}
		names := make([]string, 0, len(want))
		for n := range want {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			got, ok := c.Outputs[n]
			if !ok {
				t.Errorf("no output %s", n)
				continue
			}
			if !reflect.DeepEqual(got.Value, want[n]) {
				t.Errorf("output %s = %v, want %v", n, got.Value, want[n])
			}
		}
	})
}

// envValues is what each environment variable must hold.
func envValues() map[string]any {
	return map[string]any{
		"AIENT_DRAINS_TABLE":        ref("DrainsTable"),
		"AIENT_CLAIMS_TABLE":        ref("ClaimsTable"),
		"AIENT_PROBLEMS_TABLE":      ref("ProblemsTable"),
		"AIENT_GROUPING_TRANSITION": "on",
		"AIENT_QUEUE_URL":           ref("EventQueue"),
		"AIENT_PEPPER_SECRET_ID":    ref("PepperSecret"),
		"AIENT_ALERT_SECRET_PREFIX": map[string]any{"Fn::Sub": "${AWS::StackName}/alerts/"},
		"AIENT_CONSOLE_URL":         ref("ConsoleUrl"),
		// Optional: unset unless the ClaimLease parameter is given, so the code's default holds.
		"AIENT_CLAIM_LEASE": map[string]any{"Fn::If": []any{"HasClaimLease", ref("ClaimLease"), ref("AWS::NoValue")}},
		// The OTLP logs export (issue 10): set only when the stack has an endpoint; the headers
		// come from a secret, never from a plain variable.
		"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": map[string]any{"Fn::If": []any{"HasOtlpEndpoint", ref("OtlpLogsEndpoint"), ref("AWS::NoValue")}},
		"OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": map[string]any{"Fn::If": []any{"HasOtlpEndpoint", ref("OtlpLogsProtocol"), ref("AWS::NoValue")}},
		"AIENT_OTLP_HEADERS_SECRET_ID":     map[string]any{"Fn::If": []any{"HasOtlpHeadersSecret", ref("OtlpHeadersSecretArn"), ref("AWS::NoValue")}},
	}
}

// notLambdaEnv are variables of the CLI and the tests, which a function's dependencies may
// mention without the function reading them on Lambda.
func notLambdaEnv() []string {
	return []string{"AIENT_DATA", "AIENT_REQUIRE_MOTO", "AIENT_BACKEND", "AIENT_ENDPOINT", "AIENT_ENDPOINT_BASE", "AIENT_KEY"}
}

// envNamesRead lists the AIENT_* variables that the function's Go source reads: the string
// literals in the non-test files of every package of this module it is built from.
func envNamesRead(t *testing.T, root, fn string) (names []string, from string) {
	t.Helper()
	pkg := functionPackage(fn)
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command to list %s: %v", pkg, err)
	}
	out, stderr, err := tryRunIn(root, goBin, "list", "-e", "-tags", "lambda.norpc", "-deps",
		"-f", `{{if not .Standard}}{{.Dir}}{{range .GoFiles}} {{.}}{{end}}{{end}}`, pkg)
	if err != nil {
		t.Fatalf("go list %s: %v %s", pkg, err, strings.TrimSpace(string(stderr)))
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 || !strings.HasPrefix(fields[0], root+string(filepath.Separator)) {
			continue // another module's package
		}
		for _, f := range fields[1:] {
			src, err := os.ReadFile(filepath.Join(fields[0], f))
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range regexp.MustCompile(`"((?:AIENT|OTEL_EXPORTER_OTLP)_[A-Z0-9_]+)"`).FindAllSubmatch(src, -1) {
				if name := string(m[1]); !slices.Contains(notLambdaEnv(), name) {
					seen[name] = true
				}
			}
		}
	}
	if len(seen) == 0 {
		t.Fatalf("%s reads no AIENT_ variable: the source scan is broken", pkg)
	}
	// The OTEL_EXPORTER_OTLP_* constants live in pkg/otlplogs, which every function links
	// (through pkg/ingest); only a function whose main wires the exporter reads them.
	if !mainUses(t, root, pkg, "otlplogs.") {
		for n := range seen {
			if strings.HasPrefix(n, "OTEL_") {
				delete(seen, n)
			}
		}
	}
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, "from the source of " + pkg + " and its packages"
}

// grant is one action allowed on one resource (an intrinsic, printed).
type grant struct {
	action   string
	resource any
}

type grantKey struct{ action, resource string }

func (g grant) key() grantKey { return grantKey{g.action, fmt.Sprint(g.resource)} }

type roleWant struct {
	logGroup any
	grants   []grant
}

func grants(resource any, actions ...string) []grant {
	out := make([]grant, len(actions))
	for i, a := range actions {
		out[i] = grant{a, resource}
	}
	return out
}

// requiredGrants is every AWS call each function makes (and the Lambda service makes for
// it: logs, the SQS trigger), on its resource. Nothing else may be allowed.
func requiredGrants() map[string]roleWant {
	return map[string]roleWant{
		"IngestFunction": {
			logGroup: ref("IngestLogGroup"),
			grants: slices.Concat(
				grants(getAtt("IngestLogGroup", "Arn"), "logs:CreateLogStream", "logs:PutLogEvents"),
				grants(getAtt("DrainsTable", "Arn"), "dynamodb:GetItem", "dynamodb:UpdateItem"),
				grants(getAtt("ClaimsTable", "Arn"), "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
				grants(getAtt("EventQueue", "Arn"), "sqs:SendMessage"),
				grants(ref("PepperSecret"), "secretsmanager:GetSecretValue"),
				// Only when the stack exports OTLP logs with headers (HasOtlpHeadersSecret).
				grants(ref("OtlpHeadersSecretArn"), "secretsmanager:GetSecretValue"),
			),
		},
		"KinesisSourceFunction": sourceGrants("Kinesis",
			grants(ref("KinesisStreamArn"), "kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
				"kinesis:GetShardIterator", "kinesis:ListShards", "kinesis:SubscribeToShard")),
		"S3SourceFunction": sourceGrants("S3",
			grants(map[string]any{"Fn::Sub": "arn:${AWS::Partition}:s3:::${S3BucketName}/${S3Prefix}*"}, "s3:GetObject")),
		"SubscriptionSourceFunction": sourceGrants("Subscription", nil),
		"GrouperFunction": {
			logGroup: ref("GrouperLogGroup"),
			grants: slices.Concat(
				grants(getAtt("GrouperLogGroup", "Arn"), "logs:CreateLogStream", "logs:PutLogEvents"),
				grants(getAtt("EventQueue", "Arn"), "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"),
				// TransactWriteItems is authorised per item action; BatchGetItem reads the times;
				// GetItem looks up the version-1 problem an event belongs to during the
				// grouping version transition.
				grants(getAtt("ProblemsTable", "Arn"), "dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"),
				// The orgs' grouping rules (GetItem) and the drains' counters.ignored (UpdateItem ADD).
				grants(getAtt("DrainsTable", "Arn"), "dynamodb:GetItem", "dynamodb:UpdateItem"),
			),
		},
		"AlertsFunction": {
			logGroup: ref("AlertsLogGroup"),
			grants: slices.Concat(
				grants(getAtt("AlertsLogGroup", "Arn"), "logs:CreateLogStream", "logs:PutLogEvents"),
				// The stream trigger (the Lambda service, with the function's role).
				grants(getAtt("ProblemsTable", "StreamArn"), "dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"),
				grants(getAtt("ProblemsTable", "Arn"), "dynamodb:BatchGetItem", "dynamodb:UpdateItem"),
				grants(alertsDestinationIndex(), "dynamodb:Query"),
				grants(alertSecrets(), "secretsmanager:GetSecretValue"),
				grants(ref("AlertTopic"), "sns:Publish"),
				grants(getAtt("AlertsDeadLetterQueue", "Arn"), "sqs:SendMessage"),
			),
		},
	}
}

// alertsDestinationIndex is the index the alerts function lists destinations by.
func alertsDestinationIndex() any {
	return map[string]any{"Fn::Sub": "${ProblemsTable.Arn}/index/byProblem"}
}

// alertSecrets are the destination secrets `aient alerts add` creates under the stack's prefix.
func alertSecrets() any {
	return map[string]any{"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${AWS::StackName}/alerts/*"}
}

func roleOf(t *testing.T, v any) string {
	t.Helper()
	m, _ := v.(map[string]any)
	ga, _ := m["Fn::GetAtt"].([]any)
	if len(ga) != 2 || ga[1] != "Arn" {
		t.Fatalf("function Role = %v, want Fn::GetAtt [<role>, Arn]", v)
	}
	name, _ := ga[0].(string)
	return name
}

// allowedGrants expands the role's inline policies into (action, resource) pairs, failing
// on anything that cannot be checked that way: wildcards, NotAction, NotResource, Deny.
func allowedGrants(t *testing.T, roleName string, role map[string]any) map[grantKey]bool {
	t.Helper()
	assume, _ := role["AssumeRolePolicyDocument"].(map[string]any)
	wantAssume := []any{map[string]any{"Effect": "Allow", "Principal": map[string]any{"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}}
	if !reflect.DeepEqual(assume["Statement"], wantAssume) {
		t.Errorf("%s trust policy %v, want lambda.amazonaws.com only", roleName, assume["Statement"])
	}
	out := map[grantKey]bool{}
	policies, _ := role["Policies"].([]any)
	for _, p := range policies {
		doc, _ := p.(map[string]any)["PolicyDocument"].(map[string]any)
		stmts, _ := doc["Statement"].([]any)
		for _, s := range stmts {
			st, _ := s.(map[string]any)
			if f, ok := st["Fn::If"].([]any); ok {
				// A statement that only some stacks have: checked as if present.
				if len(f) != 3 || !reflect.DeepEqual(f[2], ref("AWS::NoValue")) {
					t.Errorf("%s statement %v: Fn::If [condition, statement, AWS::NoValue] expected", roleName, st)
				}
				st, _ = f[1].(map[string]any)
			}
			for _, k := range []string{"NotAction", "NotResource", "NotPrincipal"} {
				if st[k] != nil {
					t.Errorf("%s statement %v uses %s", roleName, st, k)
				}
			}
			if st["Effect"] != "Allow" {
				t.Errorf("%s statement %v: Effect %v, want Allow", roleName, st, st["Effect"])
				continue
			}
			for _, a := range asList(st["Action"]) {
				action, _ := a.(string)
				if action == "" || strings.Contains(action, "*") {
					t.Errorf("%s allows a wildcard or non-literal action %v", roleName, a)
				}
				for _, r := range asList(st["Resource"]) {
					if s, ok := r.(string); ok && strings.Contains(s, "*") {
						t.Errorf("%s allows %s on a wildcard resource %q", roleName, action, s)
					}
					out[grant{action, r}.key()] = true
				}
			}
		}
	}
	return out
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// mainUses reports whether the non-test Go files of the package directory pkg (./functions/x)
// mention what.
func mainUses(t *testing.T, root, pkg, what string) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(pkg, "./")), "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files for %s (%v)", pkg, err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(src), what) {
			return true
		}
	}
	return false
}
