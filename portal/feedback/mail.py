"""E-mail to moderators about new feedback, through the outbox, when SMTP is configured."""

from __future__ import annotations

from flask import current_app, url_for

from portal.accounts.models import active_users_with
from portal.core.mail import queue_mail


def moderator_addresses() -> list[str]:
    return [user.email for user in active_users_with("office") if user.email]


def notify_moderators(feedback) -> int:
    """Tell the office there is feedback to moderate: one mail each in the outbox, in the
    feedback's transaction (sent after its commit); how many."""
    host = current_app.config.get("SMTP_HOST")
    recipients = moderator_addresses() if host else []
    if not recipients:
        return 0
    return queue_mail(
        recipients,
        "【巡察整改督办平台】新的意见建议待审核",
        f"收到一条新的意见建议（编号 {feedback.id}），请登录平台审核：\n"
        f"{url_for('feedback.queue', _external=True)}\n\n"
        "为保护反映人，本邮件不包含意见内容和联系方式。",
    )
