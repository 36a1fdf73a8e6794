"""The notice import's part of the rectification workflow: the `freshly_imported` condition.

The import transitions (workflows.rectification: import_in_progress, import_completed) create an
item in the state its notice states. Their guard names `freshly_imported`: the item is one the
import operation running now has just created (`importing` marks it, in the session, for the
length of that operation) and has taken no workflow step yet. Outside an import the condition
never holds, so nobody is offered those transitions and they cannot be used to skip the review.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from portal.core import conditions
from portal.core.extensions import db
from portal.core.models import WorkflowHistory

#: session.info key: ids of the items the running import has created
IMPORTING = "rectify_importing_items"


@contextmanager
def importing(item_ids: set[int]) -> Iterator[None]:
    """Within the block, the items `item_ids` count as freshly imported."""
    db.session.info[IMPORTING] = set(item_ids)
    try:
        yield
    finally:
        db.session.info.pop(IMPORTING, None)


def _freshly_imported(ctx) -> bool:
    item = ctx.obj
    if item.id not in db.session.info.get(IMPORTING, ()):
        return False
    return not db.session.scalar(
        sa.select(
            sa.exists().where(
                WorkflowHistory.object_type == "item",
                WorkflowHistory.object_id == item.id,
                WorkflowHistory.workflow == "rectification",
            )
        )
    )


conditions.register("freshly_imported", _freshly_imported)
