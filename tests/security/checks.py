"""What the security tests look for in a response: the headers every response must carry,
and markup that a strict Content-Security-Policy would block (or that would need
'unsafe-inline' or 'unsafe-eval' to work). Read with the standard library's HTML parser,
the way a browser tokenizes a page, not with regular expressions."""
from html.parser import HTMLParser

# --- what every response must carry ------------------------------------------------------------

UNSAFE_KEYWORDS = {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'wasm-unsafe-eval'"}
# Sources that let any script or style in: a wildcard, or a whole scheme.
ANYTHING = {"*", "data:", "blob:", "http:", "https:", "filesystem:", "mediastream:"}


def parse_csp(policy: str) -> tuple[dict[str, list[str]], list[str]]:
    """The policy's directives (name -> source list), and any directive named twice
    (a browser obeys only the first, so a second one is a mistake)."""
    directives, repeated = {}, []
    for part in policy.split(";"):
        words = part.split()
        if not words:
            continue
        name = words[0].lower()
        if name in directives:
            repeated.append(name)
            continue
        directives[name] = words[1:]
    return directives, repeated


def csp_problems(policy: str) -> list[str]:
    directives, repeated = parse_csp(policy)
    problems = [f"{name} is given twice" for name in repeated]

    def exactly(name: str, sources: list[str]) -> None:
        if directives.get(name) != sources:
            problems.append(f"{name} must be {' '.join(sources)}, is {directives.get(name)!r}")

    exactly("default-src", ["'self'"])
    exactly("frame-ancestors", ["'none'"])
    exactly("form-action", ["'self'"])
    exactly("base-uri", ["'self'"])
    for name in ("script-src", "style-src"):
        # Without its own directive a browser falls back to default-src.
        sources = directives.get(name, directives.get("default-src", []))
        if not sources:
            problems.append(f"{name} allows nothing and says nothing: neither it nor default-src is set")
        for source in sources:
            if source.lower() in UNSAFE_KEYWORDS or source.lower() in ANYTHING:
                problems.append(f"{name} allows {source}")
    for name, sources in directives.items():
        for source in sources:
            if source.lower() in {"'unsafe-inline'", "'unsafe-eval'"}:
                problems.append(f"{name} allows {source}")
    return sorted(set(problems))


def header_problems(response, page: bool = True) -> list[str]:
    """What is wrong with the response's security headers. `page`: anything but a static file."""
    problems = []
    policies = response.headers.getlist("Content-Security-Policy")
    if len(policies) != 1:
        problems.append(f"{len(policies)} Content-Security-Policy headers, not one")
    for policy in policies:
        problems += [f"CSP: {problem}" for problem in csp_problems(policy)]
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append(f"X-Content-Type-Options is {response.headers.get('X-Content-Type-Options')!r}")
    if response.headers.get("Referrer-Policy") != "same-origin":
        problems.append(f"Referrer-Policy is {response.headers.get('Referrer-Policy')!r}")
    if page:
        cache_control = {part.strip().split("=")[0].lower()
                         for part in response.headers.get("Cache-Control", "").split(",")}
        if "no-store" not in cache_control:
            problems.append(f"Cache-Control is {response.headers.get('Cache-Control')!r}, without no-store")
    return problems


# Attributes whose value a browser (or htmx) follows or evaluates.
ACTIVE_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "poster", "srcdoc", "xlink:href", "ping",
                     "background", "cite", "srcset"}


class InlineCodeFinder(HTMLParser):
    """Reads HTML as a browser would and notes everything a strict CSP would block or
    that would need 'unsafe-inline' / 'unsafe-eval' to work.

    `strict`: any attribute value that starts with js: or javascript: counts (the rule for
    the app's own markup). Otherwise only where a browser or htmx would act on it (htmx
    attributes, URLs): the value of a text box that shows what someone typed is just text."""

    def __init__(self, strict: bool = True):
        super().__init__(convert_charrefs=True)
        self.strict = strict
        self.problems: list[str] = []
        self._script: dict | None = None

    def handle_starttag(self, tag, attrs):
        self._look_at(tag, attrs)
        if tag == "script":
            self._script = {"src": any(name == "src" and value for name, value in attrs), "text": ""}

    def handle_startendtag(self, tag, attrs):
        self._look_at(tag, attrs)
        if tag == "script":  # <script/> is not self-closing in HTML; treat it as opened
            self._script = {"src": any(name == "src" and value for name, value in attrs), "text": ""}

    def handle_data(self, data):
        if self._script is not None:
            self._script["text"] += data

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            if not self._script["src"]:
                self.problems.append("a <script> without src")
            if self._script["text"].strip():
                self.problems.append(f"an inline script: {self._script['text'].strip()[:80]!r}")
            self._script = None

    def close(self):
        super().close()
        if self._script is not None:  # never closed: the rest of the page is its text
            self.handle_endtag("script")

    def _look_at(self, tag, attrs):
        if tag == "style":
            self.problems.append("a <style> element")
        for name, value in attrs:
            if name == "style":
                self.problems.append(f'style="{value}" on <{tag}>')
            elif name.startswith(("hx-on", "data-hx-on")):
                self.problems.append(f"{name} on <{tag}>")
            elif name.startswith("on"):
                self.problems.append(f"an inline event handler {name} on <{tag}>")
            active = name.startswith(("hx-", "data-hx-")) or name in ACTIVE_ATTRIBUTES
            if not (self.strict or active):
                continue
            text = (value or "").strip().lower()
            if text.startswith("js:"):
                self.problems.append(f'{name}="{value[:60]}" on <{tag}> (a js: value)')
            elif text.startswith("javascript:"):
                self.problems.append(f'{name}="{value[:60]}" on <{tag}> (a javascript: URL)')


def inline_code(markup: str, strict: bool = True) -> list[str]:
    finder = InlineCodeFinder(strict)
    finder.feed(markup)
    finder.close()
    return finder.problems


def response_problems(response, page: bool = True) -> list[str]:
    problems = header_problems(response, page=page)
    if response.mimetype == "text/html":
        problems += inline_code(response.get_data(as_text=True))
    return problems


def is_whole_page(response) -> bool:
    return response.get_data(as_text=True).lstrip().lower().startswith("<!doctype html")
