# Copy to terraform.tfvars (not committed) and fill in from `aient drains create`.
# Pass the access key through TF_VAR_aient_firehose_access_key instead of writing it here.
aient_firehose_endpoint_url = "https://<url-id>.lambda-url.<region>.on.aws/aws/firehose/<drainId>"
cloudwatch_log_group_names  = ["/aws/lambda/my-function"]
content_encoding            = "NONE"
buffering_size              = 1
