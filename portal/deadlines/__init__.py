"""Deadline extension requests (延期申请): filing, the two-step decision, the deadline history."""
