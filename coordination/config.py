"""Configuration, read once from the environment when the app is built.

Every setting has a safe development default; production refuses to start without
a SECRET_KEY and an AUDIT_KEY. `instance/config.py`, when present, may override any of them.
"""
import os
import secrets
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(RuntimeError):
    pass


def _int(environ, name: str, default: int, minimum: int = 1) -> int:
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _hours(environ, name: str, default: float) -> float:
    """A positive number of hours; fractions allowed (0.05 is three minutes)."""
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of hours, got {raw!r}") from None
    if not 0 < value < 10_000:
        raise ConfigError(f"{name} must be more than 0 and under 10000 hours, got {raw}")
    return value


def _flag(environ, name: str, default: bool = False) -> bool:
    raw = (environ.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _mail(environ) -> dict:
    """Where e-mail goes (coordination/notifications/sending.py). With no MAIL_SERVER (the
    default) nothing leaves the machine: each message is written to the log instead. A
    server needs a sender address its receivers will accept."""
    server = environ.get("MAIL_SERVER", "").strip()
    use_ssl = _flag(environ, "MAIL_USE_SSL")
    sender = environ.get("MAIL_DEFAULT_SENDER", "").strip()
    if server and not sender:
        raise ConfigError("MAIL_DEFAULT_SENDER must be set when MAIL_SERVER is, "
                          "e.g. MAIL_DEFAULT_SENDER='Shelter coordination <no-reply@beds.example.az>'")
    public_url = (environ.get("PUBLIC_URL") or "http://127.0.0.1:5000").strip().rstrip("/")
    if not public_url.startswith(("http://", "https://")):
        raise ConfigError(f"PUBLIC_URL must begin with https:// or http://, got {public_url!r}")
    return {
        "MAIL_SERVER": server,
        "MAIL_PORT": _int(environ, "MAIL_PORT", 465 if use_ssl else 25),
        "MAIL_USE_TLS": _flag(environ, "MAIL_USE_TLS"),
        "MAIL_USE_SSL": use_ssl,
        "MAIL_USERNAME": environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": environ.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": sender,
        # Flask-Mail would otherwise send nothing while TESTING: the tests read what a real
        # SMTP server received, and log-only mode is decided by MAIL_SERVER alone.
        "MAIL_SUPPRESS_SEND": False,
        # Seconds to wait for the SMTP server before a message is left for the next try.
        "MAIL_TIMEOUT": _int(environ, "MAIL_TIMEOUT", 10),
        # Tries before a message is given up (each later than the last: 1, 2, 4 … 60 minutes).
        "MAIL_MAX_ATTEMPTS": _int(environ, "MAIL_MAX_ATTEMPTS", 10),
        # The address links in e-mails point to.
        "PUBLIC_URL": public_url,
    }


def _zone(environ, name: str, default: str) -> str:
    raw = environ.get(name) or default
    try:
        ZoneInfo(raw)
    except (ValueError, ZoneInfoNotFoundError):
        raise ConfigError(f"{name} must be a time zone name such as Asia/Baku, got {raw!r}") from None
    return raw


def _instance_key(instance_path: str, name: str) -> str:
    """A per-checkout key kept in instance/<name>, so development sessions survive restarts
    and the audit trail stays verifiable. Made readable by its owner only, and never
    replaced: two processes starting at once both end up with the one that was there first."""
    path = Path(instance_path) / name
    if not path.exists():
        draft = path.with_name(f".{name}.{os.getpid()}.{secrets.token_hex(4)}")
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
            file.write(secrets.token_hex(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def _audit_keys(environ, instance_path: str, production: bool) -> tuple[str, tuple[str, ...]]:
    """The key that signs the audit trail, never stored in the database: AUDIT_KEY, else the
    file instance/audit_key; made into that file in development. And the keys it replaced
    (AUDIT_PREVIOUS_KEYS, comma-separated), which still verify what they signed."""
    key = environ.get("AUDIT_KEY", "").strip()
    if not key and production and not (Path(instance_path) / "audit_key").exists():
        raise ConfigError("AUDIT_KEY must be set (or kept in instance/audit_key) when COORDINATION_ENV=production")
    key = key or _instance_key(instance_path, "audit_key")
    previous = tuple(k.strip() for k in environ.get("AUDIT_PREVIOUS_KEYS", "").split(",") if k.strip())
    for name, value in [("AUDIT_KEY", key)] + [("AUDIT_PREVIOUS_KEYS", k) for k in previous]:
        if len(value) < 32:
            raise ConfigError(f"{name} must be a random value of 32 characters or more "
                              f"(python3 -c 'import secrets; print(secrets.token_hex(32))'), got {len(value)}")
    return key, previous


def limiter_problem(environ, workers: int) -> str | None:
    """Why `workers` server processes must not start with these settings, or None.

    The sign-in limit counts attempts where RATELIMIT_STORAGE_URI says. In memory, each process
    counts its own, so n workers let n times the limit through; in production that is refused,
    and the limit is kept in Redis instead (gunicorn.conf.py asks this before any worker starts)."""
    production = environ.get("COORDINATION_ENV", "development") == "production"
    storage = environ.get("RATELIMIT_STORAGE_URI") or "memory://"
    if production and workers > 1 and storage.startswith("memory://"):
        return (f"RATELIMIT_STORAGE_URI is memory://, so each of the {workers} workers would count sign-in "
                f"attempts on its own and let {workers} times LOGIN_RATE_LIMIT through. Point it at Redis "
                f"(RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379), which all workers and servers share, or run "
                f"one worker.")
    return None


def from_environment(instance_path: str, environ=os.environ) -> dict:
    env = environ.get("COORDINATION_ENV", "development")
    if env not in ("development", "production"):
        raise ConfigError(f"COORDINATION_ENV must be development or production, got {env!r}")
    production = env == "production"
    secret_key = environ.get("SECRET_KEY")
    if production and not secret_key:
        raise ConfigError("SECRET_KEY must be set when COORDINATION_ENV=production")
    audit_key, previous_audit_keys = _audit_keys(environ, instance_path, production)
    database_url = environ.get("DATABASE_URL") or (
        "sqlite:///" + str(Path(instance_path) / "coordination.sqlite3")
    )
    return {
        "COORDINATION_ENV": env,
        "SECRET_KEY": secret_key or _instance_key(instance_path, "secret_key"),
        # Signs the audit trail (audit/signing.py); the replaced keys still verify what they signed.
        "AUDIT_KEY": audit_key,
        "AUDIT_PREVIOUS_KEYS": previous_audit_keys,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_STORAGE_URI": environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Keys in the limiter's storage start with this, so that two deployments can share a Redis.
        "RATELIMIT_KEY_PREFIX": environ.get("RATELIMIT_KEY_PREFIX", "coordination"),
        # Sign-in attempts one client address may make.
        "LOGIN_RATE_LIMIT": environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        # Requests one API token may make (api/routes.py).
        "API_RATE_LIMIT": environ.get("API_RATE_LIMIT", "300 per minute"),
        # How long a submitted referral holds its bed before it expires (each step of the shelter
        # and guardianship holds it this long again), by the referral's urgency: routine, urgent,
        # emergency.
        "HOLD_HOURS": _hours(environ, "HOLD_HOURS", 48),
        # How long a referral may wait on someone, by urgency, before it escalates; the n-th
        # escalation comes after n times this (escalations/services.py).
        "ESCALATE_ROUTINE_HOURS": _hours(environ, "ESCALATE_ROUTINE_HOURS", 12),
        "ESCALATE_URGENT_HOURS": _hours(environ, "ESCALATE_URGENT_HOURS", 4),
        "ESCALATE_EMERGENCY_HOURS": _hours(environ, "ESCALATE_EMERGENCY_HOURS", 1),
        "HOLD_HOURS_URGENT": _hours(environ, "HOLD_HOURS_URGENT", 24),
        "HOLD_HOURS_EMERGENCY": _hours(environ, "HOLD_HOURS_EMERGENCY", 6),
        # An emergency placement made before the guardianship decision: how long the region's
        # guardianship body has to approve or reject it.
        "EMERGENCY_DECISION_HOURS": _hours(environ, "EMERGENCY_DECISION_HOURS", 72),
        # A child found at a police station or detention centre with no live referral this
        # long after being found raises an alert, once (referrals/found.py).
        "UNPLACED_ALERT_HOURS": _hours(environ, "UNPLACED_ALERT_HOURS", 6),
        # Bed counts confirmed less than FRESH_HOURS ago are fresh; older than STALE_HOURS, stale.
        "FRESH_HOURS": _int(environ, "FRESH_HOURS", 12),
        "STALE_HOURS": _int(environ, "STALE_HOURS", 48),
        # How passwords are hashed. Only the tests that are not about hashing change it, to a
        # cheap method; a real deployment keeps scrypt.
        "PASSWORD_HASH_METHOD": "scrypt",
        # How many times a request's work is tried when the database aborts it as a deadlock.
        "TRANSACTION_ATTEMPTS": 3,
        "SESSION_IDLE_MINUTES": _int(environ, "SESSION_IDLE_MINUTES", 30),
        # A placement longer than this many days is counted as long in the reports.
        "LONG_PLACEMENT_DAYS": _int(environ, "LONG_PLACEMENT_DAYS", 180),
        # The most children one sibling group may hold (referrals/siblings.py).
        "SIBLING_GROUP_LIMIT": _int(environ, "SIBLING_GROUP_LIMIT", 12, minimum=2),
        # How often an open bed board asks for new numbers.
        "BOARD_REFRESH_SECONDS": _int(environ, "BOARD_REFRESH_SECONDS", 30),
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted.
        "PROXY_HOPS": _int(environ, "PROXY_HOPS", 0, minimum=0),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "BABEL_DEFAULT_LOCALE": "az",
        # The zone people see and type times in; times are stored in UTC.
        "BABEL_DEFAULT_TIMEZONE": _zone(environ, "TIME_ZONE", "Asia/Baku"),
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        **_mail(environ),
    }
