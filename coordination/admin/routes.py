"""Administration: regions, organizations, shelters with their pools, users, role policies."""
from flask import Blueprint, abort, render_template
from flask_login import current_user

from ..accounts.models import ADMIN

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def admins_only():
    if not current_user.is_authenticated or current_user.role != ADMIN:
        abort(403)


@bp.get("/")
def index():
    return render_template("admin/index.html")
