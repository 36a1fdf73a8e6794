"""The public feedback form, the lookup form and the moderation forms."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from portal.core.forms import PortalForm, choices, max_length
from portal.feedback.models import (
    EMAIL_MAX_LENGTH,
    FIX_COMMENT_MAX_LENGTH,
    NAME_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    REPLY_MAX_LENGTH,
    TEXT_MAX_LENGTH,
)

KIND_LABELS = {
    "suggestion": _l("Suggestion (意见建议)"),
    "clue": _l("Lead on a problem (问题线索)"),
    "not_rectified": _l("Not properly rectified (整改不到位反映)"),
}
PHONE = re.compile(r"^[0-9+\-() ]{7,20}$")


class FeedbackForm(PortalForm):
    kind = SelectField(_l("Kind"), choices=choices(KIND_LABELS.items()))
    text = TextAreaField(
        _l("Your feedback"),
        validators=[
            DataRequired(message=_l("Please write your feedback.")),
            Length(min=5, message=_l("Between 5 and 2,000 characters, please.")),
            max_length(TEXT_MAX_LENGTH),
        ],
    )
    name = StringField(_l("Name (optional)"), validators=[Optional(), max_length(NAME_MAX_LENGTH)])
    phone = StringField(
        _l("Phone (optional, never published)"), validators=[Optional(), max_length(PHONE_MAX_LENGTH)]
    )
    email = StringField(
        _l("Email (optional, never published)"),
        validators=[
            Optional(),
            Email(message=_l("Please enter a valid email address.")),
            max_length(EMAIL_MAX_LENGTH),
        ],
    )
    # Left empty by people; bots fill it in. Hidden from view by CSS, not by type=hidden.
    website = StringField(_l("Leave this empty"))

    def validate_phone(self, field) -> None:
        if field.data and not PHONE.match(field.data.strip()):
            raise ValidationError(_l("Please enter a valid phone number."))


class LookupForm(PortalForm):
    code = StringField(
        _l("Tracking code (查询码)"),
        validators=[DataRequired(message=_l("Please enter your tracking code.")), max_length(30)],
    )


class ModerationForm(PortalForm):
    ids = SelectMultipleField(coerce=int, validate_choice=False)
    action = SelectField(
        choices=choices([("publish", "publish"), ("reject", "reject"), ("mark_spam", "mark_spam")])
    )
    comment = TextAreaField(validators=[Optional(), max_length(2000)])


class ReplyForm(PortalForm):
    reply = TextAreaField(_l("Reply"), validators=[DataRequired(), max_length(REPLY_MAX_LENGTH)])


class EditTextForm(PortalForm):
    text = TextAreaField(_l("Text"), validators=[DataRequired(), max_length(TEXT_MAX_LENGTH)])


class ForwardForm(PortalForm):
    department_id = IntegerField(
        _l("Responsible department"),
        validators=[DataRequired(message=_l("Choose the department to forward it to."))],
    )
    note = TextAreaField(_l("Note to the department (optional)"), validators=[Optional(), max_length(500)])


class HandledForm(PortalForm):
    note = TextAreaField(_l("What was done (optional)"), validators=[Optional(), max_length(500)])


FIX_LABELS = {"fixed": _l("Yes, it is fixed"), "not_fixed": _l("No, it is not fixed"), "partly": _l("Partly")}


class FixCheckForm(PortalForm):
    # No answer is chosen for the visitor: the first option asks, and sending it is refused.
    answer = SelectField(
        _l("Is it really fixed?"),
        choices=choices([("", _l("Please choose")), *FIX_LABELS.items()]),
        validators=[DataRequired(message=_l("Please choose an answer: fixed, not fixed or partly."))],
    )
    comment = TextAreaField(
        _l("Comment (optional)"), validators=[Optional(), max_length(FIX_COMMENT_MAX_LENGTH)]
    )
    website = StringField(_l("Leave this empty"))
