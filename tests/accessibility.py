"""axe-core (Deque's accessibility engine) run on a page in a real browser.

axe is vendored under tests/vendor (see axe-core.VERSION) and reaches pages only in the
tests, as an init script of the browser context: the browser evaluates it in each new
document before the page's own scripts, through the DevTools protocol, which a page's
Content-Security-Policy does not govern. So nothing is bypassed: the page keeps its strict
policy (script-src 'self', style-src 'self') and axe judges it as its users see it. (A
<script> tag added to the page, as Playwright's add_script_tag does, would be inline code
the policy blocks; bypass_csp would switch the policy off for the page as well.)"""
from pathlib import Path

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
# What fails a test: a rule of WCAG 2.0/2.1 A and AA, or one of axe's best practices,
# broken with a serious or critical impact. (Moderate and minor findings are reported by
# `violations` as well, for whoever looks.)
FAILING_IMPACTS = ("serious", "critical")

_RUN = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html.slice(0, 200)})),
  }));
}"""


def let_axe_in(context) -> None:
    """Every page that `context` opens from now on has axe loaded (as `window.axe`)."""
    context.add_init_script(path=AXE)


def violations(page) -> list[dict]:
    """Every rule axe finds broken on the page as it is now: id, impact, help and the nodes."""
    return page.evaluate(_RUN)


def serious(found: list[dict]) -> list[dict]:
    return [v for v in found if v["impact"] in FAILING_IMPACTS]


def describe(where: str, violation: dict) -> str:
    nodes = "; ".join(f"{n['target']} {n['html']}" for n in violation["nodes"][:3])
    more = f" (+{len(violation['nodes']) - 3} more)" if len(violation["nodes"]) > 3 else ""
    return f"{where}: {violation['impact']} {violation['id']} ({violation['help']}): {nodes}{more}"
