terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 6.28.0 added emit_system_fields to aws_cloudwatch_log_subscription_filter.
      version = ">= 6.28.0"
    }
  }
}
