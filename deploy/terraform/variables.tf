variable "aient_firehose_endpoint_url" {
  description = "The drain's endpoint URL, https://<function url host>/aws/firehose/<drainId> (from `aient drains create`)"
  type        = string

  validation {
    condition     = can(regex("^https://.+/aws/firehose/[^/]+$", var.aient_firehose_endpoint_url))
    error_message = "The endpoint URL must look like https://<host>/aws/firehose/<drainId>."
  }
}

variable "aient_firehose_access_key" {
  description = "The drain's copy-once X-Amz-Firehose-Access-Key"
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.aient_firehose_access_key) > 0 && length(var.aient_firehose_access_key) <= 4096
    error_message = "The access key must be 1 to 4096 characters."
  }
}

variable "cloudwatch_log_group_names" {
  description = "CloudWatch log groups to send to Aient"
  type        = set(string)
}

variable "stream_name" {
  description = "Name of the Firehose delivery stream"
  type        = string
  default     = "aient-cloudwatch-logs"
}

variable "content_encoding" {
  description = "HTTP request content encoding: NONE (CloudWatch records are gzip already) or GZIP (this deployment accepts it too; larger buffers fit the 6 MB Function URL limit)"
  type        = string
  default     = "NONE"

  validation {
    condition     = contains(["NONE", "GZIP"], var.content_encoding)
    error_message = "content_encoding must be NONE or GZIP."
  }
}

variable "buffering_size" {
  description = "Firehose buffer size in MiB: at most 3, so one delivery fits the 6 MB request limit of a Lambda Function URL"
  type        = number
  default     = 1

  validation {
    condition     = var.buffering_size >= 1 && var.buffering_size <= 3 && floor(var.buffering_size) == var.buffering_size
    error_message = "buffering_size must be 1, 2 or 3 (MiB)."
  }
}

variable "buffering_interval" {
  description = "Most seconds Firehose buffers before it delivers"
  type        = number
  default     = 60
}

variable "retry_duration" {
  description = "Seconds Firehose retries a failed delivery before it writes it to the backup bucket"
  type        = number
  default     = 300

  validation {
    condition     = var.retry_duration >= 0 && var.retry_duration <= 7200
    error_message = "retry_duration must be 0-7200 seconds."
  }
}

variable "filter_pattern" {
  description = "CloudWatch Logs filter pattern of every subscription; \"\" sends all events"
  type        = string
  default     = ""
}
