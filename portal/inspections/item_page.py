"""The item page, rendered for its own route and again by every form posted from it.

Forms of other features (a transition, evidence, a measure) re-render this page with the
user's input and messages when they are refused; they call `render_item`, not a view.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import render_template
from flask_login import current_user

from portal.core.extensions import db
from portal.core.policy import allowed_transitions, can, suspension
from portal.core.timeutil import today
from portal.deadlines.page import extension_panel
from portal.evidence.forms import EvidenceForm
from portal.evidence.models import Evidence
from portal.feedback.operations import fix_check_counts
from portal.inspections.forms import (
    MEASURE_STATUS_TITLES,
    MeasureDoneForm,
    MeasureForm,
    MeasureStatusForm,
)
from portal.inspections.models import MEASURE_LONG_TERM, RectificationItem
from portal.inspections.operations import SUBMITTED_STATES, item_progress, open_measures
from portal.inspections.timeline import item_timeline
from portal.notifications.forms import ChaseForm
from portal.notifications.operations import may_chase
from portal.supervision.closing_sheet import may_download as may_download_closing_sheet
from portal.supervision.letters import LETTERS
from portal.supervision.levels import item_level, measure_level
from portal.workflow.forms import TransitionForm
from portal.workflow.models import Approval


def _measure_name(measure) -> str:
    """How a message names a measure: its label as written, else the start of its text."""
    return measure.label or f"“{measure.text[:16]}…”"


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
):
    """The item page; re-rendered with the user's input and messages when something is refused."""
    approvals = db.session.scalars(
        sa.select(Approval)
        .options(so.joinedload(Approval.user))
        .where(Approval.item_id == item.id)
        .order_by(Approval.id)
    ).all()
    evidence = db.session.scalars(
        sa.select(Evidence)
        .options(so.joinedload(Evidence.added_by))
        .where(Evidence.item_id == item.id)
        .order_by(Evidence.id)
    ).all()
    still_open = open_measures(item) if item.state not in SUBMITTED_STATES else []
    day = today()
    return render_template(
        "inspections/item.html",
        item=item,
        progress=item_progress(item),
        measures=item.measures,
        level=item_level(item, day),
        measure_levels={m.id: measure_level(m, day) for m in item.measures},
        evidence=evidence,
        approvals=approvals,
        timeline=item_timeline(item),
        transitions=allowed_transitions(current_user, item),
        form=form or TransitionForm(formdata=None, version=item.version),
        failed=failed,
        can_edit=can(current_user, "edit", item),
        can_work=can(current_user, "work", item),
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
