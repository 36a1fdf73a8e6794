"""In-app notifications (站内通知) with an e-mail preference, and chase notes (催办) on items.

`operations.notify` is what other features call; `triggers` (imported with the views, not
here, because it stands on portal.workflow) tells reviewers and staff about item steps.
"""
