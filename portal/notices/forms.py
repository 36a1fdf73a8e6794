"""The import page: upload, then a preview the office corrects before anything is saved."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional, ValidationError

from portal.core.forms import PortalForm, PortalSubForm, choices, max_length
from portal.core.titles import state_title
from portal.inspections.forms import APPROVAL_CHOICES
from portal.inspections.models import (
    LABEL_MAX_LENGTH,
    SOURCE_TEXT_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    UNIT_MAX_LENGTH,
)
from portal.notices.formats import SUPPORTED
from portal.notices.messages import start_states_text
from portal.notices.status import START_STATES
from workflows.rectification import RECTIFICATION

#: The longest notice imported, in characters (the text of a real one is a few ten thousand):
#: what the parser reads stays bounded however large a file is uploaded.
NOTICE_MAX_CHARS = SOURCE_TEXT_MAX_LENGTH
#: An uploaded file is read no further than this; a longer one is refused before it is decoded.
NOTICE_MAX_BYTES = 20 * 1024 * 1024


def notice_too_long(length: int) -> str:
    """Why a notice of `length` characters is not read."""
    return str(
        _l(
            "The notice is too long (%(length)s characters): at most %(max)s characters can be "
            "imported. Remove what is not part of the notice and try again."
        )
        % {"length": f"{length:,}", "max": f"{NOTICE_MAX_CHARS:,}"}
    )


class UploadForm(PortalForm):
    file = FileField(
        _l("Notice file (.txt, .docx or .pdf with a text layer)"), render_kw={"accept": ",".join(SUPPORTED)}
    )
    # Checked in validate(): after Optional() a check would not run for a post without the field
    # (an empty box goes on to be read, and is refused as empty).
    text = TextAreaField(
        _l("…or paste the text of the notice"), validators=[Optional()], render_kw={"rows": 12}
    )

    def has_file(self) -> bool:
        return bool(self.file.data and (self.file.data.filename or "").strip())

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        text = self.text.data or ""
        if not self.has_file() and not text:  # neither (or no text box in the post at all)
            self.text.errors = [*self.text.errors, str(_l("Choose a file or paste the text."))]
            return False
        if self.has_file() and text.strip():  # which one is the notice? the office says
            self.text.errors = [
                *self.text.errors,
                str(_l("Choose a file or paste the text, not both: clear the box or remove the file.")),
            ]
            return False
        if not self.has_file() and len(text) > NOTICE_MAX_CHARS and not self.text.errors:
            self.text.errors = [*self.text.errors, notice_too_long(len(text))]
            return False
        return valid


class NoticeDateField(DateField):
    """An optional date of the preview (``<input type=date>``); what cannot be read is said the
    way the rest of the portal says it, and stays in the box as typed."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("validators", [Optional()])
        kwargs.setdefault("invalid_value_message", _l("Please enter a date as YYYY-MM-DD, e.g. 2026-11-28."))
        super().__init__(*args, **kwargs)


class MeasureRow(PortalSubForm):
    label = StringField(validators=[Optional(), max_length(LABEL_MAX_LENGTH)])
    # The measure as the item will hold it (the notice's text, as corrected by the office).
    text = TextAreaField(validators=[Optional(), max_length(TEXT_MAX_LENGTH)])


