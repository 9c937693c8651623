package awsretry

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/smithy-go"
)

func TestTransient(t *testing.T) {
	api := func(code string) error { return &smithy.GenericAPIError{Code: code, Message: "m"} }
	for _, c := range []struct {
		name  string
		err   error
		codes []string
		want  bool
	}{
		{"nil", nil, nil, false},
		{"deadline", fmt.Errorf("call: %w", context.DeadlineExceeded), nil, true},
		{"canceled", context.Canceled, nil, true},
		{"SDK throttle code", api("ThrottlingException"), nil, true},
		{"SDK retryable code", api("RequestTimeout"), nil, true},
		{"service code given", api("TransactionConflictException"), []string{"TransactionConflictException"}, true},
		{"service code not given", api("TransactionConflictException"), nil, false},
		{"access denied", api("AccessDeniedException"), []string{"InternalError"}, false},
		{"plain error", errors.New("bad input"), nil, false},
	} {
		if got := Transient(c.err, c.codes...); got != c.want {
			t.Errorf("%s: Transient(%v) = %t, want %t", c.name, c.err, got, c.want)
		}
	}
}
