"""Named conditions of guards and worklists, each evaluated both in Python and as SQL.

A workflow definition names its conditions ("not_approved_by_actor", "overdue" …); the feature
that owns what a condition looks at registers it here with both forms, so that a guard checked
on one object and a worklist filtered in SQL apply the same rule. A property test compares the
two forms on random data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from portal.core.timeutil import today


@dataclass(frozen=True)
class Condition:
    name: str
    #: ctx -> bool, where ctx has .user, .obj, .today and .pending (see PolicyContext)
    python: Callable[[Any], bool]
    #: (user, model class, today) -> SQL boolean over rows of the model; None: not filterable
    sql: Callable[[Any, type, date], sa.ColumnElement[bool]] | None = None


_REGISTRY: dict[str, Condition] = {}


def register(
    name: str,
    python: Callable[[Any], bool],
    sql: Callable[[Any, type, date], sa.ColumnElement[bool]] | None = None,
) -> None:
    _REGISTRY[name] = Condition(name, python, sql)


def get(name: str) -> Condition:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown workflow condition {name!r}") from None


def today_of(ctx) -> date:
    return ctx.today if getattr(ctx, "today", None) is not None else today()


def evaluate(name: str, ctx) -> bool:
    return get(name).python(ctx)


def clause(name: str, user, model: type, today: date) -> sa.ColumnElement[bool]:
    condition = get(name)
    if condition.sql is None:
        raise KeyError(f"condition {name!r} has no SQL form and cannot filter a worklist")
    return condition.sql(user, model, today)