class ProblemRow(PortalSubForm):
    keep = BooleanField(default=True)
    number = StringField(validators=[Optional(), max_length(LABEL_MAX_LENGTH)])
    # No Optional() here: it would stop the chain before validate_title sees an empty title.
    title = StringField(validators=[max_length(TITLE_MAX_LENGTH)])
    deadline = NoticeDateField()
    department_id = SelectField(coerce=int, validate_choice=False)
    leader_id = SelectField(coerce=int, validate_choice=False)
    staff_id = SelectField(coerce=int, validate_choice=False)
    measures = FieldList(FormField(MeasureRow))
    # The state the item starts in (the notice's status, or the office's choice); checked here,
    # with a message that names the states, rather than by WTForms' "Not a valid choice".
    state = SelectField(validate_choice=False, default=RECTIFICATION.initial)

    def validate_title(self, field) -> None:
        if self.keep.data and not (field.data or "").strip():
            raise ValidationError(_l("A problem that is kept needs a title."))

    def validate(self, extra_validators=None) -> bool:
        """The rows' own checks, and a kept problem's measures each with its text (an item's
        measure is never empty; a row that is not kept is not checked)."""
        valid = super().validate(extra_validators)
        if self.keep.data:
            for row in self.measures:
                text = row.form.text
                if not (text.data or "").strip() and not text.errors:
                    text.errors = [str(_l("A measure needs its text; write it or leave the problem out."))]
                    valid = False
            if not valid:  # the list's errors were taken before: the form reads them from there
                self.measures.errors = [entry.errors for entry in self.measures.entries]
        return valid

    def validate_department_id(self, field) -> None:
        if field.data and field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(_l("This department no longer exists; choose another one."))

    def validate_state(self, field) -> None:
        if field.data not in START_STATES:
            raise ValidationError(
                _l("An imported item can start only as %(states)s; choose one of them.")
                % {"states": start_states_text()}
            )


def state_choices():
    return choices((s, state_title(RECTIFICATION.id, s)) for s in START_STATES)


class CategoryRow(PortalSubForm):
    label = StringField(validators=[Optional(), max_length(LABEL_MAX_LENGTH)])
    title = StringField(validators=[Optional(), max_length(TITLE_MAX_LENGTH)])
    problems = FieldList(FormField(ProblemRow))


class PreviewForm(PortalForm):
    """The office's corrections of the parsed tree; the text itself stays on the server
    (portal.notices.previews), the form carries only the preview's token."""

    token = HiddenField()
    # The inspection's header, as parsed and then corrected by the office.
    title = StringField(_l("Title"), validators=[max_length(TITLE_MAX_LENGTH)])
    inspected_unit = StringField(_l("Inspected unit"), validators=[Optional(), max_length(UNIT_MAX_LENGTH)])
    inspection_team = StringField(_l("Inspection team"), validators=[Optional(), max_length(UNIT_MAX_LENGTH)])
    start_date = NoticeDateField(_l("Inspection start"))
    end_date = NoticeDateField(_l("Inspection end"))
    feedback_date = NoticeDateField(_l("Feedback date"))
    approval_policy = SelectField(_l("Approval policy"), choices=APPROVAL_CHOICES)
    party_secretary_id = SelectField(_l("Party secretary (党组书记)"), coerce=int)
    categories = FieldList(FormField(CategoryRow))

    def shape(self) -> list[list[int]]:
        """Measures per problem per category: which parse these rows belong to."""
        return [[len(p.form.measures) for p in c.form.problems] for c in self.categories]

    def set_people(self, leaders, staff, departments=()) -> None:
        """The choices of the drop-downs: people, departments, and the states an item may start in."""
        none = [(0, "—")]
        self.party_secretary_id.choices = choices(none + [(u.id, u.display_name) for u in leaders])
        for category in self.categories:
            for problem in category.problems:
                problem.state.choices = state_choices()
                problem.department_id.choices = choices(none + [(d.id, d.name) for d in departments])
                problem.leader_id.choices = choices(none + [(u.id, u.display_name) for u in leaders])
                problem.staff_id.choices = choices(none + [(u.id, u.display_name) for u in staff])

    def validate_title(self, field) -> None:
        if not (field.data or "").strip():
            raise ValidationError(_l("The inspection needs a title."))

    def validate_end_date(self, field) -> None:
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError(_l("The end date is before the start date."))

    def validate_party_secretary_id(self, field) -> None:
        if self.approval_policy.data == "dual" and not field.data:
            raise ValidationError(_l("双审制 needs a party secretary."))
