"""Sign in (password, then the second step where there is one) and out, one's own account
with its two-step verification, and account administration (the admin's password asked again
before roles, password resets and MFA resets)."""

from __future__ import annotations

import math
from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal.accounts import auth, mfa, tokens
from portal.accounts.forms import (
    ApiTokenForm,
    ChangePasswordForm,
    DepartmentForm,
    LoginForm,
    LogoutForm,
    MfaConfirmForm,
    MfaDisableForm,
    MfaResetForm,
    MfaStartForm,
    RecoveryCodesForm,
    RevokeApiTokenForm,
    SecondStepForm,
    SetPasswordForm,
    UserCreateForm,
    UserEditForm,
)
from portal.accounts.models import Department, User
from portal.accounts.operations import (
    confirm_totp_enrolment,
    create_department,
    create_user,
    deactivate_user,
    disable_mfa,
    reactivate_user,
    regenerate_recovery_codes,
    reset_mfa,
    set_password,
    set_roles,
    start_totp_enrolment,
    update_user,
)
from portal.audit.chain import Actor
from portal.core.errors import OperationError
from portal.core.extensions import db, login_manager
from portal.core.security import roles_required, safe_next
from portal.notifications.forms import EmailPreferenceForm

bp = Blueprint("accounts", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return auth.session_user(user_id, session.get("sid"))


def _restart_session(**keep) -> None:
    """Drop everything in the session cookie except the given keys (a fresh session)."""
    kept = {k: session[k] for k in ("lang",) if k in session}
    session.clear()
    session.update(kept, **keep)
    session.permanent = True


def _departments() -> list[Department]:
    return db.session.scalars(sa.select(Department).order_by(Department.name)).all()


#: What an account that must enrol in two-step verification may still open (MFA_REQUIRED_ROLES):
#: the account page's enrolment, signing out and the language switch.
ENROLMENT_ENDPOINTS = frozenset(
    {
        "accounts.account",
        "accounts.mfa_start",
        "accounts.mfa_confirm",
        "accounts.logout",
        "shell.set_language",
        "static",
        "bootstrap.static",
    }
)


def enrolment_gate():
    """Before every request: send an account whose role requires two-step verification, and
    that has none yet, to its enrolment; it can do nothing else until enrolled."""
    if request.endpoint is None or request.endpoint in ENROLMENT_ENDPOINTS:
        return None
    if current_user.is_authenticated and mfa.enrolment_required(current_user):
        return redirect(url_for("accounts.account"))
    return None


def _wait_message(outcome: auth.LoginOutcome) -> str:
    seconds = outcome.retry_seconds
    if outcome.status == auth.LOGIN_ADDRESS_LIMITED:
        return _(
            "Too many failed sign-in attempts from your network address. Please try again in "
            "%(minutes)d minutes.",
            minutes=max(1, math.ceil(seconds / 60)),
        )
    if seconds <= 90:
        return _(
            "Too many failed sign-in attempts for this account. Please wait %(seconds)d seconds "
            "and try again.",
            seconds=seconds,
        )
    return _(
        "Too many failed sign-in attempts for this account. Please wait %(minutes)d minutes and try again.",
        minutes=math.ceil(seconds / 60),
    )


def _sign_in(outcome: auth.LoginOutcome, target: str):
    """Both steps passed (or there is only one): the session begins."""
    _restart_session(sid=outcome.token)
    login_user(outcome.user)
    flash(_("Welcome, %(name)s.", name=outcome.user.display_name), "success")
    if outcome.method == "recovery_code":
        flash(
            _(
                "You signed in with a recovery code, which is now used up. %(left)d remain; make "
                "new ones on your account page when they run low.",
                left=len(mfa.unused_recovery_codes(outcome.user)),
            ),
            "warning",
        )
    if mfa.enrolment_required(outcome.user):
        return redirect(url_for("accounts.account"))
    return redirect(target)


@bp.route("/login", methods=["GET", "POST"])
def login():
    target = safe_next(request.args.get("next"), url_for("shell.home"))
    if current_user.is_authenticated:
        return redirect(target)
    form = LoginForm()
    if form.validate_on_submit():
        outcome = auth.attempt_login(
            form.login.data,
            form.password.data,
            remote_addr=request.remote_addr,
            user_agent=request.user_agent.string,
        )
        db.session.commit()  # failures are audited too
        if outcome.status == auth.LOGIN_OK:
            return _sign_in(outcome, target)
        if outcome.status == auth.LOGIN_MFA:
            _restart_session(
                mfa_pending={"uid": outcome.user.id, "at": auth.utcnow().isoformat(), "next": target}
            )
            return redirect(url_for("accounts.login_verify"))
        if outcome.status in (auth.LOGIN_LOCKED, auth.LOGIN_ADDRESS_LIMITED):
            form.form_errors.append(_wait_message(outcome))
        elif outcome.status == auth.LOGIN_INACTIVE:
            form.form_errors.append(_("This account has been deactivated."))
        else:
            form.form_errors.append(_("Wrong login name or password."))
    return render_template("accounts/login.html", form=form)


def _pending_second_step() -> tuple[int, datetime, str] | None:
    pending = session.get("mfa_pending")
    try:
        return int(pending["uid"]), datetime.fromisoformat(pending["at"]), str(pending["next"])
    except (TypeError, KeyError, ValueError):
        return None


@bp.route("/login/verify", methods=["GET", "POST"])
def login_verify():
    """The second step: a code from the authenticator app, or a recovery code."""
    if current_user.is_authenticated:
        return redirect(url_for("shell.home"))
    pending = _pending_second_step()
    if pending is None:
        return redirect(url_for("accounts.login"))
    user_id, started_at, target = pending
    if auth.second_step_expired(started_at):
        _restart_session()
        flash(_("The sign-in took too long. Please enter your password again."), "warning")
        return redirect(url_for("accounts.login"))
    form = SecondStepForm()
    if form.validate_on_submit():
        outcome = auth.attempt_second_step(
            user_id,
            form.code.data,
            started_at=started_at,
            remote_addr=request.remote_addr,
            user_agent=request.user_agent.string,
        )
        db.session.commit()
        if outcome.status == auth.LOGIN_OK:
            return _sign_in(outcome, safe_next(target, url_for("shell.home")))
        if outcome.status == auth.LOGIN_EXPIRED:
            _restart_session()
            flash(_("The sign-in took too long. Please enter your password again."), "warning")
            return redirect(url_for("accounts.login"))
        if outcome.status in (auth.LOGIN_LOCKED, auth.LOGIN_ADDRESS_LIMITED):
            form.code.errors.append(_wait_message(outcome))
        elif outcome.status == auth.LOGIN_REPLAYED:
            form.code.errors.append(
                _("This code has already been used. Wait for the next code in your app and enter that one.")
            )
        else:
            form.code.errors.append(
                _(
                    "The code is not right. Enter the 6 digits your authenticator app shows now, "
                    "or one of your recovery codes."
                )
            )
    return render_template("accounts/login_verify.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    if not LogoutForm().validate_on_submit():
        abort(400)
    auth.logout(current_user, session.get("sid"))
    db.session.commit()
    logout_user()
    _restart_session()
    flash(_("You have signed out."), "info")
    return redirect(url_for("shell.home"))


def _account_page(form: ChangePasswordForm | None = None, status: int = 200, **mfa_forms):
    """The account page: profile, notifications, two-step verification, password."""
    credential = mfa.credential(current_user)
    context = {
        "form": form or ChangePasswordForm(formdata=None),
        "preference_form": _preference_form(),
        "mfa_required": mfa.required(current_user),
        "credential": credential,
        "mfa_start_form": MfaStartForm(formdata=None),
        "mfa_confirm_form": mfa_forms.get("confirm") or MfaConfirmForm(formdata=None),
        "recovery_form": mfa_forms.get("recovery") or RecoveryCodesForm(formdata=None),
        "disable_form": mfa_forms.get("disable") or MfaDisableForm(formdata=None),
        "token_form": mfa_forms.get("token") or ApiTokenForm(formdata=None),
        "revoke_token_form": RevokeApiTokenForm(formdata=None),
        "tokens": tokens.live(current_user),
        "new_token": mfa_forms.get("new_token"),
    }
    if credential is not None and credential.confirmed_at is None:
        uri = mfa.provisioning_uri(current_user, credential.secret)
        context["qr_svg"] = mfa.qr_svg(uri, _("QR code for your authenticator app"))
        context["grouped_secret"] = mfa.grouped(credential.secret)
    elif credential is not None:
        context["recovery_left"] = len(mfa.unused_recovery_codes(current_user))
    return render_template("accounts/account.html", **context), status


@bp.route("/account")
@login_required
def account():
    return _account_page()


@bp.route("/account/tokens", methods=["POST"])
@login_required
def create_api_token():
    """A new personal access token, shown on the page this once."""
    form = ApiTokenForm()
    if form.validate_on_submit() and _password_confirmed(form.password):
        try:
            new = tokens.create_token(
                Actor.of(current_user), current_user, form.name.data, form.scope.data, int(form.days.data)
            )
            db.session.commit()
        except OperationError as exc:
            db.session.rollback()
            form.name.errors.append(exc.message)
        else:
            return _account_page(new_token=new)
    return _account_page(status=400, token=form)


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_api_token(token_id: int):
    if not RevokeApiTokenForm().validate_on_submit():
        abort(400)
    row = tokens.revoke_token(Actor.of(current_user), current_user, token_id)
    db.session.commit()
    flash(_("Token “%(name)s” revoked: it no longer works.", name=row.name), "success")
    return redirect(url_for("accounts.account", _anchor="api-tokens"))


def _recovery_codes_page(codes: list[str]):
    return render_template("accounts/mfa_recovery_codes.html", codes=codes)


@bp.route("/account/mfa/start", methods=["POST"])
@login_required
def mfa_start():
    if not MfaStartForm().validate_on_submit():
        abort(400)
    try:
        start_totp_enrolment(Actor.of(current_user), current_user)
        db.session.commit()
    except OperationError as exc:
        db.session.rollback()
        flash(exc.message, "warning")
    return redirect(url_for("accounts.account", _anchor="two-step"))


@bp.route("/account/mfa/confirm", methods=["POST"])
@login_required
def mfa_confirm():
    form = MfaConfirmForm()
    if form.validate_on_submit():
        try:
            codes = confirm_totp_enrolment(Actor.of(current_user), current_user, form.code.data)
            db.session.commit()
        except OperationError as exc:
            db.session.rollback()
            form.code.errors.append(exc.message)
        else:
            return _recovery_codes_page(codes)
    return _account_page(confirm=form)


def _password_confirmed(field, wrong: str | None = None) -> bool:
    """Check one's own password typed again (re-authentication); record the outcome. Wrong
    passwords count towards the sign-in delays, so a session left open cannot guess it."""
    outcome = auth.reauthenticate(current_user, session.get("sid"), field.data, request.remote_addr)
    db.session.commit()
    if outcome.status == auth.LOGIN_OK:
        return True
    if outcome.status in (auth.LOGIN_LOCKED, auth.LOGIN_ADDRESS_LIMITED):
        field.errors.append(_wait_message(outcome))
    else:
        field.errors.append(wrong or _("The password is not right."))
    return False


@bp.route("/account/mfa/recovery-codes", methods=["POST"])
@login_required
def mfa_recovery_codes():
    form = RecoveryCodesForm()
    if form.validate_on_submit() and _password_confirmed(form.password):
        try:
            codes = regenerate_recovery_codes(Actor.of(current_user), current_user)
            db.session.commit()
        except OperationError as exc:
            db.session.rollback()
            form.password.errors.append(exc.message)
        else:
            return _recovery_codes_page(codes)
    return _account_page(recovery=form)


@bp.route("/account/mfa/disable", methods=["POST"])
@login_required
def mfa_disable():
    form = MfaDisableForm()
    if form.validate_on_submit():
        if mfa.required(current_user):  # say so before asking for anything
            form.password.errors.append(
                _(
                    "Your role requires two-step verification; it cannot be turned off. An "
                    "administrator can reset it if you lose your authenticator."
                )
            )
        elif _password_confirmed(form.password):
            try:
                disable_mfa(Actor.of(current_user), current_user)
                db.session.commit()
            except OperationError as exc:
                db.session.rollback()
                form.password.errors.append(exc.message)
            else:
                flash(_("Two-step verification is off."), "info")
                return redirect(url_for("accounts.account"))
    return _account_page(disable=form)


@bp.route("/account/password", methods=["POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    form.user_inputs = (current_user.login, current_user.display_name)
    if form.validate_on_submit() and _password_confirmed(form.current, _("The current password is wrong.")):
        set_password(
            Actor.of(current_user),
            current_user,
            form.password.data,
            keep_session_id=auth.hash_token(session["sid"]),
        )
        db.session.commit()
        flash(_("Your password has been changed; your other sessions were signed out."), "success")
        return redirect(url_for("accounts.account"))
    return _account_page(form)


def _preference_form() -> EmailPreferenceForm:
    return EmailPreferenceForm(formdata=None, email_notifications=current_user.email_notifications)


@bp.route("/admin/users")
@roles_required("admin")
def users():
    rows = db.session.scalars(sa.select(User).order_by(User.login)).all()
    return render_template("accounts/users.html", users=rows)


def _reauthenticated(field) -> bool:
    """Before a sensitive admin action: true when the admin typed their own password again in
    this session within REAUTH_MINUTES, or types it now (in `field`)."""
    if auth.reauth_fresh(session.get("sid")):
        return True
    if not field.data:
        field.errors.append(_("Please enter your own password to confirm this change."))
        return False
    return _password_confirmed(field)


def _reauth_needed() -> bool:
    return not auth.reauth_fresh(session.get("sid"))


@bp.route("/admin/users/new", methods=["GET", "POST"])
@roles_required("admin")
def new_user():
    form = UserCreateForm()
    form.set_choices(_departments())
    if form.validate_on_submit() and (not form.roles.data or _reauthenticated(form.reauth_password)):
        try:
            user = create_user(
                Actor.of(current_user),
                login=form.login.data,
                display_name=form.display_name.data,
                password=form.password.data,
                email=form.email.data,
                department=db.session.get(Department, form.department_id.data),
                roles=form.roles.data,
            )
            db.session.commit()
        except OperationError as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
        else:
            flash(_("Account %(login)s created.", login=user.login), "success")
            return redirect(url_for("accounts.edit_user", user_id=user.id))
    return render_template("accounts/user_new.html", form=form, reauth_needed=_reauth_needed())


def _user_edit_form(user: User, from_request: bool) -> UserEditForm:
    """The edit form: filled from the request when submitted, from the user otherwise."""
    form = UserEditForm() if from_request else UserEditForm(formdata=None, obj=user)
    form.set_choices(_departments())
    if not from_request:
        form.department_id.data = user.department_id or 0
        form.roles.data = sorted(user.roles)
    return form


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_user(user_id: int):
    user = db.get_or_404(User, user_id)
    form = _user_edit_form(user, from_request=request.method == "POST")
    # one's own roles are refused by set_roles at once, without asking for the password first
    reauth = sorted(set(form.roles.data or ())) != sorted(user.roles) and user.id != current_user.id
    if form.validate_on_submit() and (not reauth or _reauthenticated(form.reauth_password)):
        actor = Actor.of(current_user)
        try:
            update_user(
                actor,
                user,
                display_name=form.display_name.data,
                email=form.email.data,
                department=db.session.get(Department, form.department_id.data),
            )
            set_roles(actor, user, form.roles.data)
            (reactivate_user if form.active.data else deactivate_user)(actor, user)
            db.session.commit()
        except OperationError as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
        else:
            flash(_("Account %(login)s saved.", login=user.login), "success")
            return redirect(url_for("accounts.edit_user", user_id=user.id))
    return _user_edit_page(user, form=form)


def _user_edit_page(user: User, **forms):
    """The admin's page of one account: profile and roles, password, two-step verification."""
    return render_template(
        "accounts/user_edit.html",
        user=user,
        form=forms.get("form") or _user_edit_form(user, from_request=False),
        password_form=forms.get("password_form") or SetPasswordForm(formdata=None),
        mfa_reset_form=forms.get("mfa_reset_form") or MfaResetForm(formdata=None),
        credential=mfa.credential(user),
        mfa_required=mfa.required(user),
        is_self=user.id == current_user.id,
        reauth_needed=_reauth_needed(),
    )


@bp.route("/admin/users/<int:user_id>/password", methods=["POST"])
@roles_required("admin")
def reset_password(user_id: int):
    user = db.get_or_404(User, user_id)
    password_form = SetPasswordForm()
    password_form.user_inputs = (user.login, user.display_name)
    if password_form.validate_on_submit() and _reauthenticated(password_form.reauth_password):
        try:
            set_password(Actor.of(current_user), user, password_form.password.data)
            db.session.commit()
        except OperationError as exc:
            db.session.rollback()
            password_form.password.errors.append(exc.message)
        else:
            flash(
                _(
                    "The password of %(login)s has been set; their sessions were signed out.",
                    login=user.login,
                ),
                "success",
            )
            return redirect(url_for("accounts.edit_user", user_id=user.id))
    return _user_edit_page(user, password_form=password_form)


@bp.route("/admin/users/<int:user_id>/mfa-reset", methods=["POST"])
@roles_required("admin")
def reset_user_mfa(user_id: int):
    """An administrator's reset of someone's two-step verification (a lost phone): audited,
    and only with the admin's own password typed again."""
    user = db.get_or_404(User, user_id)
    form = MfaResetForm()
    if form.validate_on_submit():
        if user.id == current_user.id:
            form.form_errors.append(
                _(
                    "You cannot reset your own two-step verification here; use your account page, "
                    "or ask another administrator."
                )
            )
        elif _reauthenticated(form.reauth_password):
            try:
                reset_mfa(Actor.of(current_user), user)
                db.session.commit()
            except OperationError as exc:
                db.session.rollback()
                form.form_errors.append(exc.message)
            else:
                flash(
                    _(
                        "Two-step verification of %(login)s has been reset and their sessions were "
                        "signed out; where their role requires it they enrol again at the next sign-in.",
                        login=user.login,
                    ),
                    "success",
                )
                return redirect(url_for("accounts.edit_user", user_id=user.id))
    return _user_edit_page(user, mfa_reset_form=form)


@bp.route("/admin/departments", methods=["GET", "POST"])
@roles_required("admin", "office")
def departments():
    form = DepartmentForm()
    if form.validate_on_submit():
        try:
            department = create_department(Actor.of(current_user), form.name.data)
            db.session.commit()
        except OperationError as exc:
            db.session.rollback()
            form.name.errors.append(exc.message)
        else:
            flash(_("Department “%(name)s” added.", name=department.name), "success")
            return redirect(url_for("accounts.departments"))
    counts = dict(
        db.session.execute(sa.select(User.department_id, sa.func.count()).group_by(User.department_id)).all()
    )
    return render_template("accounts/departments.html", form=form, departments=_departments(), counts=counts)
