"""The reports in a real browser: the charts show under the strict CSP, and a filter
narrows the reports in place, without a reload, leaving an address that can be bookmarked."""
import re

from playwright.sync_api import expect

from .conftest import RANGE


def test_charts_show_under_the_csp_and_a_filter_narrows_the_reports_in_place(history, make, new_page):
    baku = history.baku.id
    page = new_page(make.user("admin"))
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(f"/reports?{RANGE}")
    chart = page.locator("#report-occupancy svg[role=img]")
    expect(chart).to_be_visible()
    assert chart.locator("rect").count() > 0
    assert chart.bounding_box()["height"] > 20
    page.evaluate("window.notReloaded = true")

    page.locator("#report-filters select#region").select_option(str(baku))
    expect(page).to_have_url(re.compile(rf"region={baku}"))
    expect(page.locator("#report-occupancy tbody th")).to_have_text(["Baku"])
    assert page.evaluate("window.notReloaded") is True
    assert violations == [] and page.script_errors == []
