"""Workflow definitions are validated at import; the engine runs them on plain objects."""

import subprocess
import sys
from types import SimpleNamespace

import pytest

from workflows import (
    ENGINES,
    MODERATION,
    PUBLICATION,
    RECTIFICATION,
    Guard,
    State,
    Transition,
    TransitionNotAllowed,
    UnknownTransition,
    Workflow,
    WorkflowDefinitionError,
    WorkflowEngine,
    Worklist,
)

S = [State("a", "甲", "A", {"go": frozenset({"staff"})}), State("b", "乙", "B")]
GO = Transition("go", "前进", "Go", ("a",), "b", Guard(permissions=("go",)))


def build(**changes):
    spec = dict(
        id="t",
        title_zh="测试",
        title_en="Test",
        state_attribute="state",
        initial="a",
        states=tuple(S),
        transitions=(GO,),
    )
    spec.update(changes)
    return Workflow(**spec)


def test_a_valid_definition_builds():
    assert build().transition("go").dest == "b"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"initial": "z"}, "initial state 'z' is not a state"),
        (
            {"transitions": (Transition("go", "", "", ("a",), "z", Guard(roles=("x",))),)},
            "transition 'go' refers to unknown state 'z'",
        ),
        (
            {"transitions": (Transition("go", "", "", ("q",), "b", Guard(roles=("x",))),)},
            "transition 'go' refers to unknown state 'q'",
        ),
        ({"transitions": (Transition("go", "", "", ("a",), "b", Guard()),)}, "transition 'go' has no guard"),
        ({"states": (*S, State("c", "丙", "C"))}, "state 'c' is unreachable"),
        ({"transitions": (GO, GO)}, "duplicate transition id 'go'"),
        (
            {"transitions": (Transition("go", "", "", ("a",), "b", Guard(permissions=("fly",))),)},
            "guards on permission 'fly', which no state maps",
        ),
        (
            {"worklists": (Worklist("w", "", "", ("z",), Guard(roles=("x",))),)},
            "worklist 'w' refers to unknown state 'z'",
        ),
        ({"worklists": (Worklist("w", "", "", ("a",), Guard()),)}, "worklist 'w' has no guard"),
        (
            {
                "transitions": (
                    GO,
                    Transition(
                        "auto",
                        "",
                        "",
                        ("b",),
                        None,
                        Guard(conditions=("c",)),
                        automatic=True,
                        comment_required=True,
                    ),
                )
            },
            "automatic transition 'auto' cannot ask the user",
        ),
    ],
)
def test_invalid_definitions_name_the_problem(changes, message):
    with pytest.raises(WorkflowDefinitionError, match=message):
        build(**changes)


def test_the_three_definitions():
    assert [s.id for s in RECTIFICATION.states] == [
        "assigned",
        "in_progress",
        "pending_review",
        "completed",
        "follow_up",
    ]
    assert {t.id for t in RECTIFICATION.transitions} == {
        "start",
        "import_in_progress",
        "import_completed",
        "submit",
        "approve",
        "return",
        "complete",
        "schedule_follow_up",
        "follow_up_on_schedule",
        "confirm",
        "reopen",
    }
    assert RECTIFICATION.transition("complete").automatic
    assert RECTIFICATION.transition("follow_up_on_schedule").automatic
    assert RECTIFICATION.transition("approve").stays
    assert RECTIFICATION.transition("return").comment_required
    assert RECTIFICATION.transition("submit").evidence_required
    assert [s.id for s in PUBLICATION.states] == ["private", "published"]
    assert [s.id for s in MODERATION.states] == ["pending", "published", "rejected", "spam"]
    assert MODERATION.transition("reply").stays


def test_workflows_package_imports_no_flask():
    code = "import sys, workflows; assert not [m for m in sys.modules if m.startswith('flask')]"
    subprocess.run([sys.executable, "-c", code], check=True)


class Ctx:
    def __init__(self, *roles, **conditions):
        self._roles, self._conditions = frozenset(roles), conditions

    def roles(self):
        return self._roles

    def condition(self, name):
        return self._conditions[name]


def test_one_machine_per_workflow_without_auto_transitions():
    engine = ENGINES["rectification"]
    assert engine.machine.models == []
    assert not any(name.startswith("to_") for name in engine.machine.events)
    assert set(engine.machine.events) == {t.id for t in RECTIFICATION.transitions}


