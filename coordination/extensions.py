"""The Flask extensions, created once and bound to the app in create_app."""
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()
migrate = Migrate()
babel = Babel()
# E-mail to the SMTP server of MAIL_SERVER (notifications/sending.py; none: to the log).
mail = Mail()
# Limits live in RATELIMIT_STORAGE_URI: memory for one server, Redis when several run.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
