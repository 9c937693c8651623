output "delivery_stream_arn" {
  value = aws_kinesis_firehose_delivery_stream.aient_cloudwatch.arn
}

output "backup_bucket" {
  description = "Deliveries Firehose gave up on after retry_duration"
  value       = aws_s3_bucket.aient_firehose_backup.bucket
}

output "cloudwatch_logs_role_arn" {
  description = "Role for more subscription filters"
  value       = aws_iam_role.cloudwatch_logs_to_firehose.arn
}
