package awstest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Tables hands out fresh DynamoDB tables on one moto server, so that every subtest of an
// adapter's tests gets a table of its own.
type Tables struct {
	Client *dynamodb.Client
	prefix string
	create func(context.Context, *dynamodb.Client, string) error
	n      atomic.Int64
}

// NewTables returns Tables on m whose tables are named prefix-N and made by create (the
// adapter's own CreateTable).
func (m *Moto) NewTables(prefix string, create func(context.Context, *dynamodb.Client, string) error) *Tables {
	return &Tables{Client: dynamodb.NewFromConfig(m.Config()), prefix: prefix, create: create}
}

// Fresh creates a new table and returns its name.
func (ts *Tables) Fresh(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("%s-%d", ts.prefix, ts.n.Add(1))
	if err := ts.create(context.Background(), ts.Client, name); err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	return name
}
