"""Every page of every role, for tests that look at each one in a real browser (on a phone,
through axe): one world shared by a whole test module, the addresses each person of the
world gets a page for, and a browser context signed in as that person.

The world is the security tests' (tests/security/world.py): a referral in every status,
children with and without consent, two shelters, every role. The addresses come from the
app's URL map, filled with the world's real ids (as in test_headers_and_csp), so a page
added later is visited without anyone listing it. Which of them a person may see is asked
of the app itself, through the test client, before any browser starts: a page is every
GET that answers that person with a whole HTML document, a 200 or the 403 that refuses
them; the sign-in page is added for nobody in particular.

Pages whose <main> has one shape are visited once: the same elements with the same classes,
types and states, however many rows a table or items a list has, differ in words and
numbers only, and would cost a browser's time for nothing (the world has a dozen children
whose pages look alike, and everyone's account page is the same). Each role's first page is
always visited, for the header and the navigation of that role.

A module-scoped world does not use the `app` fixture (which empties the tables after every
test): it keeps its own application context, and empties the tables when the module is done."""
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pyotp

from coordination import clock
from coordination.accounts.models import User
from coordination.extensions import db

from .browser_fixtures import STEP_TIMEOUT_MS
from .conftest import PASSWORD, Factory, _empty_tables
from .security.test_headers_and_csp import SIGN_IN_ENDPOINTS, addresses, get_rules
from .security.world import ROLES, World, build_world, signed_in

# Whole pages open their <html> in the first few bytes; fragments (htmx's answers, the
# notification badge) and JSON never do.
WHOLE_PAGE = b"<html"


@dataclass
class Tour:
    """For each role, the addresses of the pages that role sees, and who plays it. Plain
    values only: a record of the world touched while pages are open would start a
    transaction, and on SQLite hold the lock the live server needs."""
    pages: dict[str, list[str]] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    # A pool whose staff (the world's shelter_staff) may change its counts, with room to.
    shelter_id: int = 0
    pool_id: int = 0
    pool_label: str = ""
    # Someone whose sign-in asks for a code from an authenticator app after the password.
    two_factor_email: str = ""


def _is_whole_page(response) -> bool:
    return response.mimetype == "text/html" and WHOLE_PAGE in response.get_data()[:300].lower()


class _Shape(HTMLParser):
    """A page's elements as a tree, without its text and with only the attributes that change
    what an element is or how it looks (not ids, addresses or values)."""
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
    KEPT = {"class", "type", "role", "disabled", "hidden", "open", "checked", "required", "lang",
            "aria-invalid", "aria-live", "aria-current", "aria-hidden"}

    def __init__(self, html: str):
        super().__init__()
        self.root = ("", (), [])
        self.open = [self.root]
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        element = (tag, tuple(sorted((k, v if k in self.KEPT else "") for k, v in attrs)), [])
        self.open[-1][2].append(element)
        if tag not in self.VOID:
            self.open.append(element)

    def handle_endtag(self, tag):
        for depth in range(len(self.open) - 1, 0, -1):
            if self.open[depth][0] == tag:
                del self.open[depth:]
                break

    @classmethod
    def of_main(cls, html: str) -> str:
        """The shape of the page's <main> (of the whole page, if it has none)."""
        def find_main(element):
            if element[0] == "main":
                return element
            return next((found for child in element[2] if (found := find_main(child))), None)

        def written(element) -> str:
            children, previous = [], None
            for child in element[2]:
                text = written(child)
                if text != previous:  # a run of alike rows or items counts as one
                    children.append(text)
                previous = text
            return f"<{element[0]} {element[1]}>{''.join(children)}</{element[0]}>"
        root = cls(html).root
        return written(find_main(root) or root)


# Pages whose address alone shows little: each is also visited with these queries (the
# search in the header shows its results only when asked for something).
QUERIES = {"search.search": ["?q=Aysel"]}


def pages_for(app, world: World, user, shapes: set[str]) -> list[str]:
    """Every address that shows `user` a whole page, and one that refuses them (403), if
    any, less those whose <main> has a shape in `shapes` (which it adds to). The first page
    is always kept: it shows the header, and the navigation, of the user's role."""
    client = signed_in(app, user)
    pages = []
    for rule in get_rules(app):
        if rule.endpoint in SIGN_IN_ENDPOINTS:
            continue
        urls = addresses(rule, world)
        assert not isinstance(urls, str), urls  # test_headers_and_csp names the route to teach
        urls = urls + [url + query for url in urls for query in QUERIES.get(rule.endpoint, [])]
        for url in urls:
            response = client.get(url)
            if response.status_code in (200, 403) and _is_whole_page(response):
                shape = _Shape.of_main(response.get_data(as_text=True))
                if shape not in shapes or not pages:
                    shapes.add(shape)
                    pages.append(url)
    return pages


@contextmanager
def toured_world(app):
    """The security tests' world in the test database, and every page of it by role, until
    the block ends; then the tables are emptied, as the `app` fixture would."""
    with app.app_context():
        try:
            world = build_world(Factory())
            tour, shapes = Tour(), set()
            for role in ROLES:
                user = world.users[role]
                tour.pages[role] = pages_for(app, world, user, shapes)
                tour.emails[role], tour.user_ids[role] = user.email, user.id
            pool = next(p for p in world.pools if p.shelter is world.shelters[0] and p.available)
            tour.shelter_id, tour.pool_id, tour.pool_label = pool.shelter_id, pool.id, pool.label
            two_factor = world.person("guardianship", world.users["guardianship"].organization,
                                      totp_secret=pyotp.random_base32())
            tour.two_factor_email, tour.user_ids["two-factor"] = two_factor.email, two_factor.id
            db.session.commit()
            db.session.remove()  # hold no transaction (no SQLite lock) while the live server works
            yield tour
        finally:
            db.session.remove()
            _empty_tables()
            clock.freeze(None)


def speak(app, tour: Tour, language: str) -> None:
    """Every person of the world reads the app in `language` from their next page on."""
    with app.app_context():
        for user_id in tour.user_ids.values():
            db.session.get(User, user_id).locale = language
        db.session.commit()
        db.session.remove()


def open_context(browser, live_server, language: str, **options):
    """A browser context of its own (own cookies) whose browser asks for `language`."""
    context = browser.new_context(base_url=live_server.url, locale=language, **options)
    context.set_default_timeout(STEP_TIMEOUT_MS)
    return context


def sign_in(app, page, email: str, language: str) -> None:
    """Sign in through the real /login form, read in `language`."""
    from playwright.sync_api import expect

    give_password(app, page, email, language)
    expect(page, f"{email} could not sign in").not_to_have_url(re.compile(r"/login"))


def give_password(app, page, email: str, language: str) -> None:
    """Fill in and send the /login form, read in `language`, and wait for the next page."""
    from flask_babel import force_locale, gettext

    page.goto("/login")
    with app.app_context(), force_locale(language):
        email_label, password_label, button = gettext("Email"), gettext("Password"), gettext("Sign in")
    page.get_by_label(email_label, exact=True).fill(email)
    page.get_by_label(password_label, exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()
