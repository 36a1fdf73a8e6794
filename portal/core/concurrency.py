"""Optimistic concurrency: a versioned document changes only from the version the user saw."""

from __future__ import annotations

import sqlalchemy as sa

from portal.core.errors import Conflict
from portal.core.extensions import db
from portal.core.transitions import CONFLICT_MESSAGE


def claim_version(obj, expected: int) -> int:
    """Bump `obj`'s version from `expected` in one conditional UPDATE; return the new one.

    Raises Conflict when another transaction changed it first (nothing is written then).
    """
    model = type(obj)
    claimed = db.session.execute(
        sa.update(model)
        .where(model.id == obj.id, model.version == expected)
        .values(version=expected + 1)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise Conflict(str(CONFLICT_MESSAGE))
    db.session.expire(obj, ["version"])
    return expected + 1
