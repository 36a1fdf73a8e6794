"""Forms for signing in, passwords, users and departments."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    widgets,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError

from portal.accounts.models import ROLES
from portal.core.forms import choices
from portal.core.titles import ROLE_LABELS

MIN_PASSWORD_LENGTH = 10
LOGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _password_strength(form, field) -> None:
    value = field.data or ""
    if len(value) < MIN_PASSWORD_LENGTH:
        raise ValidationError(_l("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    if value.isdigit() or value.isalpha():
        raise ValidationError(_l("The password must mix letters with digits or symbols."))


class LoginForm(FlaskForm):
    login = StringField(_l("Login name"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Sign in"))


class LogoutForm(FlaskForm):
    submit = SubmitField(_l("Sign out"))


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = PasswordField(_l("New password"), validators=[DataRequired(), _password_strength])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )
    submit = SubmitField(_l("Change password"))


class SetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), _password_strength])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )
    submit = SubmitField(_l("Set password"))


class _UserFields(FlaskForm):
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=120)])
    email = StringField(
        _l("Email"),
        validators=[Optional(), Email(message=_l("Please enter a valid email address.")), Length(max=254)],
    )
    department_id = SelectField(_l("Department"), coerce=int)
    roles = MultiCheckboxField(_l("Roles"))

    def set_choices(self, departments) -> None:
        self.department_id.choices = choices([(0, _l("(none)"))] + [(d.id, d.name) for d in departments])
        self.roles.choices = choices([(r, ROLE_LABELS[r]) for r in ROLES])


class UserCreateForm(_UserFields):
    login = StringField(_l("Login name"), validators=[DataRequired(), Length(min=2, max=64)])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), _password_strength])
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )
    submit = SubmitField(_l("Create account"))

    def validate_login(self, field) -> None:
        field.data = (field.data or "").strip().lower()
        if not LOGIN_PATTERN.match(field.data):
            raise ValidationError(_l("Use 2–64 lower-case letters, digits, dots, dashes or underscores."))


class UserEditForm(_UserFields):
    active = BooleanField(_l("Active"))
    submit = SubmitField(_l("Save"))


class DepartmentForm(FlaskForm):
    name = StringField(_l("Department name"), validators=[DataRequired(), Length(max=120)])
    submit = SubmitField(_l("Add department"))
