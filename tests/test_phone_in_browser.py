"""On a phone, and for everyone: every page of every role, in Azerbaijani, Russian and
English, fits a 375 px wide screen without scrolling sideways (WCAG 2.1's Reflow, 1.4.10),
keeps the main navigation on screen, and has no serious or critical violation that axe-core
finds (WCAG 2.1 A and AA); and shelter staff change a bed count by tapping a button big
enough for a thumb.

Every page: each GET route of the app, filled with the real ids of one small but complete
world, that shows its person a whole page, plus the page that refuses them, and the sign-in
pages (password, then the two-factor code): tests/every_page.py. A route added later is
checked without being listed here.

One visit serves both checks, to keep the suite fast: the page opens 375 px wide, is
measured, and is then widened to a desktop's 1280 px, where axe looks at it (the markup is
the same; what axe judges of the layout, contrast above all, is judged as most people see
it). axe comes from tests/vendor and reaches the page as tests/accessibility.py says."""
import pytest
from playwright.sync_api import expect

from coordination.beds.models import BedPool
from coordination.extensions import db

from .accessibility import describe, let_axe_in, serious, violations
from .every_page import ROLES, give_password, open_context, sign_in, speak, toured_world

LANGUAGES = ("az", "ru", "en")
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
THUMB = 44  # CSS pixels: the least width and height of a control meant for a finger (WCAG 2.5.5)

# What sticks out on a screen `screen` px wide: the page's width (scrollWidth) and the window's
# (innerWidth, which a phone's browser widens to show a page that is too wide, or that has no
# <meta name=viewport>), the innermost elements that reach, or whose content spills, past the
# screen's right edge (to name them in a failure), and the main navigation's links that are
# not wholly on screen.
MEASURE = """screen => {
  const sticking = [];
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (el.classList.length ? "." + [...el.classList].join(".") : "")
    + ` "${(el.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 40)}"`;
  const right = el => { const r = el.getBoundingClientRect(); return Math.max(r.right, r.left + el.scrollWidth); };
  const past = el => right(el) > screen + 0.5;  // the element, or text or content spilling out of it
  const scroll = document.documentElement.scrollWidth, fits = scroll <= screen && window.innerWidth <= screen;
  for (const el of fits ? [] : document.body.querySelectorAll("*")) {
    if (past(el) && ![...el.children].some(past)) sticking.push(name(el) + " to " + Math.round(right(el)));
  }
  const offscreen = [...document.querySelectorAll("header.site nav a")].filter(a => {
    const r = a.getBoundingClientRect();
    return r.width === 0 || r.left < 0 || r.right > screen + 0.5;
  }).map(name);
  return {scroll, window: window.innerWidth, sticking: sticking.slice(0, 4), offscreen};
}"""


# A page that breaks every rule the sweep below looks for: the control that the sweep's checks
# find what they look for. (Served by the browser context itself, never by the app.)
CONTROL_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Control</title></head>
<body><header class="site"><nav><a href="/" style="position: absolute; left: 400px">Far away</a></nav></header>
<main><pre id="wide">A line of text far too long to fit on the screen of any phone, which does not wrap</pre>
<button type="button" aria-label="Something else">+1</button></main></body></html>"""


@pytest.fixture(scope="module")
def tour(_session_app):
    with toured_world(_session_app) as tour:
        yield tour


def phone(browser, live_server, language: str):
    """A phone's browser: a touch screen 375 px wide that heeds <meta name=viewport>."""
    return open_context(browser, live_server, language, viewport=PHONE, has_touch=True, is_mobile=True)


