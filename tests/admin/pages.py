"""Reading the administration pages and the database the way a person checking would."""
import html
import re

from sqlalchemy import func, select

from coordination.audit.models import AuditEvent
from coordination.extensions import db

LONG = "x" * 10_000
REFUSAL = re.compile(r'class="(?:refusal|error|flash flash-error)"[^>]*>(.*?)</(?:p|span|div|li)>', re.S)
TEMPORARY_PASSWORD = re.compile(r"data-temporary-password>([^<]+)</code>")


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def messages(response) -> list[str]:
    """Every refusal and field error on the page, as a person reads them."""
    return [re.sub(r"\s+", " ", html.unescape(m)).strip() for m in REFUSAL.findall(response.get_data(as_text=True))]


def redirected_to(response) -> str:
    assert response.status_code in (302, 303), (response.status_code, response.get_data(as_text=True)[:3000])
    return response.headers["Location"]


def audit_actions(object_type: str | None = None, object_id=None) -> list[str]:
    query = select(AuditEvent.action).order_by(AuditEvent.id)
    if object_type is not None:
        query = query.where(AuditEvent.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEvent.object_id == str(object_id))
    db.session.expire_all()
    return list(db.session.scalars(query))


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def temporary_password(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    match = TEMPORARY_PASSWORD.search(response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)
    return match.group(1).strip()
