"""Public feedback (意见建议) with tracking codes (查询码), moderated by the office.

Importing this package registers the moderation hooks and the 'reported not fixed' condition.
"""

from portal.feedback import workflow as _workflow  # noqa: F401  (registers hooks, conditions)
