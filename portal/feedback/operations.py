"""Public feedback: submitting with a tracking code, looking it up, moderating it."""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit.chain import Actor, record_event, utcnow
from portal.extensions import db
from portal.feedback.models import Feedback
from portal.workflow.models import WorkflowHistory
from portal.workflow.operations import Conflict, MissingRequirements
from workflows import ENGINES, MODERATION, TransitionNotAllowed

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L to misread
CODE_LENGTH = 12  # 31**12 ≈ 2**59 possibilities


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def code_hash(code: str) -> str:
    normal = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(normal.encode()).hexdigest()


def submit_feedback(inspection, item, *, kind: str, text: str, name: str = "", phone: str = "",
                    email: str = "") -> tuple[Feedback, str]:
    """Store public feedback; return it and its tracking code (shown once, stored hashed)."""
    code = new_code()
    feedback = Feedback(inspection_id=inspection.id, item_id=item.id if item else None, kind=kind,
                        text=text.strip(), name=name.strip(), phone=phone.strip(),
                        email=email.strip(), code_hash=code_hash(code), created_at=utcnow())
    db.session.add(feedback)
    db.session.flush()
    # Contact details are stored once, on the row; the audit event only says they were given.
    record_event(Actor.anonymous(), "feedback.submit", "feedback", feedback.id, {
        "inspection_id": inspection.id, "item_id": feedback.item_id, "kind": kind,
        "text": feedback.text, "contact_given": bool(name or phone or email)},
        inspection_id=inspection.id)
    return feedback, code


def find_by_code(code: str) -> Feedback | None:
    return db.session.scalar(sa.select(Feedback).where(Feedback.code_hash == code_hash(code)))


class _ModeratorContext:
    def __init__(self, user):
        self.user = user

    def roles(self) -> frozenset[str]:
        return frozenset({"Authenticated"} | set(self.user.roles))

    def condition(self, name: str) -> bool:
        raise KeyError(name)


class _StateHolder:
    def __init__(self, state: str):
        self.moderation_state = state


def moderate(user, feedback: Feedback, transition_id: str, comment: str = "") -> None:
    """Fire a moderation transition (publish, reject, mark_spam, reply) as `user`."""
    engine = ENGINES[MODERATION.id]
    if not MODERATION.has_transition(transition_id):
        raise TransitionNotAllowed(transition_id, "unknown")
    transition = MODERATION.transition(transition_id)
    comment = (comment or "").strip()
    if transition.comment_required and not comment:
        raise MissingRequirements({"comment": _("A comment is required for “%(action)s”.",
                                                action=transition.title_zh)})
    before = feedback.moderation_state
    holder = _StateHolder(before)
    steps = engine.fire(holder, transition_id, _ModeratorContext(user))
    values = {"moderation_state": holder.moderation_state}
    if transition_id == "reply":
        values.update(reply=comment, replied_at=utcnow())
    changed = db.session.execute(
        sa.update(Feedback).where(Feedback.id == feedback.id, Feedback.moderation_state == before)
        .values(**values).execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise Conflict(_("This feedback was moderated by someone else in the meantime."))
    for step in steps:
        db.session.add(WorkflowHistory(
            object_type="feedback", object_id=feedback.id, workflow=MODERATION.id,
            action=step.transition.id, actor_id=user.id, comment=comment,
            from_state=step.from_state, to_state=step.to_state, at=utcnow(), evidence_ids=[]))
        record_event(Actor.of(user), f"moderation.{step.transition.id}", "feedback", feedback.id,
                     {"from": step.from_state, "to": step.to_state, "comment": comment},
                     inspection_id=feedback.inspection_id)
    db.session.flush()
    db.session.expire(feedback)


def edit_text(user, feedback: Feedback, text: str) -> None:
    """Correct the text (e.g. remove personal data); the submitter's words stay for auditors."""
    text = text.strip()
    if text == feedback.text:
        return
    if feedback.original_text is None:
        feedback.original_text = feedback.text
    before, feedback.text = feedback.text, text
    db.session.flush()
    record_event(Actor.of(user), "feedback.edit", "feedback", feedback.id,
                 {"before": before, "after": text}, inspection_id=feedback.inspection_id)


def answer_fix_check(item, answer: str, comment: str = ""):
    """Record a public “is it really fixed?” answer on a completed item."""
    from portal.feedback.models import FixCheck

    check = FixCheck(item_id=item.id, answer=answer, comment=comment.strip()[:500],
                     created_at=utcnow())
    db.session.add(check)
    db.session.flush()
    record_event(Actor.anonymous(), "fix_check.answer", "item", item.id,
                 {"answer": answer, "comment": check.comment, "fix_check_id": check.id},
                 inspection_id=item.inspection_id)
    return check


def fix_check_counts(item_id: int) -> dict[str, int]:
    from portal.feedback.models import FixCheck

    return dict(db.session.execute(sa.select(FixCheck.answer, sa.func.count()).where(
        FixCheck.item_id == item_id).group_by(FixCheck.answer)).all())
