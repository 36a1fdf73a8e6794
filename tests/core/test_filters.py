"""The generated SQL permission filters agree with the Python policy."""

import sqlalchemy as sa

from portal.audit.chain import Actor
from portal.extensions import db
from portal.inspections.models import APPROVAL_DUAL, APPROVAL_SINGLE, Category, Inspection
from portal.inspections.models import RectificationItem as Item
from portal.sharing.operations import grant_local_role
from portal.workflow.policy import can
from portal.workflow.worklists import can_view


def test_a_blocked_category_elsewhere_leaves_inspection_grants_alone(world):
    """Regression: blocking one category switched off every inspection-level grant in SQL."""
    actor = Actor.system("test")
    for _ in range(5):
        world.new_item(APPROVAL_SINGLE)
    world.new_item(APPROVAL_DUAL)
    with world.app.app_context():
        reader = world.user("staff_other")
        grant_local_role(actor, db.session.get(Inspection, world.inspections[APPROVAL_SINGLE]),
                         "Reader", user=reader)
        db.session.commit()

        def sql_visible():
            return set(db.session.scalars(sa.select(Item.id).where(can_view(reader))))

        expected = {i.id for i in db.session.scalars(sa.select(Item)) if can(reader, "view", i)}
        assert len(sql_visible()) == 5 == len(expected)

        db.session.get(Category, world.categories[APPROVAL_DUAL]).local_roles_blocked = True
        db.session.commit()
        python_visible = {i.id for i in db.session.scalars(sa.select(Item))
                          if can(reader, "view", i)}
        assert len(python_visible) == 5
        assert sql_visible() == python_visible
