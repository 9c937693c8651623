"""Runs the AWS SAM transform on a template offline and prints the CloudFormation as JSON.

Usage: python3 sam_transform.py [--parse-only] template.yaml

--parse-only prints the template as JSON without the transform (for plain CloudFormation,
whose short-form tags such as !Ref need a CloudFormation-aware YAML loader).

aws-sam-translator is installed with cfn-lint. The transform needs a managed-policy
loader (it maps AWS managed policy names to ARNs by calling IAM); this stub answers from
the names SAM itself may attach, with no network access.
"""

import json
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class OfflinePolicyLoader:
    """ManagedPolicyLoader stand-in: the ARNs of the AWS managed policies SAM may attach."""

    NAMES = [
        "AWSLambdaBasicExecutionRole",
        "AWSLambdaSQSQueueExecutionRole",
        "AWSXrayWriteOnlyAccess",
        "AWSLambdaVPCAccessExecutionRole",
    ]

    def load(self):
        return {n: "arn:aws:iam::aws:policy/service-role/" + n for n in self.NAMES}


def as_packaged(template):
    """Replaces local CodeUri paths with S3 URIs, as `sam package` / `sam deploy` does."""
    fn_globals = template.get("Globals", {}).get("Function", {})
    if isinstance(fn_globals.get("CodeUri"), str) and not fn_globals["CodeUri"].startswith("s3://"):
        fn_globals["CodeUri"] = "s3://sam-package-bucket/code.zip"
    for name, res in template.get("Resources", {}).items():
        props = res.get("Properties") or {}
        if res.get("Type") == "AWS::Serverless::Function":
            uri = props.get("CodeUri")
            if isinstance(uri, str) and not uri.startswith("s3://"):
                props["CodeUri"] = "s3://sam-package-bucket/" + name + ".zip"
    return template


def main(path, parse_only=False):
    # The region only fills pseudo parameters; no AWS call is made.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with open(path, encoding="utf-8") as f:
        template = yaml_parse(f.read())
    out = template if parse_only else transform(as_packaged(template), {}, OfflinePolicyLoader())
    json.dump(out, sys.stdout, indent=1, sort_keys=True, default=str)
    sys.stdout.write("\n")


if __name__ == "__main__":
    args = sys.argv[1:]
    parse_only = args[:1] == ["--parse-only"]
    if parse_only:
        args = args[1:]
    if len(args) != 1:
        sys.exit("usage: sam_transform.py [--parse-only] TEMPLATE")
    main(args[0], parse_only)
