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
    response = make_response(render_template(template, **context), status)
    response.vary.update(("HX-Request", "HX-Request-Type"))
    return response