def test_guard_is_permission_and_role_and_conditions():
    engine = ENGINES["rectification"]
    item = SimpleNamespace(state="pending_review")
    approve = RECTIFICATION.transition("approve")
    ok = {"not_approved_by_actor": True, "not_responsible_staff": True}
    assert engine.allows(approve, item, Ctx("leader", "Reviewer", **ok))
    assert not engine.allows(approve, item, Ctx("leader", **ok))
    assert not engine.allows(approve, item, Ctx("Reviewer", **ok))
    assert not engine.allows(
        approve, item, Ctx("leader", "Reviewer", **ok | {"not_approved_by_actor": False})
    )
    # separation of duties: not the item's own staff
    assert not engine.allows(
        approve, item, Ctx("leader", "Reviewer", **ok | {"not_responsible_staff": False})
    )


def test_automatic_transitions_follow_until_none_applies():
    engine = ENGINES["rectification"]
    item = SimpleNamespace(state="pending_review")
    seen = []
    steps = engine.fire(
        item,
        "approve",
        Ctx(
            "leader",
            "Reviewer",
            not_approved_by_actor=True,
            not_responsible_staff=True,
            approval_policy_met=True,
            follow_up_due=False,
        ),
        on_step=seen.append,
    )
    assert [(s.transition.id, s.from_state, s.to_state) for s in steps] == [
        ("approve", "pending_review", "pending_review"),
        ("complete", "pending_review", "completed"),
    ]
    assert seen == steps and item.state == "completed"


def test_settle_fires_only_the_automatic_transitions_whose_guards_pass_now():
    engine = ENGINES["rectification"]
    item = SimpleNamespace(state="completed")
    assert engine.settle(item, Ctx(follow_up_due=False)) == [] and item.state == "completed"
    steps = engine.settle(item, Ctx(follow_up_due=True))
    assert [(s.transition.id, s.from_state, s.to_state) for s in steps] == [
        ("follow_up_on_schedule", "completed", "follow_up")
    ]
    assert item.state == "follow_up"
    assert engine.settle(item, Ctx()) == []  # nothing automatic leaves follow_up
    with pytest.raises(TransitionNotAllowed):  # never fired by hand
        engine.fire(
            SimpleNamespace(state="completed"), "follow_up_on_schedule", Ctx("office", follow_up_due=True)
        )


def test_approval_without_policy_met_stays():
    item = SimpleNamespace(state="pending_review")
    steps = ENGINES["rectification"].fire(
        item,
        "approve",
        Ctx(
            "leader",
            "Reviewer",
            not_approved_by_actor=True,
            not_responsible_staff=True,
            approval_policy_met=False,
        ),
    )
    assert [s.transition.id for s in steps] == ["approve"] and item.state == "pending_review"


def test_refusals():
    engine = ENGINES["rectification"]
    item = SimpleNamespace(state="assigned")
    with pytest.raises(UnknownTransition):
        engine.fire(item, "teleport", Ctx("office"))
    with pytest.raises(TransitionNotAllowed):
        engine.fire(item, "start", Ctx("office"))  # office lacks `work`
    with pytest.raises(TransitionNotAllowed):
        engine.fire(item, "submit", Ctx("Editor"))  # not from `assigned`
    with pytest.raises(TransitionNotAllowed):
        engine.fire(
            SimpleNamespace(state="pending_review"), "complete", Ctx(approval_policy_met=True)
        )  # automatic ones are never fired by hand
    assert item.state == "assigned"


def test_available_lists_manual_transitions_in_order():
    engine = ENGINES["rectification"]
    item = SimpleNamespace(state="follow_up")
    assert [t.id for t in engine.available(item, Ctx("office"))] == ["confirm", "reopen"]
    assert engine.available(item, Ctx("staff")) == []


def test_engine_works_on_any_state_attribute():
    engine = WorkflowEngine(MODERATION)
    feedback = SimpleNamespace(moderation_state="pending")
    engine.fire(feedback, "reply", Ctx("office"))
    assert feedback.moderation_state == "pending"
    engine.fire(feedback, "publish", Ctx("office"))
    assert feedback.moderation_state == "published"
