package deploytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
)

// apiCall is one AWS request a function made: the service's target prefix (DynamoDB_20120810,
// AmazonSQS, secretsmanager), the operation, and the request body.
type apiCall struct {
	Service, Op string
	Body        map[string]any
}

// callRecorder is a reverse proxy in front of moto that records every AWS request.
type callRecorder struct {
	URL   string
	mu    sync.Mutex
	calls []apiCall
}

func recordCalls(t *testing.T, target string) *callRecorder {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	r := &callRecorder{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		c := apiCall{Body: map[string]any{}}
		service, op, ok := strings.Cut(req.Header.Get("X-Amz-Target"), ".")
		if ok {
			c.Service, c.Op = service, op
			_ = json.Unmarshal(body, &c.Body)
		} else {
			// Query protocol: Action=...&Param=... in the form body.
			form, _ := url.ParseQuery(string(body))
			c.Service, c.Op = "query", form.Get("Action")
			for k := range form {
				c.Body[k] = form.Get(k)
			}
		}
		r.mu.Lock()
		r.calls = append(r.calls, c)
		r.mu.Unlock()
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

func (r *callRecorder) Calls() []apiCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]apiCall(nil), r.calls...)
}

// iamGrants maps a recorded call to the IAM actions it needs on which named resource
// (the resource's name or URL or ARN as the request carries it). Batch and transaction
// operations are authorised per item action.
func iamGrants(c apiCall) ([][2]string, error) {
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	switch c.Service {
	case "DynamoDB_20120810":
		switch c.Op {
		case "TransactWriteItems":
			var out [][2]string
			items, _ := c.Body["TransactItems"].([]any)
			for _, it := range items {
				m, _ := it.(map[string]any)
				for kind, action := range map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"} {
					if sub, ok := m[kind].(map[string]any); ok {
						out = append(out, [2]string{"dynamodb:" + action, str(sub, "TableName")})
					}
				}
			}
			return out, nil
		case "BatchGetItem", "BatchWriteItem":
			// Authorised as the operation itself on each table it names.
			var out [][2]string
			items, _ := c.Body["RequestItems"].(map[string]any)
			for table := range items {
				out = append(out, [2]string{"dynamodb:" + c.Op, table})
			}
			return out, nil
		case "TransactGetItems":
			return nil, fmt.Errorf("dynamodb %s: add its per-item mapping to this test", c.Op)
		}
		name := str(c.Body, "TableName")
		if idx := str(c.Body, "IndexName"); idx != "" {
			name += "/index/" + idx
		}
		return [][2]string{{"dynamodb:" + c.Op, name}}, nil
	case "AmazonSQS":
		action := strings.TrimSuffix(c.Op, "Batch") // SendMessageBatch is sqs:SendMessage, etc.
		return [][2]string{{"sqs:" + action, str(c.Body, "QueueUrl")}}, nil
	case "secretsmanager":
		return [][2]string{{"secretsmanager:" + c.Op, str(c.Body, "SecretId")}}, nil
	case "query": // SNS speaks the query protocol
		if c.Op == "Publish" {
			return [][2]string{{"sns:Publish", str(c.Body, "TopicArn")}}, nil
		}
	}
	return nil, fmt.Errorf("unrecognised AWS call %s %s", c.Service, c.Op)
}

// checkCallsAllowed checks every call a function made against its role in the
// transformed template: the action must be granted on the resource the call named.
func checkCallsAllowed(t *testing.T, c cfn, fn string, calls []apiCall, resources map[string]any) {
	t.Helper()
	if len(calls) == 0 {
		t.Errorf("%s made no AWS call: the recorder is not in its path", fn)
		return
	}
	role := roleOf(t, c.resource(t, fn, "AWS::Lambda::Function").Properties["Role"])
	allowed := allowedGrants(t, role, c.resource(t, role, "AWS::IAM::Role").Properties)
	seen := map[string]bool{}
	for _, call := range calls {
		grants, err := iamGrants(call)
		if err != nil {
			t.Error(err)
			continue
		}
		for _, g := range grants {
			res, known := resources[g[1]]
			if !known {
				t.Errorf("%s called %s on %q, which is none of the stack's resources", fn, g[0], g[1])
				continue
			}
			k := grant{g[0], res}.key()
			seen[fmt.Sprintf("%s on %v", g[0], res)] = true
			if !allowed[k] {
				t.Errorf("%s calls %s on %v, which its role %s does not allow", fn, g[0], res, role)
			}
		}
	}
	list := make([]string, 0, len(seen))
	for s := range seen {
		list = append(list, s)
	}
	sort.Strings(list)
	t.Logf("%s called: %s", fn, strings.Join(list, "; "))
}
