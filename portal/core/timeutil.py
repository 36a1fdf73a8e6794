"""Dates as the users live them: deadlines are calendar days in the configured time zone."""

import calendar
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def today() -> date:
    return datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day where it is shorter (31 Aug → 28 Feb)."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))
