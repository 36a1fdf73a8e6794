"""Public feedback: submitting with a tracking code, looking it up, moderating it."""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa

from portal.audit.chain import Actor, record_event, utcnow
from portal.core.extensions import db
from portal.core.transitions import fire
from portal.feedback.models import Feedback, FixCheck
from portal.notifications.operations import notify

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L to misread
CODE_LENGTH = 12  # 31**12 ≈ 2**59 possibilities


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def code_hash(code: str) -> str:
    normal = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(normal.encode()).hexdigest()


def submit_feedback(
    inspection, item, *, kind: str, text: str, name: str = "", phone: str = "", email: str = ""
) -> tuple[Feedback, str]:
    """Store public feedback; return it and its tracking code (shown once, stored hashed)."""
    code = new_code()
    feedback = Feedback(
        inspection_id=inspection.id,
        item_id=item.id if item else None,
        kind=kind,
        text=text.strip(),
        name=name.strip(),
        phone=phone.strip(),
        email=email.strip(),
        code_hash=code_hash(code),
        created_at=utcnow(),
    )
    db.session.add(feedback)
    db.session.flush()
    # Contact details are stored once, on the row; the audit event only says they were given.
    record_event(
        Actor.anonymous(),
        "feedback.submit",
        "feedback",
        feedback.id,
        {
            "inspection_id": inspection.id,
            "item_id": feedback.item_id,
            "kind": kind,
            "text": feedback.text,
            "contact_given": bool(name or phone or email),
        },
        inspection_id=inspection.id,
    )
    return feedback, code


def find_by_code(code: str) -> Feedback | None:
    return db.session.scalar(sa.select(Feedback).where(Feedback.code_hash == code_hash(code)))


def edit_text(actor: Actor, feedback: Feedback, text: str) -> None:
    """Correct the text (e.g. remove personal data); the submitter's words stay for auditors."""
    text = text.strip()
    if text == feedback.text:
        return
    if feedback.original_text is None:
        feedback.original_text = feedback.text
    before, feedback.text = feedback.text, text
    db.session.flush()
    record_event(
        actor,
        "feedback.edit",
        "feedback",
        feedback.id,
        {"before": before, "after": text},
        inspection_id=feedback.inspection_id,
    )


def forward_feedback(actor: Actor, feedback: Feedback, department, note: str = "") -> None:
    """转办: forward a report to a responsible department, whose staff then find it in their
    worklist of forwarded feedback. The step (history, audit event) names the department."""
    note = note.strip()
    feedback.forward_to_department_id = department.id
    try:
        fire(actor, feedback, "forward", comment=f"{department.name}：{note}" if note else department.name)
    finally:
        feedback.forward_to_department_id = None


def mark_handled(actor: Actor, feedback: Feedback, note: str = "") -> None:
    """The department has dealt with a forwarded report: it leaves the department's worklist."""
    fire(actor, feedback, "mark_handled", comment=note)


def forward_target(feedback: Feedback):
    """The department a report goes to by default: its item's responsible department."""
    return feedback.item.department if feedback.item is not None else None


#: The rectification states in which the public may answer “is it really fixed?”.
FIX_CHECK_STATES = ("completed", "follow_up")


def fix_check_open(item) -> bool:
    return item.state in FIX_CHECK_STATES


def answer_fix_check(item, answer: str, comment: str = ""):
    """Record a public “is it really fixed?” answer on a completed item."""

    check = FixCheck(item_id=item.id, answer=answer, comment=comment.strip()[:500], created_at=utcnow())
    db.session.add(check)
    db.session.flush()
    record_event(
        Actor.anonymous(),
        "fix_check.answer",
        "item",
        item.id,
        {"answer": answer, "comment": check.comment, "fix_check_id": check.id},
        inspection_id=item.inspection_id,
    )
    if answer == "not_fixed":
        recipients = [item.staff_id, item.responsible_leader_id]
        notify(recipients, "not_fixed", item, actor=Actor.anonymous(), obj=check, comment=check.comment)
    return check


def fix_check_counts(item_id: int) -> dict[str, int]:

    return dict(
        db.session.execute(
            sa.select(FixCheck.answer, sa.func.count())
            .where(FixCheck.item_id == item_id)
            .group_by(FixCheck.answer)
        ).all()
    )
