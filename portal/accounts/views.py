"""Sign in and out, one's own account, and account administration."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal.accounts import auth
from portal.accounts.forms import (
    ChangePasswordForm,
    DepartmentForm,
    LoginForm,
    LogoutForm,
    SetPasswordForm,
    UserCreateForm,
    UserEditForm,
)
from portal.accounts.models import Department, User
from portal.accounts.operations import (
    create_department,
    create_user,
    deactivate_user,
    reactivate_user,
    set_password,
    set_roles,
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
            max_failures=current_app.config["LOGIN_MAX_FAILURES"],
            window=current_app.config["LOGIN_FAILURE_WINDOW"],
            remote_addr=request.remote_addr,
            user_agent=request.user_agent.string,
        )
        db.session.commit()  # failures are audited too
        if outcome.status == auth.LOGIN_OK:
            _restart_session(sid=outcome.token)
            login_user(outcome.user)
            flash(_("Welcome, %(name)s.", name=outcome.user.display_name), "success")
            return redirect(target)
        if outcome.status == auth.LOGIN_LOCKED:
            form.form_errors.append(
                _(
                    "Too many failed sign-in attempts for this account. Please try again in "
                    "%(minutes)d minutes.",
                    minutes=outcome.retry_minutes,
                )
            )
        elif outcome.status == auth.LOGIN_INACTIVE:
            form.form_errors.append(_("This account has been deactivated."))
        else:
            form.form_errors.append(_("Wrong login name or password."))
    return render_template("accounts/login.html", form=form)


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


@bp.route("/account")
@login_required
def account():
    return render_template(
        "accounts/account.html", form=ChangePasswordForm(), preference_form=_preference_form()
    )


@bp.route("/account/password", methods=["POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append(_("The current password is wrong."))
        else:
            set_password(
                Actor.of(current_user),
                current_user,
                form.password.data,
                keep_session_id=auth.hash_token(session["sid"]),
            )
            db.session.commit()
            flash(_("Your password has been changed; your other sessions were signed out."), "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/account.html", form=form, preference_form=_preference_form())


def _preference_form() -> EmailPreferenceForm:
    return EmailPreferenceForm(formdata=None, email_notifications=current_user.email_notifications)


@bp.route("/admin/users")
@roles_required("admin")
def users():
    rows = db.session.scalars(sa.select(User).order_by(User.login)).all()
    return render_template("accounts/users.html", users=rows)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@roles_required("admin")
def new_user():
    form = UserCreateForm()
    form.set_choices(_departments())
    if form.validate_on_submit():
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
    return render_template("accounts/user_new.html", form=form)


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
    if form.validate_on_submit():
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
    return render_template(
        "accounts/user_edit.html", user=user, form=form, password_form=SetPasswordForm(formdata=None)
    )


@bp.route("/admin/users/<int:user_id>/password", methods=["POST"])
@roles_required("admin")
def reset_password(user_id: int):
    user = db.get_or_404(User, user_id)
    password_form = SetPasswordForm()
    if password_form.validate_on_submit():
        set_password(Actor.of(current_user), user, password_form.password.data)
        db.session.commit()
        flash(
            _("The password of %(login)s has been set; their sessions were signed out.", login=user.login),
            "success",
        )
        return redirect(url_for("accounts.edit_user", user_id=user.id))
    return render_template(
        "accounts/user_edit.html",
        user=user,
        password_form=password_form,
        form=_user_edit_form(user, from_request=False),
    )


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
