package sqsqueue

// ErrTooLargeForTest is Fit's error for an event that cannot fit, for the external tests.
var ErrTooLargeForTest = errTooLarge
