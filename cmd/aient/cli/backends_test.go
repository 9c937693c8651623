package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/aient/firehose-drain/cmd/aient/cli"
	"github.com/aient/firehose-drain/internal/testkit/awstest"
	"github.com/aient/firehose-drain/pkg/console"
	"github.com/aient/firehose-drain/pkg/drains"
	drainsddb "github.com/aient/firehose-drain/pkg/drains/ddb"
	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/grouper"
	"github.com/aient/firehose-drain/pkg/problems"
	problemsddb "github.com/aient/firehose-drain/pkg/problems/ddb"
)

// stackTemplate is a CloudFormation template holding template.yaml's own table resources,
// as it declares them, with the outputs --stack reads. moto's CloudFormation makes no
// Secrets Manager secret, so the pepper secret is made beforehand and its ARN given.
func stackTemplate(t *testing.T, pepperARN string) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is needed to read template.yaml (with cfn-lint's YAML loader)")
	}
	root := filepath.Join("..", "..", "..")
	out, err := exec.Command(py, filepath.Join(root, "internal", "testkit", "deploytest", "testdata", "sam_transform.py"),
		"--parse-only", filepath.Join(root, "template.yaml")).Output()
	if err != nil {
		t.Fatalf("parse template.yaml: %v", err)
	}
	var full struct {
		Resources map[string]any
	}
	if err := json.Unmarshal(out, &full); err != nil {
		t.Fatal(err)
	}
	res := map[string]any{}
	for _, name := range []string{"DrainsTable", "ProblemsTable"} {
		r, ok := full.Resources[name]
		if !ok {
			t.Fatalf("template.yaml has no %s", name)
		}
		res[name] = r
	}
	b, err := json.Marshal(map[string]any{
		"Resources": res,
		"Outputs": map[string]any{
			"DrainsTableName":   map[string]any{"Value": map[string]any{"Ref": "DrainsTable"}},
			"ProblemsTableName": map[string]any{"Value": map[string]any{"Ref": "ProblemsTable"}},
			"PepperSecretArn":   map[string]any{"Value": pepperARN},
			"FunctionUrl":       map[string]any{"Value": "https://abcdefghijklmnop.lambda-url.us-east-1.on.aws/"},
			"AlertSecretPrefix": map[string]any{"Value": "firehose-drain/alerts/"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// shape is the JSON structure of v: object keys with their values' shapes, an array as the
// shape of its elements, scalars by type.
func shape(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, e := range x {
			m[k] = shape(e)
		}
		return m
	case []any:
		if len(x) == 0 {
			return []any{}
		}
		return []any{shape(x[0])}
	case nil:
		return "null"
	default:
		return fmt.Sprintf("%T", x)
	}
}

func getJSON(t *testing.T, url string) (int, any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("GET %s: not JSON: %v: %s", url, err, b)
	}
	return resp.StatusCode, v
}

func getPage(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// startStack starts moto with the stack "firehose-drain" made by CloudFormation from
// template.yaml's tables, and points the AWS SDK's environment at it; it answers the
// stack's outputs.
func startStack(t *testing.T) (*awstest.Moto, map[string]string) {
	t.Helper()
	m := awstest.Start(t)
	ctx := context.Background()
	secret, err := secretsmanager.NewFromConfig(m.Config()).CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("firehose-drain-pepper"), SecretString: aws.String(strings.Repeat("p3pp3r", 11)),
	})
	if err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	cfn := cloudformation.NewFromConfig(m.Config())
	if _, err := cfn.CreateStack(ctx, &cloudformation.CreateStackInput{
		StackName: aws.String("firehose-drain"), TemplateBody: aws.String(stackTemplate(t, aws.ToString(secret.ARN))),
	}); err != nil {
		t.Fatalf("CreateStack: %v", err)
	}
	t.Setenv("AWS_ENDPOINT_URL", m.Endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", awstest.Region)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))

	// The stack's tables are the template's, indexes included.
	out, err := cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("firehose-drain")})
	if err != nil || len(out.Stacks) != 1 {
		t.Fatalf("DescribeStacks: %v", err)
	}
	outputs := map[string]string{}
	for _, o := range out.Stacks[0].Outputs {
		outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return m, outputs
}

// The console over a deployed stack: tables made by CloudFormation (moto's) from
// template.yaml's own resources, names read from the stack's outputs by `--stack`, drains
// and problems written through the AWS adapters; every page and API route answers as the
// console over the embedded store does, with the same data.
func TestTheConsoleAnswersTheSameOnBothBackends(t *testing.T) {
	m, outputs := startStack(t)
	ctx := context.Background()
	db := dynamodb.NewFromConfig(m.Config())
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(outputs["ProblemsTableName"])})
	if err != nil {
		t.Fatalf("the stack's problems table: %v", err)
	}
	var gsis []string
	for _, g := range desc.Table.GlobalSecondaryIndexes {
		gsis = append(gsis, aws.ToString(g.IndexName))
	}
	if sort.Strings(gsis); !slices.Equal(gsis, []string{problemsddb.LastSeenIndex, problemsddb.ProblemIndex, problemsddb.ScopeIndex}) {
		t.Fatalf("the stack's problems table has indexes %v", gsis)
	}

	// The same drains and occurrences on both backends: a drain through the CLI, the
	// occurrences as the grouper makes them.
	dir := t.TempDir()
	st, err := embedded.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	code, cout, cerr := aient(t, dir, "drains", "create", "--org", "acme", "--env", "prod", "--json")
	if code != 0 {
		t.Fatalf("drains create (embedded): %s", cerr)
	}
	localDrain := mustJSON[cli.Created](t, cout)
	code, cout, cerr = aient(t, dir, "drains", "create", "--backend", "aws", "--stack", "firehose-drain", "--org", "acme", "--env", "prod", "--json")
	if code != 0 {
		t.Fatalf("drains create --backend aws --stack: %s", cerr)
	}
	awsDrain := mustJSON[cli.Created](t, cout)
	if !strings.HasPrefix(awsDrain.Endpoint, "https://abcdefghijklmnop.lambda-url.us-east-1.on.aws/aws/firehose/") {
		t.Errorf("the endpoint is not under the stack's FunctionUrl: %s", awsDrain.Endpoint)
	}
	code, cout, _ = aient(t, dir, "drains", "list", "--backend", "aws", "--stack", "firehose-drain", "--json")
	if list := mustJSON[[]drains.Status](t, cout); code != 0 || len(list) != 1 || list[0].ID != awsDrain.ID {
		t.Fatalf("drains list --backend aws --stack: %d %s", code, cout)
	}

	now := time.Now().UTC()
	// The same deliveries on both drains, 60 of them (the last 50 are kept), every fourth
	// refused: both consoles show the same delivery log.
	awsDrains := drainsddb.New(db, outputs["DrainsTableName"])
	for i := range 60 {
		e := drains.LogEntry{At: now.Add(-90*time.Minute + time.Duration(i)*time.Second).Truncate(time.Millisecond), Status: 200, Records: 1, Events: int64(i), ErrorEvents: 1}
		if i%4 == 0 {
			e.Status, e.Reason = 401, "unauthorized"
		}
		for _, b := range []struct {
			s  drains.Store
			id string
		}{{st.Drains(), localDrain.ID}, {awsDrains, awsDrain.ID}} {
			if err := b.s.RecordDelivery(ctx, b.id, drains.Delivery{At: e.At, Data: true, Counters: drains.Counters{Deliveries: 1, Events: e.Events}, Log: []drains.LogEntry{e}}); err != nil {
				t.Fatalf("RecordDelivery: %v", err)
			}
		}
	}
	awsProblems := problemsddb.New(db, outputs["ProblemsTableName"])
	for i := range 6 {
		for _, rec := range []problems.Store{st.Problems(), awsProblems} {
			e := event.Event{
				Drain: "drn_x", Org: "acme", Env: "prod", Account: "123456789012", Region: "eu-west-1",
				LogGroup: "/aws/lambda/pay", LogStream: "2026/12/01/[$LATEST]abc", ID: fmt.Sprintf("%056d", i),
				Timestamp: now.Add(-time.Duration(i) * 3 * time.Hour).UnixMilli(), Level: event.Error,
				Message: "2026-12-01T10:00:00.000Z\t8f5c1a2e-1111-2222-3333-444455556666\tERROR\tInvoke Error \t" +
					`{"errorType":"PaymentError","errorMessage":"card declined","stack":["PaymentError: card declined","    at charge (/var/task/pay.js:12:7)","    at process (/var/task/node_modules/lib/index.js:3:1)"]}`,
			}
			if i%2 == 1 {
				e.Message = "[ERROR] KeyError: 'user'\nTraceback (most recent call last):\n  File \"/var/task/app.py\", line 9, in handler\n    u = event['user']\nKeyError: 'user'"
				e.Region, e.LogGroup = "us-east-1", "/aws/lambda/users"
			}
			if _, err := rec.Record(ctx, grouper.Occurrence(&e)); err != nil {
				t.Fatalf("Record: %v", err)
			}
		}
	}

	local := httptest.NewServer(console.New(console.Backend{Problems: st.Reader(), Drains: st.Drains()}, console.Config{EndpointBase: "http://127.0.0.1:8080"}).Handler())
	defer local.Close()
	awsBase, _, _ := serveInBackground(t, t.TempDir(), "--backend", "aws", "--stack", "firehose-drain", "--listen", "127.0.0.1:0")
	// The drains differ by id and key; the rest is the same.
	drainsAPI := func(base, id string) string { return base + "/api/drains/" + id }

	// The two consoles read the clock each; keep both reads within one hour of the trend.
	if left := time.Until(time.Now().Truncate(time.Hour).Add(time.Hour)); left < 30*time.Second {
		time.Sleep(left + time.Second)
	}
	var ids []string
	_, list := getJSON(t, local.URL+"/api/problems")
	items, ok := list.([]any)
	if !ok {
		t.Fatalf("/api/problems answered %T, want a list", list)
	}
	for _, p := range items {
		id, _ := p.(map[string]any)["id"].(string)
		if id == "" {
			t.Fatalf("/api/problems item %v has no id", p)
		}
		ids = append(ids, id)
	}
	if len(ids) != 2 {
		t.Fatalf("the embedded console lists %d problems, want 2", len(ids))
	}
	routes := []string{
		"/api/problems", "/api/problems?limit=1", "/api/problems?limit=1&sort=recent",
		"/api/problems?sort=count&q=card", "/api/problems?region=us-east-1&lastSeen=24h",
		"/api/problems?org=acme&env=prod&sort=firstSeen", "/api/drains",
	}
	for _, id := range ids {
		routes = append(routes, "/api/problems/"+id)
	}
	for _, r := range routes {
		lc, lv := getJSON(t, local.URL+r)
		ac, av := getJSON(t, awsBase+r)
		if lc != 200 || ac != 200 {
			t.Errorf("GET %s: embedded %d, aws %d", r, lc, ac)
			continue
		}
		if !reflect.DeepEqual(shape(lv), shape(av)) {
			t.Errorf("GET %s answers different shapes:\nembedded %v\naws      %v", r, shape(lv), shape(av))
		}
		if strings.HasPrefix(r, "/api/problems") {
			if !reflect.DeepEqual(comparable(lv), comparable(av)) {
				lb, _ := json.Marshal(comparable(lv))
				ab, _ := json.Marshal(comparable(av))
				t.Errorf("GET %s answers different problems:\nembedded %s\naws      %s", r, lb, ab)
			}
		}
	}
	lc, lv := getJSON(t, drainsAPI(local.URL, localDrain.ID))
	ac, av := getJSON(t, drainsAPI(awsBase, awsDrain.ID))
	if lc != 200 || ac != 200 || !reflect.DeepEqual(shape(lv), shape(av)) {
		t.Errorf("GET /api/drains/{id}: %d %v / %d %v", lc, shape(lv), ac, shape(av))
	}
	lm, _ := lv.(map[string]any)
	am, _ := av.(map[string]any)
	for _, k := range []string{"deliveries", "errors", "logKept", "counters"} {
		if !reflect.DeepEqual(lm[k], am[k]) {
			t.Errorf("GET /api/drains/{id} %q: embedded %v\naws %v", k, lm[k], am[k])
		}
	}
	if d, _ := am["deliveries"].([]any); len(d) != drains.LogDeliveries || am["logKept"] != true {
		t.Errorf("the drain on DynamoDB shows %d deliveries, logKept %v; want %d, true", len(d), am["logKept"], drains.LogDeliveries)
	}
	_, lb := getPage(t, local.URL+"/drains/"+localDrain.ID)
	_, ab := getPage(t, awsBase+"/drains/"+awsDrain.ID)
	if lt, at := logSection(pageText(lb)), logSection(pageText(ab)); lt != at || !strings.Contains(at, "unauthorized") {
		t.Errorf("the drain pages' delivery logs differ:\n%s\n----\n%s", lt, at)
	}
	for _, r := range []string{"/api/problems/nosuch", "/api/drains/drn_nosuch", "/api/problems?sort=nope"} {
		lc, lv := getJSON(t, local.URL+r)
		ac, av := getJSON(t, awsBase+r)
		if lc != ac || lc < 400 || !reflect.DeepEqual(lv, av) {
			t.Errorf("GET %s: embedded %d %v, aws %d %v", r, lc, lv, ac, av)
		}
	}
	pages := []string{"/", "/?sort=recent&limit=1", "/drains", "/problems/" + ids[0], "/problems/" + ids[1]}
	for _, p := range pages {
		lc, lb := getPage(t, local.URL+p)
		ac, ab := getPage(t, awsBase+p)
		lb = strings.ReplaceAll(lb, localDrain.ID, awsDrain.ID)
		if lc != 200 || ac != 200 || pageText(lb) != pageText(ab) {
			t.Errorf("page %s: embedded %d, aws %d, or their text differs:\n%s\n----\n%s", p, lc, ac, pageText(lb), pageText(ab))
		}
	}
	for _, p := range []string{"/drains/" + localDrain.ID, "/problems/nosuch", "/nosuch"} {
		lc, _ := getPage(t, local.URL+p)
		id := strings.Replace(p, localDrain.ID, awsDrain.ID, 1)
		ac, _ := getPage(t, awsBase+id)
		if lc != ac {
			t.Errorf("page %s: embedded %d, aws %d", p, lc, ac)
		}
	}
	// No ingest runs in the console over a stack.
	resp, err := http.Post(awsBase+"/aws/firehose/"+awsDrain.ID, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("POST /aws/firehose/ on the AWS console: %d, want 404", resp.StatusCode)
	}
}

// comparable drops what differs between two stores holding the same occurrences: nothing
// but the order of a set (log groups).
func comparable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, e := range x {
			if k == "next" { // cursors are each store's own
				m[k] = e != nil
				continue
			}
			if k == "logGroups" {
				if l, ok := e.([]any); ok {
					s := make([]string, 0, len(l))
					for _, g := range l {
						s = append(s, fmt.Sprint(g))
					}
					sort.Strings(s)
					m[k] = s
					continue
				}
			}
			m[k] = comparable(e)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = comparable(e)
		}
		return out
	}
	return v
}

// pageText is a page without its markup's cursors: what a person reads.
// logSection is a drain page's text from its delivery log on.
func logSection(text string) string {
	if i := strings.Index(text, "Last auth and payload errors"); i >= 0 {
		return text[i:]
	}
	return ""
}

func pageText(html string) string {
	if a, b := strings.Index(html, "<style>"), strings.Index(html, "</style>"); a >= 0 && b > a {
		html = html[:a] + html[b:]
	}
	var sb strings.Builder
	in := false
	for _, r := range html {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
			sb.WriteByte(' ')
		case !in:
			sb.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(sb.String()), " ")
}
