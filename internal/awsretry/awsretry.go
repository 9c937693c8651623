// Package awsretry says whether an AWS call's error is one a later retry may cure, the one
// classification the adapters share (each adds its service's own codes).
package awsretry

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// Transient reports whether a retry may cure err: a timeout or cancellation, throttling or
// a retryable code of the SDK's tables, one of the service's own transient codes, a 5xx or
// 429 answer, or a connection failure the SDK would retry.
func Transient(err error, serviceCodes ...string) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		if _, ok := retry.DefaultThrottleErrorCodes[code]; ok {
			return true
		}
		if _, ok := retry.DefaultRetryableErrorCodes[code]; ok {
			return true
		}
		for _, c := range serviceCodes {
			if code == c {
				return true
			}
		}
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) && (status.HTTPStatusCode() >= 500 || status.HTTPStatusCode() == 429) {
		return true
	}
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}
