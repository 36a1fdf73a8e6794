"""The import transitions of the rectification workflow (issue 17, point 3), on the pure engine."""

from types import SimpleNamespace

import pytest

from tests.workflows.test_definitions import Ctx
from workflows import ENGINES, RECTIFICATION, TransitionNotAllowed, rectification
from workflows.rectification import IMPORT_STATES, IMPORT_TRANSITIONS


def test_each_stated_status_has_a_state_and_each_state_its_transition():
    assert IMPORT_STATES == {"completed": "completed", "partial": "in_progress", "in_progress": "in_progress"}
    for state, transition_id in IMPORT_TRANSITIONS.items():
        transition = RECTIFICATION.transition(transition_id)
        assert transition.sources == (RECTIFICATION.initial,) and transition.dest == state
        assert transition.guard.roles == ("office",) and "freshly_imported" in transition.guard.conditions
        assert not transition.automatic and not transition.guard.permissions
    assert "measures_closed" in RECTIFICATION.transition("import_completed").guard.conditions
    assert RECTIFICATION.transition("import_completed").effects == ("schedule_follow_up_check",)
    # the mapping is written down where the transitions are declared
    assert "import_completed" in rectification.__doc__


@pytest.mark.parametrize(
    ("transition_id", "dest"), [("import_in_progress", "in_progress"), ("import_completed", "completed")]
)
def test_the_office_takes_them_on_a_freshly_imported_item(transition_id, dest):
    engine = ENGINES["rectification"]
    item = SimpleNamespace(state="assigned")
    ok = {"freshly_imported": True, "measures_closed": True, "follow_up_due": False}
    steps = engine.fire(item, transition_id, Ctx("office", **ok))
    assert [(s.transition.id, s.from_state, s.to_state) for s in steps] == [(transition_id, "assigned", dest)]
    assert item.state == dest


@pytest.mark.parametrize("transition_id", ["import_in_progress", "import_completed"])
@pytest.mark.parametrize(
    ("roles", "conditions"),
    [
        (("office",), {"freshly_imported": False, "measures_closed": True}),  # later: never
        (
            ("leader", "Editor", "Reviewer", "ResponsibleLeader"),
            {"freshly_imported": True, "measures_closed": True},
        ),
        (("admin",), {"freshly_imported": True, "measures_closed": True}),
    ],
    ids=["not-fresh", "not-office", "admin"],
)
def test_refused_to_anyone_else_and_outside_an_import(transition_id, roles, conditions):
    item = SimpleNamespace(state="assigned")
    with pytest.raises(TransitionNotAllowed):
        ENGINES["rectification"].fire(item, transition_id, Ctx(*roles, **conditions))
    assert item.state == "assigned"


def test_completed_needs_every_measure_closed_and_nothing_leaves_another_state():
    engine = ENGINES["rectification"]
    with pytest.raises(TransitionNotAllowed):
        engine.fire(
            SimpleNamespace(state="assigned"),
            "import_completed",
            Ctx("office", freshly_imported=True, measures_closed=False),
        )
    for state in ("in_progress", "pending_review", "completed", "follow_up"):
        offered = engine.available(
            SimpleNamespace(state=state),
            Ctx("office", freshly_imported=True, measures_closed=True, **{"follow_up_due": False}),
        )
        assert not {t.id for t in offered} & set(IMPORT_TRANSITIONS.values()), state