@pytest.mark.browser
def test_the_sweep_finds_a_page_too_wide_a_link_off_screen_and_a_misnamed_button(browser, live_server):
    context = phone(browser, live_server, "en")
    let_axe_in(context)
    context.route("**/control-page", lambda route: route.fulfill(content_type="text/html", body=CONTROL_PAGE))
    try:
        page = context.new_page()
        page.goto("/control-page")
        measured = page.evaluate(MEASURE, PHONE["width"])
        assert measured["scroll"] > PHONE["width"]
        assert any(found.startswith("pre#wide") for found in measured["sticking"]), measured
        assert [found.startswith("a ") for found in measured["offscreen"]] == [True], measured
        assert "label-content-name-mismatch" in {v["id"] for v in serious(violations(page))}
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("who", ("nobody", *ROLES))
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_fits_a_phone_and_passes_axe(_session_app, tour, browser, live_server, language, who):
    """Every page `who` sees (nobody: the sign-in pages), read in `language`. One test per
    person and language, so that the suite's workers share them out evenly."""
    speak(_session_app, tour, language)
    too_wide, accessibility, visited = [], [], []

    def look_at(page, where: str) -> None:
        """Measure the page as it is, on a phone; then widen it to a desktop's and ask axe."""
        visited.append(where)
        measured = page.evaluate(MEASURE, PHONE["width"])
        if not measured["scroll"] <= measured["window"] == PHONE["width"]:
            too_wide.append(f"{where}: {measured['scroll']} px wide, window {measured['window']} px, on a "
                            f"{PHONE['width']} px screen: " + ", ".join(measured["sticking"]))
        if measured["offscreen"]:
            too_wide.append(f"{where}: navigation off screen: {', '.join(measured['offscreen'])}")
        page.set_viewport_size(DESKTOP)
        accessibility.extend(describe(where, v) for v in serious(violations(page)))
        page.set_viewport_size(PHONE)

    context = phone(browser, live_server, language)
    let_axe_in(context)
    page = context.new_page()
    try:
        if who == "nobody":
            page.goto("/login")
            look_at(page, "/login")
            give_password(_session_app, page, tour.two_factor_email, language)  # the code is asked next
            assert "/login/code" in page.url, page.url
            look_at(page, "/login/code, between password and code")
        else:
            sign_in(_session_app, page, tour.emails[who], language)
            for url in tour.pages[who]:
                response = page.goto(url)
                assert response.status in (200, 403), f"{url}: {response.status}"
                look_at(page, url)
    finally:
        context.close()
    assert visited, "no page visited: the world shows this person nothing"
    assert not too_wide, f"{len(too_wide)} pages do not fit a phone:\n" + "\n".join(too_wide)
    assert not accessibility, (f"{len(accessibility)} serious or critical accessibility violations:\n"
                               + "\n".join(accessibility))


@pytest.mark.browser
def test_shelter_staff_add_an_occupied_bed_by_tapping(_session_app, tour, browser, live_server):
    speak(_session_app, tour, "en")
    context = phone(browser, live_server, "en")
    try:
        page = context.new_page()
        sign_in(_session_app, page, tour.emails["shelter_staff"], "en")
        page.goto(f"/shelters/{tour.shelter_id}")
        row = page.locator(f"#pool-{tour.pool_id}")
        before = int(row.locator("output[data-count=occupied]").inner_text())

        steppers = page.locator("form.stepper button").all()
        assert steppers, "no +1/−1 buttons on the shelter's page"
        for button in steppers:  # every pool's, on screen and big enough for a thumb
            button.scroll_into_view_if_needed()
            box = button.bounding_box()
            assert box["width"] >= THUMB and box["height"] >= THUMB, (button.inner_text(), box)
            assert 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"], ("off screen", button.inner_text(), box)

        more = row.get_by_role("button", name=f"+1 One bed more occupied in {tour.pool_label}", exact=True)
        more.tap()
        expect(row.locator("output[data-count=occupied]")).to_have_text(str(before + 1))
        expect(row.locator(".notice")).to_have_text("Saved.")
        measured = page.evaluate(MEASURE, PHONE["width"])
        assert measured["scroll"] <= measured["window"] == PHONE["width"], measured
    finally:
        context.close()
    with _session_app.app_context():
        assert db.session.get(BedPool, tour.pool_id).occupied == before + 1
        db.session.remove()
