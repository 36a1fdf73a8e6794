"""The import page: upload, then a preview the office corrects before anything is saved."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional, ValidationError

from portal.core.forms import choices
from portal.inspections.forms import APPROVAL_CHOICES


class UploadForm(FlaskForm):
    file = FileField(_l("Notice file (.txt, UTF-8 or GB18030)"))
    text = TextAreaField(_l("…or paste the text of the notice"), validators=[Optional()])

    def validate_text(self, field) -> None:
        if not (field.data or "").strip() and not (self.file.data and self.file.data.filename):
            raise ValidationError(_l("Choose a file or paste the text."))


class MeasureRow(Form):
    label = StringField(validators=[Optional(), Length(max=20)])


class ProblemRow(Form):
    keep = BooleanField(default=True)
    number = StringField(validators=[Optional(), Length(max=20)])
    # No Optional() here: it would stop the chain before validate_title sees an empty title.
    title = StringField(validators=[Length(max=300)])
    deadline = DateField(validators=[Optional()])
    leader_id = SelectField(coerce=int, validate_choice=False)
    staff_id = SelectField(coerce=int, validate_choice=False)
    measures = FieldList(FormField(MeasureRow))

    def validate_title(self, field) -> None:
        if self.keep.data and not (field.data or "").strip():
            raise ValidationError(_l("A problem that is kept needs a title."))


class CategoryRow(Form):
    label = StringField(validators=[Optional(), Length(max=20)])
    title = StringField(validators=[Optional(), Length(max=300)])
    problems = FieldList(FormField(ProblemRow))


class PreviewForm(FlaskForm):
    """The office's corrections of the parsed tree; the text itself stays on the server
    (portal.notices.previews), the form carries only the preview's token."""

    token = HiddenField()
    approval_policy = SelectField(_l("Approval policy"), choices=APPROVAL_CHOICES)
    party_secretary_id = SelectField(_l("Party secretary (党组书记)"), coerce=int)
    categories = FieldList(FormField(CategoryRow))

    def shape(self) -> list[list[int]]:
        """Measures per problem per category: which parse these rows belong to."""
        return [[len(p.form.measures) for p in c.form.problems] for c in self.categories]

    def set_people(self, leaders, staff) -> None:
        none = [(0, "—")]
        self.party_secretary_id.choices = choices(none + [(u.id, u.display_name) for u in leaders])
        for category in self.categories:
            for problem in category.problems:
                problem.leader_id.choices = choices(none + [(u.id, u.display_name) for u in leaders])
                problem.staff_id.choices = choices(none + [(u.id, u.display_name) for u in staff])

    def validate_party_secretary_id(self, field) -> None:
        if self.approval_policy.data == "dual" and not field.data:
            raise ValidationError(_l("双审制 needs a party secretary."))
