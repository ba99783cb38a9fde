"""Shelter and referral coordination: the app factory."""
from pathlib import Path

from flask import Flask, g, request
from flask_login import current_user
from jinja2 import StrictUndefined
from werkzeug.middleware.proxy_fix import ProxyFix
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import joinedload

from . import config as app_config
from . import transactions
from .audit import services as audit
from .extensions import babel, csrf, db, limiter, login_manager, mail, migrate
from .i18n import choose_language
from .security import CoordinationRequest

ROOT = Path(__file__).resolve().parent.parent


class CoordinationApp(Flask):
    request_class = CoordinationRequest

    def dispatch_request(self):
        """A view's work runs again, whole, when the database aborts it as a deadlock
        (see coordination/transactions.py)."""
        return transactions.run_whole(super().dispatch_request, attempts=self.config["TRANSACTION_ATTEMPTS"],
                                      what=f"{request.method} {request.path}")


def create_app(test_config: dict | None = None) -> Flask:
    app = CoordinationApp(
        __name__,
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    Path(app.instance_path).mkdir(exist_ok=True)
    app.config.from_mapping(app_config.from_environment(app.instance_path))
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"timeout": 30}})

    if app.config["PROXY_HOPS"]:
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    app.jinja_env.undefined = StrictUndefined  # a typo in a template fails loudly, not blank
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=choose_language)
    login_manager.init_app(app)
    mail.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None

    from . import models  # noqa: F401  (every model registered before use)
    from .accounts.routes import bp as accounts_bp
    from .admin.routes import bp as admin_bp
    from .audit.routes import bp as audit_bp
    from .beds.routes import bp as beds_bp
    from .core.routes import bp as core_bp
    from .escalations.routes import bp as escalations_bp
    from .notifications.routes import bp as notifications_bp
    from .referrals.note_routes import bp as notes_bp
    from .referrals.routes import bp as referrals_bp
    from .referrals.search_routes import bp as search_bp
    from .referrals.sibling_routes import bp as siblings_bp
    from .reports.routes import bp as reports_bp
    from .api.routes import bp as api_bp
    from .api.admin_routes import bp as api_tokens_bp

    app.register_blueprint(accounts_bp)
    app.register_blueprint(core_bp)
    app.register_blueprint(beds_bp)
    app.register_blueprint(referrals_bp)
    app.register_blueprint(notes_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(escalations_bp)
    app.register_blueprint(siblings_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(api_tokens_bp)
    app.register_blueprint(api_bp)

    from .errors import register_error_handlers
    from .security import register_security
    from .templating import register_templating
    from .cli import register_commands
    from .accounts.guard import register_session_guard
    from .api.authentication import register_api_authentication
    from .notifications.sending import register_mail_sending

    register_error_handlers(app)
    register_security(app)
    register_templating(app)
    register_commands(app)

    register_api_authentication(app)  # before the session guard: the API knows its caller by token
    register_session_guard(app)
    register_mail_sending(app)

    @app.before_request
    def attribute_audit_events():
        """Whatever this request records in the audit trail is signed by its user and address."""
        user = current_user if current_user.is_authenticated else None
        g.audit_token = audit.act_as(audit.Actor(
            user_id=user.id if user else None,
            organization_id=user.organization_id if user else None,
            client_address=request.remote_addr or ""))

    @app.teardown_request
    def forget_audit_actor(exc):
        token = g.pop("audit_token", None)
        if token is not None:
            audit.reset(token)

    return app


@login_manager.user_loader
def _load_user(session_id: str):
    """The session names the user and the user's session version; a deactivated user, or one
    whose sessions were ended (password reset, password change), is signed out at once.
    Once the database has failed in this request, nobody is loaded: the error page that says
    so is drawn for nobody in particular rather than failing again (errors.server_error)."""
    from .accounts.models import User

    if g.get("database_failed"):
        return None
    user_id, _, version = session_id.partition(".")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    # With the organization in the same statement: is_active asks whether it is active.
    user = db.session.get(User, int(user_id), options=[joinedload(User.organization)])
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return user


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection, connection_record):
    """SQLite: enforce foreign keys, let readers and a writer work side by side (WAL), and
    wait up to 30 s for the write lock; how each transaction begins is transactions.sqlite_begin."""
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


@event.listens_for(Engine, "connect")
def _postgresql_connect(dbapi_connection, connection_record):
    """PostgreSQL: no parallel workers for a query. Every page asks small questions through
    indexes; starting workers for one cost more than the whole question (about 10 ms against
    1 to 2 for the overview's unmet demand, measured), and they take the cores that other
    people's requests are waiting for. The reports, which aggregate a whole country's
    history, allow them again for their own transaction (reports.services.with_parallel_workers)."""
    if type(dbapi_connection).__module__.startswith("psycopg"):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET max_parallel_workers_per_gather = 0")
        dbapi_connection.commit()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(transactions.sqlite_begin())
