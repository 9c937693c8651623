package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
)

// EnvStack names the deployed stack whose outputs --backend aws reads.
const EnvStack = "AIENT_STACK"

// Stack outputs (template.yaml's Outputs) the CLI reads with --stack.
const (
	outputDrainsTable   = "DrainsTableName"
	outputProblemsTable = "ProblemsTableName"
	outputPepperSecret  = "PepperSecretArn"
	outputFunctionURL   = "FunctionUrl"
	outputAlertSecrets  = "AlertSecretPrefix"
)

// stackOutputs reads a stack's outputs with CloudFormation DescribeStacks.
func stackOutputs(ctx context.Context, cfg aws.Config, stack string) (map[string]string, error) {
	out, err := cloudformation.NewFromConfig(cfg).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil {
		return nil, fmt.Errorf("read the outputs of stack %s (cloudformation:DescribeStacks): %w", stack, err)
	}
	if len(out.Stacks) == 0 {
		return nil, fmt.Errorf("stack %s not found", stack)
	}
	m := map[string]string{}
	for _, o := range out.Stacks[0].Outputs {
		m[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return m, nil
}

// fromStack fills the names not given by flag or env from the stack's outputs.
func (o *backendOpts) fromStack(ctx context.Context, cfg aws.Config) error {
	if o.stack == "" {
		return nil
	}
	out, err := stackOutputs(ctx, cfg, o.stack)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		dst    *string
		output string
	}{
		{&o.drainsTable, outputDrainsTable},
		{&o.problemsTable, outputProblemsTable},
		{&o.pepperSecret, outputPepperSecret},
		{&o.endpointBase, outputFunctionURL},
		{&o.alertSecrets, outputAlertSecrets},
	} {
		if *f.dst == "" {
			*f.dst = out[f.output]
		}
	}
	o.endpointBase = strings.TrimRight(o.endpointBase, "/")
	return nil
}
