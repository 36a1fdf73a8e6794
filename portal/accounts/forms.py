"""Forms for signing in (both steps), passwords, two-step verification, users and departments."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    widgets,
)
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, Optional, ValidationError

from portal.accounts.models import ROLES
from portal.accounts.passwords import MAX_LENGTH, MIN_LENGTH, password_problem
from portal.core.forms import PortalForm, choices, max_length
from portal.core.titles import ROLE_LABELS

MIN_PASSWORD_LENGTH = MIN_LENGTH
LOGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _password_strength(form, field) -> None:
    """The policy of portal.accounts.passwords, with the account's login and name as known words:
    the form's own fields where it has them, else what the view set as `form.user_inputs`."""
    inputs = list(getattr(form, "user_inputs", ()))
    for name in ("login", "display_name"):
        if name in form._fields:
            inputs.append(form[name].data)
    problem = password_problem(field.data or "", inputs)
    if problem is not None:
        raise ValidationError(problem)


def _new_password(label):
    # InputRequired, not DataRequired: a password of spaces gets the policy's own message
    return PasswordField(label, validators=[InputRequired(), _password_strength])


class ReauthField(PasswordField):
    """The admin's own password, asked again before a sensitive action (checked by the view)."""

    def __init__(self, label=None, **kwargs):
        super().__init__(
            label or _l("Your own password (to confirm it is you)"),
            validators=[Optional(), Length(max=MAX_LENGTH)],
            **kwargs,
        )


class LoginForm(PortalForm):
    login = StringField(_l("Login name"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Sign in"))


class LogoutForm(PortalForm):
    submit = SubmitField(_l("Sign out"))


class SecondStepForm(PortalForm):
    code = StringField(_l("Verification code"), validators=[DataRequired(), Length(max=40)])
    submit = SubmitField(_l("Verify"))


class ChangePasswordForm(PortalForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = _new_password(_l("New password"))
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )
    submit = SubmitField(_l("Change password"))


class SetPasswordForm(PortalForm):
    password = _new_password(_l("New password"))
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )
    reauth_password = ReauthField()
    submit = SubmitField(_l("Set password"))


class MfaStartForm(PortalForm):
    submit = SubmitField(_l("Set up two-step verification"))


class MfaConfirmForm(PortalForm):
    code = StringField(_l("Code shown by the app"), validators=[DataRequired(), Length(max=12)])
    submit = SubmitField(_l("Turn on two-step verification"))


class RecoveryCodesForm(PortalForm):
    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=MAX_LENGTH)])
    submit = SubmitField(_l("Make new recovery codes"))


class MfaDisableForm(PortalForm):
    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=MAX_LENGTH)])
    submit = SubmitField(_l("Turn two-step verification off"))


class MfaResetForm(PortalForm):
    reauth_password = ReauthField()
    submit = SubmitField(_l("Reset two-step verification"))


class _UserFields(PortalForm):
    display_name = StringField(_l("Display name"), validators=[DataRequired(), max_length(120)])
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
    password = _new_password(_l("Initial password"))
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )
    reauth_password = ReauthField(_l("Your own password (needed to give roles)"))
    submit = SubmitField(_l("Create account"))

    def validate_login(self, field) -> None:
        field.data = (field.data or "").strip().lower()
        if not LOGIN_PATTERN.match(field.data):
            raise ValidationError(_l("Use 2–64 lower-case letters, digits, dots, dashes or underscores."))


class UserEditForm(_UserFields):
    active = BooleanField(_l("Active"))
    reauth_password = ReauthField(_l("Your own password (needed to change roles)"))
    submit = SubmitField(_l("Save"))


class DepartmentForm(PortalForm):
    name = StringField(_l("Department name"), validators=[DataRequired(), max_length(120)])
    submit = SubmitField(_l("Add department"))


class ApiTokenForm(PortalForm):
    """A new personal access token; the password again, as for new recovery codes."""

    name = StringField(
        _l("Name of the token"),
        validators=[
            DataRequired(message=_l("Give the token a name, to tell it apart later.")),
            Length(max=60),
        ],
        description=_l("What it is for, such as “台账同步脚本”."),
    )
    scope = SelectField(
        _l("May"),
        choices=choices([("read", _l("read only")), ("write", _l("read and write"))]),
        default="read",
    )
    days = SelectField(
        _l("Lasts"),
        choices=choices(
            [("7", _l("7 days")), ("30", _l("30 days")), ("90", _l("90 days")), ("365", _l("one year"))]
        ),
        default="30",
    )
    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=MAX_LENGTH)])
    submit = SubmitField(_l("Create the token"))


class RevokeApiTokenForm(PortalForm):
    submit = SubmitField(_l("Revoke"))
