from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..clock import now
from ..errors import InvalidInput
from ..extensions import db, limiter
from ..i18n import SESSION_KEY
from . import operations, services
from ..notifications import mail
from .forms import ChangePasswordForm, CodeForm, LanguageForm, LoginForm, LogoutForm, MailKindsForm
from .models import User

bp = Blueprint("accounts", __name__)

PENDING_KEY = "pending_sign_in"  # the session keeps only the token of a pending sign-in


def _refused_message() -> str:
    """The one answer for every failed sign-in."""
    return _("That email and password do not match an active account, or sign-in from your address "
             "is paused after too many failed attempts; wait a few minutes and try again, or ask an "
             "administrator.")


def _local_path(target: str | None) -> str | None:
    """Only a path on this site may be a place to come back to after signing in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _address() -> str:
    return request.remote_addr or ""


def _start_session(user: User, next_path: str | None):
    """A fresh session for a completed sign-in: nothing of the anonymous one carries over."""
    services.record_login(user, _address())
    db.session.commit()
    session.clear()
    login_user(user)
    session["last_seen"] = now().timestamp()
    if user.must_change_password:
        flash(_("Choose a new password before you go on."), "warning")
        return redirect(url_for(".change_password"), 303)
    return redirect(_local_path(next_path) or url_for("core.home"), 303)


def _login_rate() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate, methods=["POST"],
               error_message=lambda: _("Too many sign-in attempts from your address; wait a minute and try again."))
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = _local_path(request.args.get("next"))
    if form.validate_on_submit():
        try:
            user = operations.sign_in(form.email.data, form.password.data, _address())
        except services.LoginRefused:
            db.session.commit()  # the failed attempt is counted and audited
            form.password.errors.append(_refused_message())
        else:
            if services.needs_second_factor(user):
                token = services.start_pending_sign_in(user, _address())
                db.session.commit()
                session.clear()
                session[PENDING_KEY] = token
                session["pending_next"] = _local_path(form.next.data)
                return redirect(url_for(".second_factor"), 303)
            return _start_session(user, form.next.data)
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/login.html", form=form), status


def _back_to_password(message: str):
    session.clear()
    flash(message, "warning")
    return redirect(url_for(".login"), 303)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_login_rate, methods=["POST"])
def second_factor():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    pending = services.pending_sign_in(session.get(PENDING_KEY))
    if pending is None:
        return _back_to_password(_("Sign in again, please."))
    form = CodeForm()
    secret = pending.new_totp_secret  # only while setting up: the key to add to the app
    status = 200
    if form.validate_on_submit():
        next_path = session.get("pending_next")
        try:
            user = operations.give_code(pending, form.code.data)
        except services.SignInEnded as ended:
            db.session.commit()  # the codes tried are counted and audited
            if ended.paused_before:
                return _back_to_password(_refused_message())
            return _back_to_password(_("Five wrong codes: this sign-in has ended. Sign in again with your "
                                       "password, please."))
        except InvalidInput as refusal:
            db.session.commit()  # the code tried is counted
            form.code.errors.append(refusal.message)
            status = 422
        else:
            return _start_session(user, next_path)
    elif request.method == "POST":
        status = 422
    return render_template("accounts/second_factor.html", form=form, setting_up=secret is not None,
                           secret=secret, uri=services.totp_uri(pending.user, secret) if secret else None), status


@bp.post("/logout")
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            services.record_logout(current_user)
            db.session.commit()
        logout_user()
        session.clear()
        flash(_("You are signed out."), "success")
    return redirect(url_for(".login"), 303)


@bp.get("/account")
def account():
    return _account_page()


def _account_page(mail_form: MailKindsForm | None = None, status: int = 200):
    form = LanguageForm(formdata=None, data={"language": current_user.locale})
    offered = mail.kinds_for(current_user)
    if mail_form is None:
        turned_off = set(current_user.mail_turned_off or [])
        mail_form = MailKindsForm(formdata=None, data={"kinds": [k.key for k in offered if k.key not in turned_off]})
    return render_template("accounts/account.html", form=form, mail_form=mail_form.offer(offered)), status


@bp.post("/account/mail")
def choose_mail():
    """Which kinds of e-mail this person receives, of those their role can get."""
    form = MailKindsForm()
    if not form.validate_on_submit():
        return _account_page(form, 422)
    try:
        mail.choose_mail_kinds(current_user, form.kinds.data)
    except InvalidInput as refusal:
        db.session.rollback()
        form.kinds.errors = [refusal.message]
        return _account_page(form, 422)
    db.session.commit()
    flash(_("Your choice of e-mails is saved."), "success")
    return redirect(url_for(".account"), 303)


@bp.post("/account/language")
def choose_language():
    """Switch the language: kept on the account when signed in, in this browser's session
    before that. Goes back to the page the switch was made on."""
    form = LanguageForm()
    if not form.validate():
        raise InvalidInput(_("Choose one of the languages offered."))
    if current_user.is_authenticated:
        services.choose_language(current_user, form.language.data)
        db.session.commit()
    else:
        session[SESSION_KEY] = form.language.data
    return redirect(_local_path(form.next.data) or _page_switched_on() or url_for("core.home"), 303)


def _page_switched_on() -> str | None:
    """The page of this site the switch was made on, from the Referer."""
    parts = urlsplit(request.referrer or "")
    if parts.netloc != request.host:
        return None
    return _local_path(parts.path + (f"?{parts.query}" if parts.query else ""))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    form = ChangePasswordForm()
    status = 200
    user = current_user._get_current_object()  # the user itself, not the proxy, for login_user
    if form.validate_on_submit():
        try:
            services.change_password(user, form.current.data, form.new.data)
        except InvalidInput as refusal:
            db.session.rollback()
            form[refusal.field or "new"].errors.append(refusal.message)
            status = 422
        else:
            db.session.commit()
            login_user(user)  # this session goes on under the new session version
            flash(_("Your password is changed. Other sessions of yours have ended."), "success")
            return redirect(url_for("core.home"), 303)
    elif request.method == "POST":
        status = 422
    return render_template("accounts/password.html", form=form), status


@bp.route("/account/two-factor", methods=["GET", "POST"])
def two_factor():
    """Turn two-factor sign-in on (scan, then confirm a code) or off."""
    form = CodeForm()
    status = 200
    if request.method == "POST" and request.form.get("turn") == "off":
        if LogoutForm().validate_on_submit():
            try:
                services.disable_totp(current_user)
            except InvalidInput as refusal:
                flash(refusal.message, "error")
            else:
                db.session.commit()
                flash(_("Two-factor sign-in is off."), "success")
        return redirect(url_for(".two_factor"), 303)
    if form.validate_on_submit():
        try:
            services.enable_totp_from_account(current_user, form.code.data)
        except InvalidInput as refusal:
            db.session.rollback()
            form.code.errors.append(refusal.message)
            status = 422
        else:
            db.session.commit()
            flash(_("Two-factor sign-in is on."), "success")
            return redirect(url_for(".two_factor"), 303)
    elif request.method == "POST":
        status = 422
    secret = None
    if current_user.totp_secret is None:
        secret = services.enrolment_secret(current_user)  # the same key until it is confirmed
        db.session.commit()
    return render_template("accounts/two_factor.html", form=form, secret=secret,
                           uri=services.totp_uri(current_user, secret) if secret else None,
                           required=services.totp_required(current_user), off_form=LogoutForm()), status
