package deploytest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestSourceFirehoseTemplate checks the user-side CloudFormation template for what the
// product promises: the drain's URL and a hidden key, request encoding NONE or GZIP,
// buffering that fits the Function URL's 6 MB limit, retries, S3 backup of failed data
// only, and subscription filters that emit the account and region.
func TestSourceFirehoseTemplate(t *testing.T) {
	py := lookTool(t, "python3", "install Python 3 and `pip install cfn-lint`", true)
	root := repoRoot(t)
	out := runIn(t, root, py, filepath.Join("internal", "testkit", "deploytest", "testdata", "sam_transform.py"),
		"--parse-only", filepath.Join("deploy", "source-firehose.yaml"))
	var c cfn
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatalf("decode deploy/source-firehose.yaml: %v", err)
	}

	t.Run("the access key is a NoEcho parameter", func(t *testing.T) {
		if c.Parameters["AccessKey"]["NoEcho"] != true {
			t.Errorf("AccessKey parameter = %v, want NoEcho", c.Parameters["AccessKey"])
		}
	})
	t.Run("content encoding is NONE or GZIP, NONE by default", func(t *testing.T) {
		p := c.Parameters["ContentEncoding"]
		if p["Default"] != "NONE" || !reflect.DeepEqual(p["AllowedValues"], []any{"NONE", "GZIP"}) {
			t.Errorf("ContentEncoding parameter = %v", p)
		}
	})
	t.Run("buffering is at most 3 MiB, 1 by default", func(t *testing.T) {
		p := c.Parameters["BufferingSizeMiB"]
		allowed, _ := p["AllowedValues"].([]any)
		for _, v := range allowed {
			if c.number(t, v) > 3 {
				t.Errorf("BufferingSizeMiB allows %v MiB: a delivery would not fit the 6 MB Function URL limit", v)
			}
		}
		if len(allowed) == 0 || c.number(t, p["Default"]) != 1 {
			t.Errorf("BufferingSizeMiB = %v, want AllowedValues <= 3 and Default 1", p)
		}
	})

	stream := c.resource(t, "DeliveryStream", "AWS::KinesisFirehose::DeliveryStream").Properties
	http, _ := stream["HttpEndpointDestinationConfiguration"].(map[string]any)
	t.Run("the stream posts to the drain with its key, retries 300 s, and backs up failed data only", func(t *testing.T) {
		want := map[string]any{
			"EndpointConfiguration.Url":            ref("EndpointUrl"),
			"EndpointConfiguration.AccessKey":      ref("AccessKey"),
			"RequestConfiguration.ContentEncoding": ref("ContentEncoding"),
			"BufferingHints.SizeInMBs":             ref("BufferingSizeMiB"),
			"RetryOptions.DurationInSeconds":       ref("RetryDurationSeconds"),
			"S3BackupMode":                         "FailedDataOnly",
		}
		for path, w := range want {
			if got := dig(http, path); !reflect.DeepEqual(got, w) {
				t.Errorf("HttpEndpointDestinationConfiguration.%s = %v, want %v", path, got, w)
			}
		}
		if c.number(t, c.Parameters["RetryDurationSeconds"]["Default"]) != 300 {
			t.Errorf("RetryDurationSeconds default %v, want 300", c.Parameters["RetryDurationSeconds"]["Default"])
		}
		if !reflect.DeepEqual(dig(http, "S3Configuration.BucketARN"), getAtt("BackupBucket", "Arn")) {
			t.Errorf("backup goes to %v, want the template's bucket", dig(http, "S3Configuration.BucketARN"))
		}
	})
	t.Run("every log group parameter has a subscription filter that emits account and region", func(t *testing.T) {
		var params []string
		for name := range c.Parameters {
			if strings.HasPrefix(name, "LogGroupName") {
				params = append(params, name)
			}
		}
		if len(params) == 0 {
			t.Fatal("no LogGroupName parameters")
		}
		for _, p := range params {
			var found bool
			for name, r := range c.Resources {
				if r.Type != "AWS::Logs::SubscriptionFilter" || !reflect.DeepEqual(r.Properties["LogGroupName"], ref(p)) {
					continue
				}
				found = true
				fields, _ := r.Properties["EmitSystemFields"].([]any)
				if !slices.Contains(fields, any("@aws.account")) || !slices.Contains(fields, any("@aws.region")) {
					t.Errorf("%s EmitSystemFields = %v, want @aws.account and @aws.region", name, fields)
				}
				if !reflect.DeepEqual(r.Properties["DestinationArn"], getAtt("DeliveryStream", "Arn")) ||
					!reflect.DeepEqual(r.Properties["RoleArn"], getAtt("LogsToFirehoseRole", "Arn")) {
					t.Errorf("%s sends to %v as %v", name, r.Properties["DestinationArn"], r.Properties["RoleArn"])
				}
			}
			if !found {
				t.Errorf("log group parameter %s has no subscription filter", p)
			}
		}
	})
}

// dig follows a dotted path through nested maps.
func dig(m map[string]any, path string) any {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

// TestTerraformFormatted runs `terraform fmt -check` on deploy/terraform (terraform init
// needs the registry, so validate is not run here).
func TestTerraformFormatted(t *testing.T) {
	bin := lookTool(t, "terraform", "install Terraform to check deploy/terraform", false)
	root := repoRoot(t)
	if out, stderr, err := tryRunIn(root, bin, "fmt", "-check", "-recursive", filepath.Join("deploy", "terraform")); err != nil {
		t.Fatalf("terraform fmt -check: %v: files not formatted:\n%s%s", err, out, stderr)
	}
}

// TestTerraformKeepsTheProductsPromises reads the Terraform source for the settings the
// product guide promises, adapted: variables for the URL, a sensitive key, log groups,
// content encoding NONE|GZIP, and buffering validated to at most 3 MiB.
func TestTerraformKeepsTheProductsPromises(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "deploy", "terraform")
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Terraform in %s: %v", dir, err)
	}
	var src strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src.Write(b)
		src.WriteByte('\n')
	}
	s := src.String()
	cases := []struct{ name, pattern string }{
		{"endpoint URL variable", `variable "aient_firehose_endpoint_url"`},
		{"sensitive access key", `(?s)variable "aient_firehose_access_key" \{[^}]*sensitive\s*=\s*true`},
		{"log group names variable", `variable "cloudwatch_log_group_names"`},
		{"content encoding validated NONE|GZIP", `contains\(\["NONE", "GZIP"\], var\.content_encoding\)`},
		{"buffering validated to at most 3 MiB", `var\.buffering_size <= 3`},
		{"request encoding from the variable", `content_encoding\s*=\s*var\.content_encoding`},
		{"buffering from the variable", `buffering_size\s*=\s*var\.buffering_size`},
		{"S3 backup of failed data only", `s3_backup_mode\s*=\s*"FailedDataOnly"`},
		{"subscription filters emit account and region", `emit_system_fields\s*=\s*\["@aws.account", "@aws.region"\]`},
		{"one filter per log group", `for_each\s*=\s*var\.cloudwatch_log_group_names`},
	}
	for _, tc := range cases {
		if !regexp.MustCompile(tc.pattern).MatchString(s) {
			t.Errorf("%s: no match for %s", tc.name, tc.pattern)
		}
	}
}
