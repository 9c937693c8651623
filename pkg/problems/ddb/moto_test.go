package ddb_test

import (
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/aient/firehose-drain/internal/awstest"
)

// serialHTTP sends one request at a time. moto applies a request's read-modify-write
// without a lock, so two concurrent UpdateItems on one item can lose an ADD or both pass a
// condition — something DynamoDB never does: each of its single requests is atomic. Sending
// the requests one at a time restores that guarantee and nothing more: the store's calls
// still run concurrently and interleave request by request, so a design that needs more than
// one request to stay correct is still put to the test.
type serialHTTP struct {
	mu sync.Mutex
	c  *http.Client
}

func (s *serialHTTP) Do(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c.Do(r)
}

// newClient is a DynamoDB client for m whose requests are atomic, as DynamoDB's are.
func newClient(m *awstest.Moto) *dynamodb.Client {
	cfg := m.Config()
	cfg.HTTPClient = &serialHTTP{c: &http.Client{}}
	return dynamodb.NewFromConfig(cfg)
}

var _ aws.HTTPClient = (*serialHTTP)(nil)
