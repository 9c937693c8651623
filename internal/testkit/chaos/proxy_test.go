package chaos_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/aient/firehose-drain/internal/testkit/awstest"
	"github.com/aient/firehose-drain/internal/testkit/chaos"
	dedupddb "github.com/aient/firehose-drain/pkg/dedup/ddb"
)

// TestEachFaultIsWhatTheCallerAndTheServiceSee drives every fault kind with the real SDK
// against moto: what the caller gets (its error, and the SDK's throttling codes), and
// whether the write landed.
func TestEachFaultIsWhatTheCallerAndTheServiceSee(t *testing.T) {
	m := awstest.Start(t)
	direct := dynamodb.NewFromConfig(m.Config())
	const table = "faults"
	if err := dedupddb.CreateTable(t.Context(), direct, table); err != nil {
		t.Fatal(err)
	}
	q, err := sqs.NewFromConfig(m.Config()).CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String("faults")})
	if err != nil {
		t.Fatal(err)
	}
	landed := func(t *testing.T, key string) bool {
		out, err := direct.GetItem(t.Context(), &dynamodb.GetItemInput{
			TableName: aws.String(table), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{dedupddb.AttrKey: &types.AttributeValueMemberS{Value: key}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return out.Item != nil
	}
	for _, tc := range []struct {
		kind        chaos.Kind
		landed      bool
		codes       []string // the API error codes the caller may see; nil: not an API error
		callTimeout time.Duration
	}{
		{kind: chaos.ServerError, codes: []string{"InternalServerError"}},
		{kind: chaos.Throttle, codes: []string{"ProvisionedThroughputExceededException", "ThrottlingException"}},
		{kind: chaos.LandedError, landed: true, codes: []string{"InternalServerError"}},
		{kind: chaos.LandedReset, landed: true},
		{kind: chaos.Hang, landed: true, callTimeout: 300 * time.Millisecond},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			p, err := chaos.NewProxy(m.Endpoint, chaos.Config{Rate: 1, Weights: map[chaos.Kind]int{tc.kind: 1}, MaxHang: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			cfg := m.Config()
			cfg.BaseEndpoint = aws.String(p.URL)
			cfg.RetryMaxAttempts = 1 // the caller sees each fault, not the SDK's retry of it
			db := dynamodb.NewFromConfig(cfg)
			ctx := t.Context()
			if tc.callTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.callTimeout)
				defer cancel()
			}
			key := "key-" + string(tc.kind)
			start := time.Now()
			_, err = db.PutItem(ctx, &dynamodb.PutItemInput{
				TableName: aws.String(table),
				Item:      map[string]types.AttributeValue{dedupddb.AttrKey: &types.AttributeValueMemberS{Value: key}},
			})
			if err == nil {
				t.Fatal("the call succeeded through the fault")
			}
			checkCode(t, err, tc.codes)
			if tc.kind == chaos.Hang && (!errors.Is(err, context.DeadlineExceeded) || time.Since(start) < tc.callTimeout) {
				t.Errorf("a hung call ended with %v after %v, want the caller's deadline", err, time.Since(start))
			}
			if got := landed(t, key); got != tc.landed {
				t.Errorf("the write landed: %v, want %v", got, tc.landed)
			}
			if tl := p.Tally(); tl.Calls != 1 || tl.Faults[tc.kind] != 1 || tl.ByOp[string(tc.kind)+" DynamoDB_20120810.PutItem"] != 1 {
				t.Errorf("tally %+v, want one %s on one PutItem", tl, tc.kind)
			}
		})
	}
	t.Run("SQS throttling is SQS's ThrottlingException", func(t *testing.T) {
		p, err := chaos.NewProxy(m.Endpoint, chaos.Config{Rate: 1, Weights: map[chaos.Kind]int{chaos.Throttle: 1}})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		cfg := m.Config()
		cfg.BaseEndpoint = aws.String(p.URL)
		cfg.RetryMaxAttempts = 1
		_, err = sqs.NewFromConfig(cfg).SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("x")})
		checkCode(t, err, []string{"ThrottlingException"})
	})
	t.Run("rate 0 forwards everything untouched", func(t *testing.T) {
		p, err := chaos.NewProxy(m.Endpoint, chaos.Config{Rate: 0})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		cfg := m.Config()
		cfg.BaseEndpoint = aws.String(p.URL)
		db := dynamodb.NewFromConfig(cfg)
		for i := range 5 {
			key := fmt.Sprintf("clean-%d", i)
			if _, err := db.PutItem(t.Context(), &dynamodb.PutItemInput{
				TableName: aws.String(table),
				Item:      map[string]types.AttributeValue{dedupddb.AttrKey: &types.AttributeValueMemberS{Value: key}},
			}); err != nil {
				t.Fatal(err)
			}
			if !landed(t, key) {
				t.Errorf("%s did not land", key)
			}
		}
		if tl := p.Tally(); tl.Calls != 5 || len(tl.Faults) != 0 {
			t.Errorf("tally %+v, want 5 calls and no fault", tl)
		}
	})
}

func checkCode(t *testing.T, err error, codes []string) {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) {
		if codes != nil {
			t.Errorf("error %v is not an AWS API error, want one of %v", err, codes)
		}
		return
	}
	for _, c := range codes {
		if api.ErrorCode() == c {
			return
		}
	}
	t.Errorf("error code %q (%v), want one of %v", api.ErrorCode(), err, codes)
}
