"""The one place that decides whether a request gets a whole page or a fragment."""
from flask import make_response, render_template, request


def wants_fragment() -> bool:
    """htmx asks for a fragment when it swaps an element; a boosted or body swap wants the page."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Request-Type") != "full"
    )


def page_or_fragment(page_template: str, fragment_template: str, status: int = 200, **context):
    template = fragment_template if wants_fragment() else page_template
    return html_response(render_template(template, **context), status)


def html_response(html: str, status: int = 200):
    """A page or a fragment already drawn, marked as depending on which of them was asked for."""
    response = make_response(html, status)
    response.vary.update(("HX-Request", "HX-Request-Type"))
    return response

