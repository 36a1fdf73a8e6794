"""The public feedback form, the lookup form and the moderation forms."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from portal.core.forms import choices

KIND_LABELS = {
    "suggestion": _l("Suggestion (意见建议)"),
    "clue": _l("Lead on a problem (问题线索)"),
    "not_rectified": _l("Not properly rectified (整改不到位反映)"),
}
PHONE = re.compile(r"^[0-9+\-() ]{7,20}$")


class FeedbackForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=choices(KIND_LABELS.items()))
    text = TextAreaField(
        _l("Your feedback"),
        validators=[
            DataRequired(message=_l("Please write your feedback.")),
            Length(min=5, max=2000, message=_l("Between 5 and 2,000 characters, please.")),
        ],
    )
    name = StringField(_l("Name (optional)"), validators=[Optional(), Length(max=60)])
    phone = StringField(_l("Phone (optional, never published)"), validators=[Optional()])
    email = StringField(
        _l("Email (optional, never published)"),
        validators=[Optional(), Email(message=_l("Please enter a valid email address.")), Length(max=254)],
    )
    # Left empty by people; bots fill it in. Hidden from view by CSS, not by type=hidden.
    website = StringField(_l("Leave this empty"))

    def validate_phone(self, field) -> None:
        if field.data and not PHONE.match(field.data.strip()):
            raise ValidationError(_l("Please enter a valid phone number."))


class LookupForm(FlaskForm):
    code = StringField(
        _l("Tracking code (查询码)"),
        validators=[DataRequired(message=_l("Please enter your tracking code.")), Length(max=30)],
    )


class ModerationForm(FlaskForm):
    ids = SelectMultipleField(coerce=int, validate_choice=False)
    action = SelectField(
        choices=choices([("publish", "publish"), ("reject", "reject"), ("mark_spam", "mark_spam")])
    )
    comment = TextAreaField(validators=[Optional(), Length(max=2000)])


class ReplyForm(FlaskForm):
    reply = TextAreaField(_l("Reply"), validators=[DataRequired(), Length(max=4000)])


class EditTextForm(FlaskForm):
    text = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=2000)])


FIX_LABELS = {"fixed": _l("Yes, it is fixed"), "not_fixed": _l("No, it is not fixed"), "partly": _l("Partly")}


class FixCheckForm(FlaskForm):
    answer = SelectField(_l("Is it really fixed?"), choices=choices(FIX_LABELS.items()))
    comment = TextAreaField(
        _l("Comment (optional)"),
        validators=[Optional(), Length(max=500, message=_l("At most 500 characters, please."))],
    )
    website = StringField(_l("Leave this empty"))
