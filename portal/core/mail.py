"""Sending one e-mail through the configured SMTP server (``SMTP_HOST``; none: no mail)."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from email.message import EmailMessage

from flask import current_app


def mail_configured() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def send_mail(recipients: Sequence[str], subject: str, body: str) -> bool:
    """Send a plain-text message; return whether it went out. Never raises: a failure is
    logged, because what the mail tells about is already saved."""
    host = current_app.config.get("SMTP_HOST")
    if not host or not recipients:
        return False
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = current_app.config["SMTP_FROM"]
    message["To"] = ", ".join(recipients)
    message.set_content(body)
    try:
        with smtplib.SMTP(host, current_app.config["SMTP_PORT"], timeout=10) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException):
        current_app.logger.exception("could not send “%s” to %d recipient(s)", subject, len(recipients))
        return False
    return True
