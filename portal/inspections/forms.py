"""Forms for inspections, categories, items and measures."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from portal.core.forms import MoneyField, PortalForm, PortalSubForm, choices, max_length
from portal.core.titles import person_labels
from portal.inspections.models import (
    APPROVAL_DUAL,
    APPROVAL_SINGLE,
    EMAIL_MAX_LENGTH,
    LABEL_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    REASON_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    UNIT_MAX_LENGTH,
)
from portal.versions.models import NOTE_MAX_LENGTH

APPROVAL_CHOICES = choices(
    [
        (APPROVAL_SINGLE, _l("One approval by the responsible leader")),
        (APPROVAL_DUAL, _l("双审制: the responsible leader and the party secretary")),
    ]
)


def _person_choices(users):
    """Each person once, by display name (which carries the title: 刘明（党组书记）)."""
    labels = person_labels(users)
    return choices([(0, _l("(none)"))] + list(labels.items()))


class _Versioned(PortalForm):
    version = HiddenField()
    #: the number of the document version the form was filled from (to show, on a conflict,
    #: what changed since: `version` is the concurrency counter, which transitions bump too)
    seen = HiddenField()
    change_note = StringField(_l("Change note"), validators=[Optional(), max_length(NOTE_MAX_LENGTH)])

    def expected_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None


class _WholeNumber:
    """A whole number from `low` to `high`; one message in the user's language for a blank,
    a non-number or a number out of range (instead of WTForms' English "Not a valid integer")."""

    def __init__(self, low: int, high: int):
        self.low, self.high = low, high

    def __call__(self, form, field) -> None:
        if field.data is None or not self.low <= field.data <= self.high:
            field.errors[:] = []
            raise StopValidation(
                _l("Enter a whole number from %(low)d to %(high)d.") % {"low": self.low, "high": self.high}
            )


class InspectionForm(_Versioned):
    title = StringField(_l("Title"), validators=[DataRequired(), max_length(TITLE_MAX_LENGTH)])
    inspected_unit = StringField(_l("Inspected unit"), validators=[Optional(), max_length(UNIT_MAX_LENGTH)])
    inspection_team = StringField(_l("Inspection team"), validators=[Optional(), max_length(UNIT_MAX_LENGTH)])
    start_date = DateField(_l("Inspection start"), validators=[Optional()])
    end_date = DateField(_l("Inspection end"), validators=[Optional()])
    feedback_date = DateField(_l("Feedback date"), validators=[Optional()])
    approval_policy = SelectField(_l("Approval policy"), choices=APPROVAL_CHOICES)
    party_secretary_id = SelectField(_l("Party secretary (党组书记)"), coerce=int)
    contact_phone = StringField(
        _l("Public contact phone"), validators=[Optional(), max_length(PHONE_MAX_LENGTH)]
    )
    contact_address = StringField(
        _l("Public contact address"), validators=[Optional(), max_length(UNIT_MAX_LENGTH)]
    )
    contact_email = StringField(
        _l("Public contact email"),
        validators=[
            Optional(),
            Email(message=_l("Please enter a valid email address.")),
            max_length(EMAIL_MAX_LENGTH),
        ],
    )
    # Deadline levels (三色) and the 回头看 interval; see portal.supervision.levels.
    remind_days = IntegerField(
        _l("Reminder (提醒) when this many days or fewer are left"),
        default=20,
        validators=[_WholeNumber(1, 365)],
    )
    warn_days = IntegerField(
        _l("Warning (预警) when this many days or fewer are left"),
        default=10,
        validators=[_WholeNumber(0, 364)],
    )
    interview_days = IntegerField(
        _l("Interview (约谈) when this many days or more overdue (督办 as soon as overdue)"),
        default=15,
        validators=[_WholeNumber(1, 365)],
    )
    follow_up_months = IntegerField(
        _l("Follow-up check (回头看) this many months after completion"),
        default=6,
        validators=[_WholeNumber(1, 60)],
    )

    def set_choices(self, leaders) -> None:
        self.party_secretary_id.choices = _person_choices(leaders)

    def validate_warn_days(self, field) -> None:
        if self.remind_days.data is not None and field.data >= self.remind_days.data:
            raise ValidationError(
                _l(
                    "The warning (预警) comes after the reminder (提醒): "
                    "give it fewer days than the reminder."
                )
            )

    def validate_end_date(self, field) -> None:
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError(_l("The end date is before the start date."))

    def validate_party_secretary_id(self, field) -> None:
        if self.approval_policy.data == APPROVAL_DUAL and not field.data:
            raise ValidationError(_l("双审制 needs a party secretary."))


class CategoryForm(_Versioned):
    label = StringField(
        _l("Label as written (e.g. 一)"), validators=[Optional(), max_length(LABEL_MAX_LENGTH)]
    )
    title = StringField(_l("Title"), validators=[DataRequired(), max_length(TITLE_MAX_LENGTH)])
    position = IntegerField(_l("Order"), default=0, validators=[Optional(), NumberRange(0, 999)])


class ItemForm(_Versioned):
    category_id = SelectField(_l("Category"), coerce=int)
    number = StringField(_l("Number as written"), validators=[Optional(), max_length(LABEL_MAX_LENGTH)])
    title = StringField(_l("Title"), validators=[DataRequired(), max_length(TITLE_MAX_LENGTH)])
    feedback_text = TextAreaField(
        _l("Feedback text (反馈问题)"), validators=[Optional(), max_length(TEXT_MAX_LENGTH)]
    )
    responsible_leader_id = SelectField(_l("Responsible leader (责任领导)"), coerce=int)
    department_id = SelectField(_l("Responsible department (责任部门)"), coerce=int)
    staff_id = SelectField(_l("Responsible staff (责任人)"), coerce=int)
    deadline = DateField(_l("Deadline (整改时限)"), validators=[Optional()])
    completion_summary = TextAreaField(
        _l("Completion summary (整改成效)"), validators=[Optional(), max_length(TEXT_MAX_LENGTH)]
    )
    # 0 ≤ amount < 10^12 yuan with at most two decimals (portal.core.forms.money_problem)
    money_to_recover = MoneyField(_l("Money to recover (yuan)"), places=2, validators=[Optional()])
    money_recovered = MoneyField(_l("Money recovered (yuan)"), places=2, validators=[Optional()])
    public_summary = TextAreaField(_l("Public summary"), validators=[Optional(), max_length(TEXT_MAX_LENGTH)])
    progress_override = IntegerField(
        _l("Progress % (empty: from the measures)"), validators=[Optional(), NumberRange(0, 100)]
    )

    def set_choices(self, categories, leaders, departments, staff) -> None:
        self.category_id.choices = choices(
            [(0, _l("(none)"))] + [(c.id, f"{c.label} {c.title}".strip()) for c in categories]
        )
        self.responsible_leader_id.choices = _person_choices(leaders)
        self.department_id.choices = choices([(0, _l("(none)"))] + [(d.id, d.name) for d in departments])
        self.staff_id.choices = _person_choices(staff)


class MeasureForm(PortalForm):
    label = StringField(
        _l("Label as written (e.g. 一是)"), validators=[Optional(), max_length(LABEL_MAX_LENGTH)]
    )
    text = TextAreaField(_l("Measure"), validators=[DataRequired(), max_length(TEXT_MAX_LENGTH)])
    deadline = DateField(_l("Deadline"), validators=[Optional()])
    change_note = StringField(_l("Change note"), validators=[Optional(), max_length(NOTE_MAX_LENGTH)])


class MeasureDoneForm(PortalForm):
    done = BooleanField()
    version = HiddenField()


#: A measure's status as the user reads it.
MEASURE_STATUS_TITLES = {
    "open": _l("Not done yet"),
    "done": _l("Done"),
    "long_term": _l("Long-term (长期坚持)"),
    "not_applicable": _l("Not applicable"),
}
MEASURE_STATUS_CHOICES = choices(MEASURE_STATUS_TITLES.items())


class MeasureStatusForm(PortalForm):
    """Set a measure's status; long-term and not applicable need the reason."""

    status = SelectField(_l("Status"), choices=MEASURE_STATUS_CHOICES)
    reason = StringField(_l("Reason"), validators=[Optional(), max_length(REASON_MAX_LENGTH)])

    def validate_reason(self, field) -> None:
        if self.status.data in ("long_term", "not_applicable") and not (field.data or "").strip():
            raise ValidationError(_l("Say why this measure is long-term or not applicable."))


# --- the inspection page's table ----------------------------------------------------------------

#: How the table of an inspection's items can be sorted (the ?sort= values).
TABLE_SORTS = ("number", "title", "department", "staff", "deadline", "state", "progress")
#: Rows per page of that table.
TABLE_PAGE_SIZE = 50

_DATE_FORMAT = _l("Enter the date as YYYY-MM-DD.")


def _date_errors(*fields) -> None:
    """WTForms says "Not a valid date value." in English: say it in the user's language."""
    for field in fields:
        if any((v or "").strip() for v in field.raw_data or ()) and field.data is None:
            field.errors = [str(_DATE_FORMAT)]


class ItemTableFilterForm(PortalSubForm):
    """The table's filter, read from the query string (a GET form needs no CSRF token)."""

    state = SelectField(_l("State"), validate_choice=False)
    department = SelectField(_l("Responsible department"), validate_choice=False)
    category = SelectField(_l("Category"), validate_choice=False)
    overdue = BooleanField(_l("Overdue only"))
    deadline_from = DateField(_l("Deadline from"), name="from", validators=[Optional()])
    deadline_to = DateField(_l("Deadline to"), name="to", validators=[Optional()])

    def set_choices(self, states, departments, categories) -> None:
        self.state.choices = [("", _l("All states"))] + [(s.id, title) for s, title in states]
        self.department.choices = [("", _l("All departments"))] + [(str(d.id), d.name) for d in departments]
        self.category.choices = [("", _l("All categories"))] + [
            (str(c.id), f"{c.label} {c.title}".strip()) for c in categories
        ]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in (self.state, self.department, self.category):
            if (field.data or "") not in {value for value, _label in field.choices}:
                field.errors = [str(_l("There is no such choice; this filter is not applied."))]
                field.data = ""
        _date_errors(self.deadline_from, self.deadline_to)
        if (
            self.deadline_from.data
            and self.deadline_to.data
            and self.deadline_to.data < self.deadline_from.data
        ):
            self.deadline_to.errors = [str(_l("The end of the range is before its start."))]
        return valid and not self.errors

    def chosen_id(self, field) -> int | None:
        return int(field.data) if (field.data or "").isdigit() else None


class BulkAssignForm(PortalForm):
    """Set the department, the responsible staff or the deadline of the items ticked in the
    table; a field left blank stays as it is on each item."""

    items = SelectMultipleField(_l("Items"), coerce=int, validate_choice=False)
    department_id = SelectField(_l("Responsible department (责任部门)"), coerce=int, default=0)
    staff_id = SelectField(_l("Responsible staff (责任人)"), coerce=int, default=0)
    deadline = DateField(_l("Deadline (整改时限)"), validators=[Optional()])
    #: the page's query string, so that the page comes back sorted and filtered as it was
    query = HiddenField()

    def set_choices(self, departments, staff) -> None:
        unchanged = (0, _l("(unchanged)"))
        self.department_id.choices = choices([unchanged] + [(d.id, d.name) for d in departments])
        self.staff_id.choices = choices([unchanged] + list(person_labels(staff).items()))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        _date_errors(self.deadline)
        if not self.items.data:
            self.items.errors = [str(_l("Tick at least one item in the table."))]
        if valid and not (self.department_id.data or self.staff_id.data or self.deadline.data):
            self.form_errors.append(str(_l("Choose a department, a person or a deadline to set.")))
        return valid and not self.errors

    def values(self) -> dict:
        """The fields to set on each item (those not left blank)."""
        wanted = {
            "department_id": self.department_id.data or None,
            "staff_id": self.staff_id.data or None,
            "deadline": self.deadline.data,
        }
        return {name: value for name, value in wanted.items() if value}
