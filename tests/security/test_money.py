"""Money is a Decimal in yuan with fen: 0 ≤ amount < 10^12, at most two decimals, in the form,
in the operation and in the database; stored exactly on SQLite and PostgreSQL, and the audit
log records what is stored."""

import json
from datetime import datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.audit.chain import Actor
from portal.audit.models import AuditEvent
from portal.core.errors import Invalid
from portal.core.extensions import db
from portal.inspections.models import Inspection, RectificationItem
from portal.inspections.operations import create_item, update_document
from tests.inspections.test_readable_history import _edit_form

MONEY_MESSAGE = "最多两位小数"

HOSTILE_AMOUNTS = ["Infinity", "-Infinity", "inf", "NaN", "1e400", "9" * 30, "1000000000000", "1.005", "1e3"]


@pytest.mark.parametrize("amount", HOSTILE_AMOUNTS)
def test_the_form_refuses_amounts_out_of_range(app, world, signed_in, amount):
    item_id = world.new_item()
    office = signed_in("office")
    data = _edit_form(world, item_id, money_to_recover=amount, title="标题已改")
    response = office.post_form(f"/items/{item_id}/edit", data)
    assert response.status_code == 200 and MONEY_MESSAGE in response.text
    assert 'value="标题已改"' in response.text and f'value="{amount}"' in response.text  # input kept
    with app.app_context():
        item = world.item(item_id)
        assert item.money_to_recover is None and item.title != "标题已改"


def test_the_form_refuses_negative_amounts(app, world, signed_in):
    item_id = world.new_item()
    response = signed_in("office").post_form(
        f"/items/{item_id}/edit", _edit_form(world, item_id, money_recovered="-0.01")
    )
    assert response.status_code == 200 and "金额不能为负数" in response.text


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("0", "0.00"), ("0.01", "0.01"), ("161000.5", "161000.50"), ("999999999999.99", "999999999999.99")],
)
def test_amounts_in_range_are_stored_exactly_and_audited_as_stored(app, world, signed_in, typed, stored):
    item_id = world.new_item()
    response = signed_in("office").post_form(
        f"/items/{item_id}/edit", _edit_form(world, item_id, money_to_recover=typed)
    )
    assert response.status_code == 302, response.text
    with app.app_context():
        db.session.expire_all()
        assert str(world.item(item_id).money_to_recover) == stored
        event = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "item.update").order_by(AuditEvent.seq.desc())
        ).first()
        assert json.loads(event.payload)["changes"]["money_to_recover"]["after"] == stored


@pytest.mark.parametrize(
    "amount", [Decimal("Infinity"), Decimal("NaN"), Decimal("1E+400"), Decimal(10) ** 12, Decimal("-1")]
)
def test_the_operations_refuse_amounts_out_of_range(app, world, amount):
    item_id = world.new_item()
    with app.app_context():
        with pytest.raises(Invalid):
            update_document(Actor.system("test"), world.item(item_id), {"money_recovered": amount})
        db.session.rollback()
        with pytest.raises(Invalid):
            create_item(
                Actor.system("test"),
                db.session.get(Inspection, world.inspections["single"]),
                title="新事项",
                money_to_recover=amount,
            )
        db.session.rollback()


def test_the_database_refuses_amounts_out_of_range(app, world):
    item_id = world.new_item()
    for amount in (Decimal("-0.01"), Decimal("1000000000000")):
        with app.app_context():
            db.session.execute(
                sa.update(RectificationItem).where(RectificationItem.id == item_id).values(money_recovered=0)
            )
            with pytest.raises((sa.exc.IntegrityError, sa.exc.DataError)):
                db.session.execute(
                    sa.update(RectificationItem)
                    .where(RectificationItem.id == item_id)
                    .values(money_recovered=amount)
                )
            db.session.rollback()


def test_sums_are_exact_on_either_database(app, world):
    """Two hundred amounts of 0.10 and the largest amount sum to what a person adds up."""
    with app.app_context():
        inspection_id = world.inspections["single"]
        now = datetime(2026, 1, 1)
        rows = [
            {
                "inspection_id": inspection_id,
                "title": f"事项{n}",
                "money_recovered": Decimal("0.10"),
                "created_at": now,
            }
            for n in range(200)
        ]
        rows.append(
            {
                "inspection_id": inspection_id,
                "title": "大额",
                "money_recovered": Decimal("999999999999.99"),
                "created_at": now,
            }
        )
        db.session.execute(sa.insert(RectificationItem), rows)
        total = db.session.scalar(sa.select(sa.func.sum(RectificationItem.money_recovered)))
        assert Decimal(total) == Decimal("1000000000019.99")
        stored = db.session.scalars(
            sa.select(RectificationItem.money_recovered).where(RectificationItem.title == "大额")
        ).one()
        assert stored == Decimal("999999999999.99") and str(stored) == "999999999999.99"
        db.session.rollback()
