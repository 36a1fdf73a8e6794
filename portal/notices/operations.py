"""Importing a parsed notice as an inspection with its categories, items and measures."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.accounts.models import Department, User
from portal.audit.chain import Actor, record_event
from portal.core.errors import Invalid, OperationError
from portal.core.extensions import db
from portal.core.titles import listed
from portal.core.transitions import fire
from portal.inspections.models import APPROVAL_SINGLE, MEASURE_DONE, Inspection, Measure, RectificationItem
from portal.inspections.operations import create_category, create_inspection, create_item, set_measure_status
from portal.notices.messages import start_states_text
from portal.notices.parser import ParsedNotice, Problem
from portal.notices.status import START_STATES, StatusHint, completion_summary, state_for, status_hints
from portal.notices.text import normalise_source
from portal.notices.workflow import importing
from workflows.rectification import IMPORT_TRANSITIONS, RECTIFICATION

#: How much of a source line an import step's comment quotes, and how many lines at most (the
#: comment stays far below COMMENT_MAX_LENGTH; the import event keeps every line).
QUOTED_LINE_LENGTH = 200
QUOTED_LINES = 8


class AlreadyImported(OperationError):
    def __init__(self, inspection: Inspection):
        super().__init__(_("This notice was already imported as “%(title)s”.", title=inspection.title))
        self.inspection = inspection


def text_sha256(text: str) -> str:
    """The SHA-256 a notice is known by: over its normalised text (see `normalise_source`)."""
    return hashlib.sha256(normalise_source(text).encode("utf-8")).hexdigest()


def find_imported(text: str) -> Inspection | None:
    """The inspection imported from the same notice (line endings, width, trailing spaces aside)."""
    return find_imported_sha256(text_sha256(text))


def find_imported_sha256(sha256: str) -> Inspection | None:
    return db.session.scalar(
        sa.select(Inspection).where(Inspection.source_sha256 == sha256).order_by(Inspection.id).limit(1)
    )


def _user(user_id: int | None):

    return db.session.get(User, user_id) if user_id else None


def import_notice(
    actor: Actor,
    parsed: ParsedNotice,
    source_text: str,
    *,
    approval_policy: str = APPROVAL_SINGLE,
    party_secretary=None,
    preview: str | None = None,
    states: list[str] | None = None,
    departments: list[int | None] | None = None,
    hints: dict[int, StatusHint] | None = None,
) -> Inspection:
    """Create the inspection described by `parsed`; refuse a text imported before.

    `source_text` is stored as it was uploaded (it is the record); its hash is taken over the
    normalised text, so the same notice with other line endings is refused too. `preview`
    names the server-side preview the import came from (its token's SHA-256), for the log.

    `states`: the state each problem's item starts in, in the order of `parsed.problems` (see
    `notice_states`; None: every item starts assigned). An item that starts elsewhere takes its
    import transition through the workflow engine, as `actor` (the office), citing the lines
    of `hints` (`status_hints` of the uploaded text, taken before any correction) that state it.

    `departments`: each problem's responsible department (its id, or None), in the same order,
    as the office set it in the preview (None: no item has one).
    """
    existing = find_imported(source_text)
    if existing is not None:
        raise AlreadyImported(existing)
    problems = parsed.problems
    states = [RECTIFICATION.initial] * len(problems) if states is None else list(states)
    if len(states) != len(problems) or any(state not in START_STATES for state in states):
        raise Invalid(_("An imported item can start only as %(states)s.", states=start_states_text()))
    departments = [None] * len(problems) if departments is None else list(departments)
    if len(departments) != len(problems):
        raise Invalid(_("The departments do not match the problems of the notice; preview it again."))
    hints = status_hints(parsed, source_text) if hints is None else hints
    inspection = create_inspection(
        actor,
        title=parsed.title or _("Imported notice"),
        inspected_unit=parsed.inspected_unit,
        inspection_team=parsed.inspection_team,
        start_date=parsed.inspection_start,
        end_date=parsed.inspection_end,
        feedback_date=parsed.feedback_date,
        contact_phone=parsed.contact_phone,
        contact_address=parsed.contact_address,
        contact_email=parsed.contact_email,
        source_text=source_text,
        approval_policy=approval_policy,
        party_secretary=party_secretary,
    )
    inspection.source_sha256 = text_sha256(source_text)
    created: list[tuple[RectificationItem, Problem, str]] = []
    starts, responsible = iter(states), iter(departments)
    for position, parsed_category in enumerate(parsed.categories):
        category = None
        if parsed_category.label or parsed_category.title:
            category = create_category(
                actor, inspection, label=parsed_category.label, title=parsed_category.title, position=position
            )
        for problem in parsed_category.problems:
            state, department_id = next(starts), next(responsible)
            item = create_item(
                actor,
                inspection,
                category=category,
                number=problem.number,
                title=problem.title,
                feedback_text=problem.text,
                deadline=problem.deadline,
                money_to_recover=problem.money_to_recover,
                responsible_leader=_user(problem.leader_id),
                staff=_user(problem.staff_id),
                department=db.session.get(Department, department_id) if department_id else None,
                measures=[(m.label, m.text, m.deadline) for m in problem.measures],
                completion_summary=completion_summary(problem) if state == "completed" else "",
            )
            created.append((item, problem, state))
    db.session.flush()
    payload = {
        "sha256": inspection.source_sha256,
        "items": len(created),
        "warnings": [str(w) for w in parsed.warnings],
        "states": _start_in_states(actor, created, hints),
    }
    if preview:
        payload["preview"] = preview
    record_event(actor, "notice.import", "inspection", inspection.id, payload, inspection_id=inspection.id)
    return inspection


def notice_states(parsed: ParsedNotice, hints: dict[int, StatusHint]) -> list[str]:
    """The state each problem's item starts in as its notice states it (see `status_hints`)."""
    return [_hint(hints, p).state for p in parsed.problems]


