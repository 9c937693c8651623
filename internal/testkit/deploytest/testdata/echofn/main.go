// Command echofn is a throwaway Lambda function for the Runtime API harness's own tests:
// it runs the real aws-lambda-go runtime loop and behaves as its event asks.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type request struct {
	Mode string `json:"mode"` // echo (default), fail, panic, big, exit
	Data string `json:"data"`
}

type reply struct {
	RequestID   string `json:"requestId"`
	FunctionARN string `json:"functionArn"`
	DeadlineIn  int64  `json:"deadlineInMs"`
	Data        string `json:"data"`
	Env         string `json:"env"`
}

func handle(ctx context.Context, req request) (*reply, error) {
	lc, _ := lambdacontext.FromContext(ctx)
	deadline, _ := ctx.Deadline()
	switch req.Mode {
	case "fail":
		return nil, errors.New("the handler failed: " + req.Data)
	case "panic":
		panic("the handler panicked: " + req.Data)
	case "big":
		return &reply{Data: strings.Repeat("x", 7<<20)}, nil
	case "exit":
		os.Exit(3)
	}
	return &reply{
		RequestID:   lc.AwsRequestID,
		FunctionARN: lc.InvokedFunctionArn,
		DeadlineIn:  time.Until(deadline).Milliseconds(),
		Data:        req.Data,
		Env:         os.Getenv("ECHOFN_VALUE"),
	}, nil
}

// initError reports a failed initialisation the way a custom runtime does, then exits.
func initError(msg string) {
	body, _ := json.Marshal(map[string]string{"errorType": "Runtime.ConfigError", "errorMessage": msg})
	url := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/init/error"
	resp, err := http.Post(url, "application/json", strings.NewReader(string(body)))
	if err == nil {
		resp.Body.Close()
	}
	os.Exit(1)
}

func main() {
	if msg := os.Getenv("ECHOFN_INIT_ERROR"); msg != "" {
		initError(msg)
	}
	lambda.Start(handle)
}
