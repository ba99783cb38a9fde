from flask import Blueprint, jsonify
from flask_login import current_user
from sqlalchemy import select, text

from ..accounts.models import SHELTER_STAFF
from ..beds.models import Shelter
from ..extensions import db
from ..htmx import page_or_fragment
from ..referrals.services import work_queue

bp = Blueprint("core", __name__)


@bp.get("/")
def home():
    shelters = []
    if current_user.role == SHELTER_STAFF:
        shelters = db.session.scalars(
            select(Shelter).where(Shelter.organization_id == current_user.organization_id)
            .order_by(Shelter.name)).all()
    return page_or_fragment("core/home.html", "core/_queue.html", shelters=shelters,
                            queue=work_queue(current_user))


@bp.get("/healthz")
def healthz():
    """For load balancers and monitors: 200 while the database answers, 503 when it does not."""
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception as error:  # any failure to reach the database is "unavailable"
        db.session.rollback()
        database = f"unavailable: {type(error).__name__}"
    ok = database == "ok"
    return jsonify(app="ok", database=database, status="ok" if ok else "degraded"), 200 if ok else 503