def _hint(hints: dict[int, StatusHint], problem: Problem) -> StatusHint:
    return hints.get(id(problem)) or StatusHint(problem.status, state_for(problem.status))


def _start_in_states(actor: Actor, created, hints: dict[int, StatusHint]) -> list[dict]:
    """Move each created item that does not start assigned by its import transition (measures
    marked done first for `completed`); what the notice stated of each item, for the log."""
    moving = {item.id for item, _problem, state in created if state != RECTIFICATION.initial}
    recorded = []
    with importing(moving):
        for item, problem, state in created:
            hint = _hint(hints, problem)
            if state != RECTIFICATION.initial:
                if state == "completed":
                    _mark_measures_done(actor, item)
                fire(actor, item, IMPORT_TRANSITIONS[state], comment=_step_comment(hint, state))
            if hint.status or state != RECTIFICATION.initial:
                recorded.append(
                    {
                        "item_id": item.id,
                        "status": hint.status,
                        "stated_state": hint.state,
                        "state": state,
                        "sources": [source.as_json() for source in hint.sources],
                    }
                )
    return recorded


def _mark_measures_done(actor: Actor, item: RectificationItem) -> None:
    measures = db.session.scalars(
        sa.select(Measure).where(Measure.item_id == item.id).order_by(Measure.position)
    ).all()
    for measure in measures:
        if not measure.closed:
            set_measure_status(actor, measure, MEASURE_DONE)
    db.session.expire(item, ["measures"])


def _step_comment(hint: StatusHint, state: str) -> str:
    """The import step's comment: the notice's lines that state the item's status."""
    quoted = [
        _("line %(number)s: “%(text)s”", number=s.number, text=s.text[:QUOTED_LINE_LENGTH])
        if s.number is not None
        else f"“{s.text[:QUOTED_LINE_LENGTH]}”"
        for s in hint.sources[:QUOTED_LINES]
    ]
    if len(hint.sources) > QUOTED_LINES:
        quoted.append("…")
    where = listed(quoted, clauses=True) if quoted else _("no status")
    if state == hint.state:
        return _("As the notice states: %(where)s", where=where)
    return _("Chosen by the office in the import preview; the notice states: %(where)s", where=where)
