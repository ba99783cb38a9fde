"""Reading the referral pages the way a person would: where a redirect goes, which part of
the page came back, what it says, which buttons it offers. Shared by the page tests of
children, referrals and work queues."""
import html
import re
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlencode, urlparse

from sqlalchemy import func, select

from coordination.extensions import db
from coordination.referrals.models import Child, Referral

# A Monday noon; every page test freezes the clock somewhere near it.
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)

MOVE_FORM = re.compile(r'<form method="post" action="/referrals/(\d+)/(\w+)"')
STATUS = re.compile(r'data-status="(\w+)"')
REFUSAL = re.compile(r'class="(?:refusal|error|warning|flash flash-error)"[^>]*>(.*?)</(?:p|span|div)>', re.S)


def body(response) -> str:
    """The response's text, with HTML entities read back into characters."""
    return html.unescape(response.get_data(as_text=True))


def raw(response) -> str:
    return response.get_data(as_text=True)


def redirect_path(response) -> str:
    assert response.status_code == 303, (response.status_code, raw(response)[:2000])
    return urlparse(response.headers["Location"]).path


def redirect_id(response, prefix: str) -> int:
    """The id at the end of a 303's Location, which must start with `prefix`."""
    path = redirect_path(response)
    match = re.fullmatch(rf"{re.escape(prefix)}(\d+)", path)
    assert match, path
    return int(match.group(1))


def assert_fragment_only(response, section_id: str) -> str:
    """The response is the one `<section id=…>` htmx swaps, and nothing of the page around it."""
    text = raw(response)
    assert text.lstrip().startswith(f'<section id="{section_id}"'), text[:500]
    assert text.rstrip().endswith("</section>"), text[-500:]
    assert "<html" not in text and "<body" not in text and "<header" not in text
    assert "HX-Request" in response.headers.get("Vary", "")
    return text


def assert_whole_page(response) -> str:
    text = raw(response)
    assert text.lstrip().lower().startswith("<!doctype html>"), text[:300]
    assert "<body" in text and "</html>" in text
    return text


def section(text: str, section_id: str) -> str:
    """The `<section id=…>` of a page (the app's sections do not nest)."""
    match = re.search(rf'<section id="{re.escape(section_id)}".*?</section>', text, re.S)
    assert match, f"no section {section_id}"
    return match.group(0)


def offered_moves(text: str) -> set[str]:
    """The actions whose buttons the referral state panel offers."""
    return {action for _, action in MOVE_FORM.findall(section(text, "referral-state"))}


def shown_status(text: str) -> str:
    return STATUS.search(section(text, "referral-state")).group(1)


def messages(response) -> list[str]:
    """Every refusal, error, warning or flashed error the response shows, as plain text."""
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.unescape(m))).strip()
            for m in REFUSAL.findall(raw(response))]


def says(response, phrase: str) -> bool:
    return any(phrase in message for message in messages(response))


def pager_links(text: str) -> dict[str, dict]:
    """rel → query parameters of the pager's links."""
    links = {}
    nav = re.search(r'<nav class="pager".*?</nav>', text, re.S)
    if nav:
        for href, rel in re.findall(r'<a href="([^"]+)" rel="(\w+)"', nav.group(0)):
            parsed = urlparse(html.unescape(href))
            links[rel] = {"path": parsed.path, **{k: v[0] for k, v in parse_qs(parsed.query).items()}}
    return links


def pager_link(text: str, rel: str) -> str:
    """The address of the pager's `rel` link ("next", "prev", "first"), as a browser follows it."""
    link = dict(pager_links(text)[rel])
    return f"{link.pop('path')}?{urlencode(link)}"


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def children_count() -> int:
    return count(Child)


def referral_count() -> int:
    return count(Referral)


def fresh(obj):
    """`obj` read again from the database."""
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)
