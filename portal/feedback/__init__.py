"""Public feedback (意见建议) with tracking codes (查询码), moderated by the office."""
