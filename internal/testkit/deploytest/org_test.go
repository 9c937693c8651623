package deploytest

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func parseDeploy(t *testing.T, name string) cfn {
	t.Helper()
	py := lookTool(t, "python3", "install Python 3 and `pip install cfn-lint`", true)
	out := runIn(t, repoRoot(t), py, filepath.Join("internal", "testkit", "deploytest", "testdata", "sam_transform.py"),
		"--parse-only", filepath.Join("deploy", name))
	var c cfn
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatalf("decode deploy/%s: %v", name, err)
	}
	return c
}

// TestOrganizationTemplates checks the whole-organization templates (cfn-lint runs on them
// in TestCfnLint): the central destination admits exactly the organization, CloudWatch Logs
// assumes its role, and the member subscriptions carry the account and region of each event.
func TestOrganizationTemplates(t *testing.T) {
	t.Parallel() // its own moto account: no turns with the package's other tests
	central := parseDeploy(t, "org-central.yaml")
	member := parseDeploy(t, "org-member.yaml")
	stackset := parseDeploy(t, "org-stackset.yaml")

	t.Run("the destination fronts the Firehose stream and its policy names the organization", func(t *testing.T) {
		d := central.resource(t, "Destination", "AWS::Logs::Destination").Properties
		if !reflect.DeepEqual(d["TargetArn"], getAtt("DeliveryStream", "Arn")) || !reflect.DeepEqual(d["RoleArn"], getAtt("LogsToFirehoseRole", "Arn")) {
			t.Errorf("destination %v", d)
		}
		sub, _ := d["DestinationPolicy"].(map[string]any)["Fn::Sub"].(string)
		// The policy is a JSON document with ${...} substitutions: fill them to parse it.
		filled := strings.NewReplacer("${AWS::Partition}", "aws", "${AWS::Region}", "us-east-1", "${AWS::AccountId}", "111122223333",
			"${DestinationName}", "aient", "${OrganizationId}", "o-exampleorgid").Replace(sub)
		var pol struct {
			Statement []struct {
				Effect    string
				Principal map[string]any
				Action    []string
				Resource  string
				Condition map[string]map[string][]string
			}
		}
		if err := json.Unmarshal([]byte(filled), &pol); err != nil {
			t.Fatalf("destination policy is not JSON: %v\n%s", err, filled)
		}
		if len(pol.Statement) != 1 {
			t.Fatalf("statements %+v", pol.Statement)
		}
		st := pol.Statement[0]
		if st.Effect != "Allow" || !reflect.DeepEqual(st.Condition["StringEquals"]["aws:PrincipalOrgID"], []string{"o-exampleorgid"}) ||
			!reflect.DeepEqual(st.Action, []string{"logs:PutSubscriptionFilter", "logs:PutAccountPolicy"}) ||
			st.Resource != "arn:aws:logs:us-east-1:111122223333:destination:aient" {
			t.Errorf("destination policy statement %+v: want the organization's principals only", st)
		}
	})
	t.Run("CloudWatch Logs assumes the role that puts records into the stream, and only that", func(t *testing.T) {
		role := central.resource(t, "LogsToFirehoseRole", "AWS::IAM::Role").Properties
		trust, _ := json.Marshal(role["AssumeRolePolicyDocument"])
		if !strings.Contains(string(trust), `"Service":"logs.amazonaws.com"`) || !strings.Contains(string(trust), "aws:SourceArn") {
			t.Errorf("trust %s", trust)
		}
		allowed := allowedGrants(t, "LogsToFirehoseRole", map[string]any{"Policies": role["Policies"], "AssumeRolePolicyDocument": map[string]any{
			"Statement": []any{map[string]any{"Effect": "Allow", "Principal": map[string]any{"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}},
		}})
		want := map[grantKey]bool{
			grant{"firehose:PutRecord", getAtt("DeliveryStream", "Arn")}.key():      true,
			grant{"firehose:PutRecordBatch", getAtt("DeliveryStream", "Arn")}.key(): true,
		}
		if !reflect.DeepEqual(allowed, want) {
			t.Errorf("LogsToFirehoseRole allows %v", allowed)
		}
	})
	t.Run("the central stream posts to the drain and backs up what fails", func(t *testing.T) {
		s := central.resource(t, "DeliveryStream", "AWS::KinesisFirehose::DeliveryStream").Properties
		h, _ := s["HttpEndpointDestinationConfiguration"].(map[string]any)
		ep, _ := h["EndpointConfiguration"].(map[string]any)
		if !reflect.DeepEqual(ep["Url"], ref("EndpointUrl")) || !reflect.DeepEqual(ep["AccessKey"], ref("AccessKey")) || h["S3BackupMode"] != "FailedDataOnly" {
			t.Errorf("stream %v", h)
		}
		if central.Parameters["AccessKey"]["NoEcho"] != true {
			t.Error("AccessKey is not NoEcho")
		}
	})
	t.Run("every member subscription carries the system fields", func(t *testing.T) {
		n := 0
		for name, r := range member.Resources {
			switch r.Type {
			case "AWS::Logs::SubscriptionFilter":
				n++
				if !reflect.DeepEqual(r.Properties["EmitSystemFields"], []any{"@aws.account", "@aws.region"}) || !reflect.DeepEqual(r.Properties["DestinationArn"], ref("DestinationArn")) {
					t.Errorf("%s: %v", name, r.Properties)
				}
				if r.Properties["RoleArn"] != nil {
					t.Errorf("%s names a role: a cross-account destination uses its own", name)
				}
			case "AWS::Logs::AccountPolicy":
				n++
				sub, _ := r.Properties["PolicyDocument"].(map[string]any)["Fn::Sub"].([]any)
				if len(sub) == 0 {
					t.Fatalf("%s: PolicyDocument is not an Fn::Sub list", name)
				}
				tmpl, ok := sub[0].(string)
				if !ok {
					t.Fatalf("%s: PolicyDocument's Fn::Sub template is %T, want a string", name, sub[0])
				}
				doc := strings.NewReplacer("${DestinationArn}", "arn:aws:logs:us-east-1:111122223333:destination:aient", "${Pattern}", "").Replace(tmpl)
				var pd struct {
					DestinationArn   string
					EmitSystemFields []string
				}
				if err := json.Unmarshal([]byte(doc), &pd); err != nil || pd.DestinationArn == "" ||
					!reflect.DeepEqual(pd.EmitSystemFields, []string{"@aws.account", "@aws.region"}) || r.Properties["PolicyType"] != "SUBSCRIPTION_FILTER_POLICY" {
					t.Errorf("%s: policy document %s (%v)", name, doc, err)
				}
			}
		}
		if n != 4 {
			t.Errorf("%d subscriptions, want 3 log-group filters and 1 account policy", n)
		}
	})
	t.Run("the StackSet deploys the member template to the organization's units with the destination", func(t *testing.T) {
		s := stackset.resource(t, "MemberStackSet", "AWS::CloudFormation::StackSet").Properties
		if s["PermissionModel"] != "SERVICE_MANAGED" || !reflect.DeepEqual(s["TemplateURL"], ref("MemberTemplateUrl")) {
			t.Errorf("stack set %v", s)
		}
		params, _ := json.Marshal(s["Parameters"])
		for name := range member.Parameters {
			if strings.HasPrefix(name, "LogGroupName") {
				continue
			}
			if !strings.Contains(string(params), `"ParameterKey":"`+name+`"`) {
				t.Errorf("the stack set does not pass %s", name)
			}
		}
	})
}
