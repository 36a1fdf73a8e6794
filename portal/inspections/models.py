"""The content tree: Inspection → Category → RectificationItem.

Items carry two workflow states (rectification and publication) and a version that every
transition and edit increments; transitions update them conditionally (portal.core.transitions).
Each class declares what the policy needs to judge it (see portal.core.content).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.core.content import DerivedRole
from portal.core.extensions import db
from portal.core.models import max_lengths
from workflows import LIFECYCLE, PUBLICATION, RECTIFICATION
from workflows.containers import CONTAINER_PERMISSIONS

APPROVAL_SINGLE = "single"  # the responsible leader approves
APPROVAL_DUAL = "dual"  # 双审制: the responsible leader and the party secretary approve
APPROVAL_POLICIES = (APPROVAL_SINGLE, APPROVAL_DUAL)

#: Length limits of the documents' text, in characters: the forms and the imports say so, the
#: database refuses more (see portal.core.models.max_lengths).
TITLE_MAX_LENGTH = 300
LABEL_MAX_LENGTH = 20  # a label or number as written (一, 一是, 3)
UNIT_MAX_LENGTH = 200  # the inspected unit, the team, the contact address
PHONE_MAX_LENGTH = 60
EMAIL_MAX_LENGTH = 254
TEXT_MAX_LENGTH = 10_000  # an item's feedback text, completion and public summary; a measure
REASON_MAX_LENGTH = 500  # why a measure is long-term or not applicable
#: An imported notice's text (the import page refuses a longer one).
SOURCE_TEXT_MAX_LENGTH = 100_000


def _money_range(column: str) -> sa.CheckConstraint:
    """Amounts are yuan with fen, 0 ≤ amount < 10^12: NUMERIC(14, 2) on PostgreSQL; SQLite keeps
    any number in the column, so the range is checked (portal.core.forms.money_problem)."""
    amount = sa.column(column)
    return sa.CheckConstraint(sa.and_(amount >= 0, amount < 10**12), name=f"{column}_range")


#: The inspection's party secretary (党组书记) reviews every item under 双审制.
PARTY_SECRETARY = (("Reviewer", "PartySecretary"), "party_secretary_id")
_DUAL = (("approval_policy", APPROVAL_DUAL),)


class Inspection(db.Model):
    """巡察轮次: one inspection and the rectification of what it found."""

    __tablename__ = "inspections"
    __sharing_type__ = "inspection"
    __permissions__ = CONTAINER_PERMISSIONS
    __workflows__ = (LIFECYCLE,)  # 撤销: a withdrawn inspection suspends everything in it
    __derived_roles__ = (DerivedRole(*PARTY_SECRETARY, when=_DUAL),)
    __table_args__ = (
        sa.CheckConstraint(sa.column("approval_policy").in_(APPROVAL_POLICIES), name="known_approval_policy"),
        sa.CheckConstraint(
            sa.and_(
                sa.column("warn_days") >= 0,
                sa.column("warn_days") < sa.column("remind_days"),
                sa.column("interview_days") >= 1,
                sa.column("follow_up_months") >= 1,
            ),
            name="deadline_thresholds",
        ),
        *max_lengths(
            title=TITLE_MAX_LENGTH,
            inspected_unit=UNIT_MAX_LENGTH,
            inspection_team=UNIT_MAX_LENGTH,
            contact_phone=PHONE_MAX_LENGTH,
            contact_address=UNIT_MAX_LENGTH,
            contact_email=EMAIL_MAX_LENGTH,
            source_text=SOURCE_TEXT_MAX_LENGTH,
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(300))
    inspected_unit: so.Mapped[str] = so.mapped_column(sa.String(200), default="", server_default="")
    inspection_team: so.Mapped[str] = so.mapped_column(sa.String(200), default="", server_default="")
    start_date: so.Mapped[date | None] = so.mapped_column(sa.Date)
    end_date: so.Mapped[date | None] = so.mapped_column(sa.Date)
    feedback_date: so.Mapped[date | None] = so.mapped_column(sa.Date)
    approval_policy: so.Mapped[str] = so.mapped_column(
        sa.String(16), default=APPROVAL_SINGLE, server_default=APPROVAL_SINGLE
    )
    party_secretary_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    # The public contact block (监督电话、地址、邮箱) printed under published progress.
    contact_phone: so.Mapped[str] = so.mapped_column(sa.String(60), default="", server_default="")
    contact_address: so.Mapped[str] = so.mapped_column(sa.String(200), default="", server_default="")
    contact_email: so.Mapped[str] = so.mapped_column(sa.String(254), default="", server_default="")
    source_text: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    #: SHA-256 of the imported notice text, so that importing it twice finds the first import
    source_sha256: so.Mapped[str | None] = so.mapped_column(sa.String(64), index=True)
    lifecycle_state: so.Mapped[str] = so.mapped_column(
        sa.String(32), default="active", server_default="active"
    )
    #: bumped by every transition (withdraw, restore), which update conditionally on it
    version: so.Mapped[int] = so.mapped_column(default=1, server_default="1")
    # Deadline levels (三色, portal.supervision.levels): 提醒 with this many days or fewer left,
    # 预警 with fewer still, 督办 once overdue, 约谈 this many days or more overdue.
    remind_days: so.Mapped[int] = so.mapped_column(default=20, server_default="20")
    warn_days: so.Mapped[int] = so.mapped_column(default=10, server_default="10")
    interview_days: so.Mapped[int] = so.mapped_column(default=15, server_default="15")
    #: 回头看: completed items return for a follow-up check this many months later
    follow_up_months: so.Mapped[int] = so.mapped_column(default=6, server_default="6")
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())

    party_secretary = so.relationship("User", foreign_keys=[party_secretary_id])
    categories: so.Mapped[list[Category]] = so.relationship(
        back_populates="inspection", order_by="Category.position"
    )


class Category(db.Model):
    """反馈问题类别: a group of problems, label kept as written (一, 二 …)."""

    __tablename__ = "categories"
    __sharing_type__ = "category"
    __acquisition__ = ("inspection",)
    __suspended_via__ = ("inspection",)
    __permissions__ = CONTAINER_PERMISSIONS
    __derived_roles__ = (DerivedRole(*PARTY_SECRETARY, via="inspection", when=_DUAL),)
    __table_args__ = max_lengths(label=LABEL_MAX_LENGTH, title=TITLE_MAX_LENGTH)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    inspection_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("inspections.id", ondelete="CASCADE"), index=True
    )
    label: so.Mapped[str] = so.mapped_column(sa.String(20), default="", server_default="")
    title: so.Mapped[str] = so.mapped_column(sa.String(300))
    position: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    local_roles_blocked: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())

    inspection: so.Mapped[Inspection] = so.relationship(back_populates="categories")


class RectificationItem(db.Model):
    """整改事项: one problem to rectify; the document the rectification workflow runs on."""

    __tablename__ = "items"
    __sharing_type__ = "item"
    __acquisition__ = ("category", "inspection")
    __workflows__ = (RECTIFICATION, PUBLICATION, LIFECYCLE)
    __suspended_via__ = ("inspection",)
    #: Only who may "assign" (the office) decides who works on an item, by when and on what
    #: amount; progress and the money recovered are "reported" (workflows.rectification).
    __field_permissions__ = {
        "category_id": "assign",
        "responsible_leader_id": "assign",
        "department_id": "assign",
        "staff_id": "assign",
        "deadline": "assign",
        "money_to_recover": "assign",
        "progress_override": "report",
        "money_recovered": "report",
    }
    __derived_roles__ = (
        DerivedRole(("Editor",), "staff_id"),  # the responsible staff (主办人)
        DerivedRole(("Reviewer", "ResponsibleLeader"), "responsible_leader_id"),  # 分管领导
        DerivedRole(*PARTY_SECRETARY, via="inspection", when=_DUAL),
    )
    __worklist_order__ = ("deadline", "id")  # earliest deadline first, none last
    __worklist_load__ = ("inspection",)
    __table_args__ = (
        # covering for the overdue and due-soon counts and lists: state, deadline, not
        # withdrawn, and the columns that make the staff and leaders' roles on an item
        sa.Index(
            "ix_items_state_deadline",
            "state",
            "deadline",
            "lifecycle_state",
            "inspection_id",
            "staff_id",
            "responsible_leader_id",
        ),
        sa.Index("ix_items_staff_state", "staff_id", "state"),
        sa.Index("ix_items_leader_state", "responsible_leader_id", "state"),
        # the few withdrawn items, for "not of a withdrawn item" (portal.core.filters._key_in)
        sa.Index("ix_items_lifecycle_state", "lifecycle_state"),
        *max_lengths(
            number=LABEL_MAX_LENGTH,
            title=TITLE_MAX_LENGTH,
            feedback_text=TEXT_MAX_LENGTH,
            completion_summary=TEXT_MAX_LENGTH,
            public_summary=TEXT_MAX_LENGTH,
        ),
        _money_range("money_to_recover"),
        _money_range("money_recovered"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    inspection_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("inspections.id", ondelete="CASCADE"), index=True
    )
    category_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("categories.id", ondelete="CASCADE"), index=True
    )
    number: so.Mapped[str] = so.mapped_column(sa.String(20), default="", server_default="")
    title: so.Mapped[str] = so.mapped_column(sa.String(300))
    feedback_text: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    responsible_leader_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    department_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("departments.id", ondelete="RESTRICT")
    )
    staff_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    deadline: so.Mapped[date | None] = so.mapped_column(sa.Date)
    completion_summary: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    money_to_recover: so.Mapped[Decimal | None] = so.mapped_column(sa.Numeric(14, 2))
    money_recovered: so.Mapped[Decimal | None] = so.mapped_column(sa.Numeric(14, 2))
    public_summary: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    state: so.Mapped[str] = so.mapped_column(sa.String(32), default="assigned", server_default="assigned")
    publication_state: so.Mapped[str] = so.mapped_column(
        sa.String(32), default="private", server_default="private"
    )
    lifecycle_state: so.Mapped[str] = so.mapped_column(
        sa.String(32), default="active", server_default="active"
    )
    version: so.Mapped[int] = so.mapped_column(default=1, server_default="1")
    local_roles_blocked: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    #: 0–100 set by a user; None means "roll up from the measures"
    progress_override: so.Mapped[int | None] = so.mapped_column()
    #: 回头看: the day a completed item's follow-up check falls due (set on completion to the
    #: day plus the inspection's follow_up_months; cleared when the check begins)
    follow_up_due_on: so.Mapped[date | None] = so.mapped_column(sa.Date)
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())

    inspection: so.Mapped[Inspection] = so.relationship()
    measures: so.Mapped[list[Measure]] = so.relationship(
        back_populates="item", order_by="Measure.position, Measure.id"
    )
    category: so.Mapped[Category | None] = so.relationship()
    responsible_leader = so.relationship("User", foreign_keys=[responsible_leader_id])
    staff = so.relationship("User", foreign_keys=[staff_id])
    department = so.relationship("Department")

    def __repr__(self) -> str:
        return f"<RectificationItem {self.id} {self.state}/{self.publication_state} v{self.version}>"


#: A measure's status. Open measures keep an item from being submitted; long-term (长期坚持)
#: and not applicable (不适用) close a measure only with a stated reason.
MEASURE_OPEN, MEASURE_DONE, MEASURE_LONG_TERM, MEASURE_NOT_APPLICABLE = (
    "open",
    "done",
    "long_term",
    "not_applicable",
)
MEASURE_STATUSES = (MEASURE_OPEN, MEASURE_DONE, MEASURE_LONG_TERM, MEASURE_NOT_APPLICABLE)
#: Statuses that need a reason.
MEASURE_REASONED = (MEASURE_LONG_TERM, MEASURE_NOT_APPLICABLE)


class Measure(db.Model):
    """整改措施: one measure of an item, label kept as written (一是、二是、四是 — never renumbered)."""

    __tablename__ = "measures"
    __permission_target__ = "item"
    __table_args__ = (
        sa.CheckConstraint(sa.column("status").in_(MEASURE_STATUSES), name="known_measure_status"),
        sa.CheckConstraint(
            sa.or_(sa.column("status").not_in(MEASURE_REASONED), sa.column("status_reason") != ""),
            name="measure_status_reason",
        ),
        *max_lengths(label=LABEL_MAX_LENGTH, text=TEXT_MAX_LENGTH, status_reason=REASON_MAX_LENGTH),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    item_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("items.id", ondelete="CASCADE"), index=True)
    label: so.Mapped[str] = so.mapped_column(sa.String(20), default="", server_default="")
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    deadline: so.Mapped[date | None] = so.mapped_column(sa.Date)
    status: so.Mapped[str] = so.mapped_column(
        sa.String(20), default=MEASURE_OPEN, server_default=MEASURE_OPEN
    )
    #: why a measure is long-term or not applicable (required for those)
    status_reason: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    position: so.Mapped[int] = so.mapped_column(default=0, server_default="0")

    item: so.Mapped[RectificationItem] = so.relationship(back_populates="measures")

    @property
    def done(self) -> bool:
        return self.status == MEASURE_DONE

    @property
    def closed(self) -> bool:
        """Done, or long-term / not applicable (the database requires their reason)."""
        return self.status != MEASURE_OPEN
