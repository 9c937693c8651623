// Package sqsqueuetest has a fake of the one SQS call sqsqueue.Sender makes, for tests of
// the sender and of what it sends.
package sqsqueuetest

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Recorder answers every entry of a SendMessageBatch as sent and keeps a copy of each body
// (the sender's strings live only until the call returns). It is an sqsqueue.API.
type Recorder struct {
	mu     sync.Mutex
	bodies []string
}

// SendMessageBatch records the entries' bodies and answers them all as successful.
func (r *Recorder) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	out := &sqs.SendMessageBatchOutput{}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range in.Entries {
		r.bodies = append(r.bodies, strings.Clone(aws.ToString(e.MessageBody)))
		out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: e.Id})
	}
	return out, nil
}

// Take returns the bodies sent since the last Take, sorted (a Sender sends its batches
// concurrently, so their order is not given).
func (r *Recorder) Take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.bodies
	r.bodies = nil
	slices.Sort(b)
	return b
}
