"""Hypothesis: random sequences of actions by random users never reach an illegal state, and the
history holds exactly one entry per successful transition."""

import sqlalchemy as sa
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from portal.audit.chain import Actor
from portal.core.errors import Invalid, MissingRequirements, NotAllowed
from portal.core.extensions import db
from portal.core.models import WorkflowHistory
from portal.core.policy import allowed_transitions
from portal.evidence.models import Evidence
from portal.evidence.operations import add_evidence_note
from portal.inspections.models import APPROVAL_DUAL, APPROVAL_SINGLE, MEASURE_STATUSES, RectificationItem
from portal.inspections.operations import add_measure, set_measure_status
from portal.workflow.models import Approval
from tests.world import PERSONAS

MANUAL = [t.id for wf in RectificationItem.__workflows__ for t in wf.transitions if not t.automatic]
WORKFLOWS = {wf.id: wf for wf in RectificationItem.__workflows__}
SUBMITTED = ("pending_review", "completed", "follow_up")


def test_random_walks_stay_legal(app, world):
    class ItemLife(RuleBasedStateMachine):
        @initialize(policy=st.sampled_from([APPROVAL_SINGLE, APPROVAL_DUAL]))
        def create(self, policy):
            self.item_id = world.new_item(policy, "assigned")
            self.steps = 0  # successful transitions, automatic ones included
            self.fires = 0  # successful calls
            self.edits = 0  # measure changes (each claims a version)

        @rule(
            persona=st.sampled_from(list(PERSONAS)),
            transition=st.sampled_from(MANUAL),
            comment=st.sampled_from(["", "请补充材料。"]),
        )
        def act(self, persona, transition, comment):
            try:
                steps = world.fire(persona, self.item_id, transition, comment=comment)
            except (NotAllowed, MissingRequirements):
                return
            self.steps += len(steps)
            self.fires += 1

        @rule(data=st.data())
        def act_as_someone_allowed(self, data):
            """Mostly walk forward: pick among what some persona may do now."""
            with app.app_context():
                item = world.item(self.item_id)
                options = [(p, t.id) for p in PERSONAS for t in allowed_transitions(world.user(p), item)]
            if options:
                persona, transition = data.draw(st.sampled_from(options))
                self.act(persona, transition, data.draw(st.sampled_from(["", "同意。"])))

        @rule(status=st.sampled_from(MEASURE_STATUSES), new=st.booleans())
        def change_measures(self, status, new):
            """Add a measure or change the first one's status; refused once the item is
            submitted (what the operations say), else it claims a version."""
            with app.app_context():
                item = world.item(self.item_id)
                submitted = item.state in SUBMITTED
                adding = new or not item.measures
                changing = adding or item.measures[0].status != status
                try:
                    if adding:
                        measure = add_measure(Actor.system("test"), item, label="一是", text="完善制度")
                        self.edits += 1
                    else:
                        measure = item.measures[0]
                    before = measure.status
                    set_measure_status(Actor.system("test"), measure, status, "长期坚持")
                    db.session.commit()
                    self.edits += before != status
                    assert not (submitted and changing)  # a change after submission is refused
                except Invalid:
                    db.session.rollback()
                    assert submitted and changing

        @invariant()
        def submitted_means_every_measure_closed(self):
            with app.app_context():
                item = world.item(self.item_id)
                if item.state in SUBMITTED:
                    assert all(m.closed for m in item.measures)

        @rule(add=st.booleans())
        def change_evidence(self, add):
            with app.app_context():
                if add:
                    add_evidence_note(Actor.system("test"), world.item(self.item_id), "补充材料")
                else:
                    db.session.execute(
                        sa.update(Evidence)
                        .where(Evidence.item_id == self.item_id)
                        .values(withdrawn_at=sa.func.now())
                    )
                db.session.commit()

        @invariant()
        def history_replays_to_the_stored_state(self):
            with app.app_context():
                item = world.item(self.item_id)
                entries = db.session.scalars(
                    sa.select(WorkflowHistory)
                    .where(WorkflowHistory.object_id == self.item_id)
                    .order_by(WorkflowHistory.id)
                ).all()
                assert len(entries) == self.steps
                assert item.version == 1 + self.fires + self.edits
                current = {wf_id: wf.initial for wf_id, wf in WORKFLOWS.items()}
                for entry in entries:
                    transition = WORKFLOWS[entry.workflow].transition(entry.action)
                    assert entry.from_state == current[entry.workflow]
                    assert entry.from_state in transition.sources
                    assert entry.to_state == (transition.dest or entry.from_state)
                    current[entry.workflow] = entry.to_state
                assert (item.state, item.publication_state) == (
                    current["rectification"],
                    current["publication"],
                )
                if item.state == "completed":
                    assert any(e.action in ("complete", "confirm") for e in entries)
                if item.state != "pending_review":
                    # approvals only stay open on items that completed with them
                    open_approvals = db.session.scalar(
                        sa.select(sa.func.count()).where(
                            Approval.item_id == self.item_id, Approval.cleared_at.is_(None)
                        )
                    )
                    assert open_approvals == 0 or any(e.action == "complete" for e in entries)

    run_state_machine_as_test(
        ItemLife, settings=settings(max_examples=25, stateful_step_count=30, deadline=None, database=None)
    )
