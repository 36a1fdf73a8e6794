"""Deadline levels (三色): the thresholds exactly, closed items and measures, the measure's own
deadline, and the SQL expression equal to the Python rule for random data."""

from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.core.extensions import db
from portal.inspections.models import MEASURE_STATUSES, Inspection, Measure, RectificationItem
from portal.supervision.levels import (
    BY_ID,
    INTERVIEW,
    LEVELS,
    NONE,
    REMIND,
    SUPERVISE,
    WARN,
    deadline_level,
    item_levels,
    level_expression,
    measure_level,
)
from tests.helpers import examples
from workflows import RECTIFICATION

TODAY = date(2026, 12, 1)
DEFAULTS = SimpleNamespace(remind_days=20, warn_days=10, interview_days=15)


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [
        (365, NONE),
        (21, NONE),
        (20, REMIND),
        (11, REMIND),
        (10, WARN),
        (1, WARN),
        (0, WARN),  # due today: not yet overdue
        (-1, SUPERVISE),
        (-14, SUPERVISE),
        (-15, INTERVIEW),
        (-16, INTERVIEW),
        (-400, INTERVIEW),
    ],
)
def test_default_thresholds(days_left, expected):
    deadline = TODAY + timedelta(days=days_left)
    assert deadline_level(deadline, TODAY, DEFAULTS, closed=False) == expected


def test_thresholds_are_the_inspections():
    strict = SimpleNamespace(remind_days=5, warn_days=0, interview_days=1)
    levels = [deadline_level(TODAY + timedelta(days=d), TODAY, strict, False).id for d in (6, 5, 1, 0, -1)]
    assert levels == ["none", "remind", "remind", "warn", "interview"]


@pytest.mark.parametrize("days_left", [30, 20, 10, 0, -1, -15, -100])
def test_closed_and_undated_have_no_level(days_left):
    assert deadline_level(TODAY + timedelta(days=days_left), TODAY, DEFAULTS, closed=True) == NONE
    assert deadline_level(None, TODAY, DEFAULTS, closed=False) == NONE


def test_levels_are_ordered_and_named():
    assert [level.order for level in LEVELS] == sorted(level.order for level in LEVELS)
    assert [level.title_zh for level in LEVELS[1:]] == ["提醒", "预警", "督办", "约谈"]
    assert [level.id for level in LEVELS if level.overdue] == ["supervise", "interview"]
    assert not NONE and all(LEVELS[1:])


def _inspection(**thresholds) -> Inspection:
    inspection = Inspection(title="区科技创新局巡察整改", created_at=datetime(2026, 1, 1), **thresholds)
    db.session.add(inspection)
    db.session.flush()
    return inspection


def _item(inspection, deadline, state="in_progress") -> RectificationItem:
    item = RectificationItem(
        inspection=inspection,
        title="加强产业用房管理",
        deadline=deadline,
        state=state,
        created_at=datetime(2026, 1, 1),
    )
    db.session.add(item)
    db.session.flush()
    return item


def test_a_measure_has_its_own_deadline_else_its_items(app):
    with app.app_context():
        try:
            item = _item(_inspection(), TODAY + timedelta(days=10))
            own = Measure(item_id=item.id, text="完善制度", deadline=TODAY - timedelta(days=3))
            inherited = Measure(item_id=item.id, text="开展自查")
            done = Measure(
                item_id=item.id, text="追回资金", deadline=TODAY - timedelta(days=30), status="done"
            )
            db.session.add_all([own, inherited, done])
            db.session.flush()
            assert [measure_level(m, TODAY) for m in (own, inherited, done)] == [SUPERVISE, WARN, NONE]
            sql = dict(db.session.execute(sa.select(Measure.id, level_expression(Measure, TODAY))).all())
            assert [sql[m.id] for m in (own, inherited, done)] == ["supervise", "warn", "none"]
        finally:
            db.session.rollback()


@pytest.mark.parametrize("state", ["completed", "follow_up"])
def test_completed_items_and_their_measures_have_no_level(app, state):
    with app.app_context():
        try:
            item = _item(_inspection(), TODAY - timedelta(days=40), state=state)
            measure = Measure(item_id=item.id, text="完善制度", deadline=TODAY - timedelta(days=40))
            db.session.add(measure)
            db.session.flush()
            assert item_levels([item], TODAY) == {item.id: NONE}
            assert measure_level(measure, TODAY) == NONE
        finally:
            db.session.rollback()


def test_item_levels_is_one_statement_for_any_number_of_items(app):
    with app.app_context():
        try:
            inspection = _inspection()
            items = [_item(inspection, TODAY + timedelta(days=d)) for d in range(-30, 30)]
            seen = []
            listener = lambda *_args: seen.append(1)  # noqa: E731
            sa.event.listen(db.engine, "before_cursor_execute", listener)
            try:
                levels = item_levels(items, TODAY)
            finally:
                sa.event.remove(db.engine, "before_cursor_execute", listener)
            assert len(seen) == 1
            assert {level.id for level in levels.values()} == {
                "none",
                "remind",
                "warn",
                "supervise",
                "interview",
            }
        finally:
            db.session.rollback()


thresholds = st.tuples(st.integers(0, 40), st.integers(1, 40), st.integers(1, 40)).map(
    lambda t: {"warn_days": t[0], "remind_days": t[0] + t[1], "interview_days": t[2]}
)
offsets = st.one_of(st.none(), st.integers(-80, 80))
item_spec = st.tuples(
    offsets,
    st.sampled_from([s.id for s in RECTIFICATION.states]),
    st.lists(st.tuples(offsets, st.sampled_from(MEASURE_STATUSES)), max_size=3),
)
world_spec = st.lists(
    st.tuples(thresholds, st.lists(item_spec, min_size=1, max_size=6)), min_size=1, max_size=3
)


def _day(offset):
    return None if offset is None else TODAY + timedelta(days=offset)


@pytest.mark.timeout(600)
@settings(
    max_examples=examples(150),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=world_spec, shift=st.integers(-40, 40))
def test_sql_levels_equal_python_levels(app, spec, shift):
    """Random thresholds, deadlines, item states and measure statuses, on a random day."""
    today = TODAY + timedelta(days=shift)
    with app.app_context():
        try:
            items, measures = [], []
            for limits, item_specs in spec:
                inspection = _inspection(**limits)
                for offset, state, measure_specs in item_specs:
                    item = _item(inspection, _day(offset), state)
                    items.append(item)
                    for m_offset, status in measure_specs:
                        reason = "长期坚持" if status in ("long_term", "not_applicable") else ""
                        measure = Measure(
                            item=item,
                            text="措施",
                            deadline=_day(m_offset),
                            status=status,
                            status_reason=reason,
                        )
                        db.session.add(measure)
                        measures.append(measure)
            db.session.flush()
            expected_items = {
                i.id: deadline_level(
                    i.deadline, today, i.inspection, i.state in ("completed", "follow_up")
                ).id
                for i in items
            }
            sql_items = dict(
                db.session.execute(
                    sa.select(RectificationItem.id, level_expression(RectificationItem, today))
                ).all()
            )
            assert sql_items == expected_items
            assert {k: v.id for k, v in item_levels(items, today).items()} == expected_items
            expected_measures = {m.id: measure_level(m, today).id for m in measures}
            sql_measures = dict(
                db.session.execute(sa.select(Measure.id, level_expression(Measure, today))).all()
            )
            assert sql_measures == expected_measures
            assert set(sql_items.values()) | set(sql_measures.values()) <= set(BY_ID)
        finally:
            db.session.rollback()
