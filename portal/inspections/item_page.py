"""The item page, rendered for its own route and again by every form posted from it.

Forms of other features (a transition, evidence, a measure) re-render this page with the
user's input and messages when they are refused; they call `render_item`, not a view.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired

from portal.core.forms import PortalForm, max_length
from portal.core.policy import allowed_transitions, can, suspension
from portal.core.timeutil import today
from portal.core.titles import transition_title
from portal.deadlines.page import extension_panel
from portal.evidence.forms import EvidenceForm
from portal.feedback.operations import fix_check_counts
from portal.inspections.forms import (
    MEASURE_STATUS_TITLES,
    MeasureDoneForm,
    MeasureForm,
    MeasureStatusForm,
)
from portal.inspections.models import MEASURE_LONG_TERM, TEXT_MAX_LENGTH, RectificationItem
from portal.inspections.operations import SUBMITTED_STATES, item_progress, open_measures
from portal.inspections.timeline import item_approvals, item_evidence, item_timeline
from portal.notifications.forms import ChaseForm
from portal.notifications.operations import may_chase
from portal.supervision.closing_sheet import may_download as may_download_closing_sheet
from portal.supervision.letters import LETTERS
from portal.supervision.levels import item_level, measure_level
from portal.workflow.forms import TransitionForm
from portal.workflow.recent import worklist_notes
from workflows.publication import PUBLICATION
from workflows.rectification import RECTIFICATION

#: the step the staff's checklist prepares (its guard and requirements are the checklist)
SUBMIT = RECTIFICATION.transition("submit")
PUBLICATION_STEPS = frozenset(t.id for t in PUBLICATION.transitions)


def _measure_name(measure) -> str:
    """How a message names a measure: its label as written, else the start of its text."""
    return measure.label or f"“{measure.text[:16]}…”"


#: the states in which the responsible staff still write the summary (before submitting)
WRITABLE_STATES = ("assigned", "in_progress")


class SummaryForm(PortalForm):
    completion_summary = TextAreaField(
        _l("Completion summary (整改成效)"), validators=[DataRequired(), max_length(TEXT_MAX_LENGTH)]
    )
    version = HiddenField()

    def expected_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None


@dataclass(frozen=True)
class CheckLine:
    """One line of the submit checklist: what `submit` needs, whether it holds, where to do it."""

    id: str
    label: str
    done: bool
    anchor: str
    detail: str = ""


def submit_checklist(item: RectificationItem, evidence, still_open) -> list[CheckLine]:
    """What “submit for review” needs, line by line, read off its definition: its conditions
    (every measure closed), its evidence and its requirements (the completion summary)."""
    lines = []
    if "measures_closed" in SUBMIT.guard.conditions:
        lines.append(
            CheckLine(
                "measures",
                _("Every measure done, long-term (长期坚持) or not applicable"),
                not still_open,
                "measures",
                _("Still open: %(labels)s.", labels="、".join(_measure_name(m) for m in still_open))
                if still_open
                else "",
            )
        )
    if SUBMIT.evidence_required:
        attached = sum(1 for e in evidence if e.withdrawn_at is None)
        lines.append(
            CheckLine(
                "evidence",
                _("Evidence (佐证材料) attached"),
                attached > 0,
                "evidence-form",
                _("%(n)d attached.", n=attached) if attached else "",
            )
        )
    if "completion_summary" in SUBMIT.requirements:
        lines.append(
            CheckLine(
                "summary",
                _("Completion summary (整改成效) written"),
                bool(item.completion_summary.strip()),
                "summary-form",
            )
        )
    return lines


def render_item(
    item: RectificationItem,
    form: TransitionForm | None = None,
    failed: str | None = None,
    status: int = 200,
    evidence_form: EvidenceForm | None = None,
    measure_form: MeasureForm | None = None,
    chase_form: ChaseForm | None = None,
    extension_form=None,
    extension_decision_form: TransitionForm | None = None,
    extension_failed: tuple[int, str] | None = None,
    summary_form=None,
    summary_conflict: bool = False,
):
    """The item page; re-rendered with the user's input and messages when something is refused."""
    approvals, evidence = item_approvals(item), item_evidence(item)  # loaded once, for the timeline too
    still_open = open_measures(item) if item.state not in SUBMITTED_STATES else []
    day = today()
    timeline = item_timeline(item, evidence, approvals)
    transitions = allowed_transitions(current_user, item)
    can_edit, can_work = can(current_user, "edit", item), can(current_user, "work", item)
    review_steps = [t for t in transitions if "review" in t.guard.permissions]
    return render_template(
        "inspections/item.html",
        item=item,
        progress=item_progress(item),
        measures=item.measures,
        level=item_level(item, day),
        measure_levels={m.id: measure_level(m, day) for m in item.measures},
        evidence=evidence,
        approvals=approvals,
        timeline=timeline,
        # the approver's comment on each approval (from the step that recorded it)
        approval_comments={e.approval.id: e.subject.comment for e in timeline if e.approval is not None},
        # a leader's review (approve, return) is one panel with one comment; publication its own
        review_steps=review_steps,
        review_needs_comment=[transition_title(t) for t in review_steps if t.comment_required],
        submission=worklist_notes("awaiting_review", [item], day).get(item.id) if review_steps else None,
        publication_steps=[t for t in transitions if t.id in PUBLICATION_STEPS],
        transitions=[
            t for t in transitions if "review" not in t.guard.permissions and t.id not in PUBLICATION_STEPS
        ],
        form=form or TransitionForm(formdata=None, version=item.version),
        failed=failed,
        can_edit=can_edit,
        can_work=can_work,
        checklist=submit_checklist(item, evidence, still_open)
        if can_work and item.state in WRITABLE_STATES
        else [],
        summary_form=summary_form
        or (
            SummaryForm(formdata=None, completion_summary=item.completion_summary, version=item.version)
            if can_edit and item.state in WRITABLE_STATES
            else None
        ),
        summary_conflict=summary_conflict,
        can_share=can(current_user, "share", item),
        fix_counts=fix_check_counts(item.id),
        evidence_form=evidence_form or EvidenceForm(formdata=None),
        done_form=MeasureDoneForm(formdata=None),
        status_form=MeasureStatusForm(formdata=None),
        measure_status_titles=MEASURE_STATUS_TITLES,
        # what keeps the item from being submitted (shown where the step would be)
        open_measures=still_open,
        open_measure_names=[_measure_name(m) for m in still_open],
        long_term_names=[_measure_name(m) for m in item.measures if m.status == MEASURE_LONG_TERM],
        measures_locked=item.state in SUBMITTED_STATES,
        suspended=suspension(item),
        letter_titles={level: title for level, (title, _ask) in LETTERS.items()},
        closing_sheet=may_download_closing_sheet(current_user, item),
        measure_form=measure_form or MeasureForm(formdata=None),
        can_chase=may_chase(current_user, item),
        chase_form=chase_form or ChaseForm(formdata=None),
        extensions=extension_panel(
            item, current_user, extension_form, extension_decision_form, extension_failed
        ),
    ), status
