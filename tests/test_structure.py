"""The shape the code keeps: the import graph is a tree (lower layers never import upward), and
templates ask the rules instead of comparing roles themselves."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "coordination"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in PACKAGE.rglob("*.py")
            if "migrations" not in path.parts and "translations" not in path.parts}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project's modules that this one imports anywhere in it, in functions too."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            base = f"{base}.{node.module}" if node.level and node.module else (node.module if not node.level else base)
            for alias in node.names:  # `from .. import availability` names a module
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {module for module in found if module in known and module != name}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = "open"
        path.append(module)
        for imported in sorted(graph[module]):
            if state.get(imported) == "open":
                return path[path.index(imported):] + [imported]
            if imported not in state and (found := visit(imported)):
                return found
        state[module] = "done"
        path.pop()
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_the_import_graph_of_the_app_has_no_cycle():
    modules = _modules()
    known = set(modules)
    # The package's __init__ builds the app from every part: it is the root, and nothing below
    # imports it for anything but its submodules.
    graph = {name: _imports(name, path, known) - {"coordination"} for name, path in modules.items()}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_bed_rules_know_nothing_of_referrals():
    """Referrals build on beds: a count change that must close overdue holds does so in an
    operation above both (beds/operations.py), never from the bed rules themselves."""
    modules = _modules()
    for name in ("coordination.beds.models", "coordination.beds.services", "coordination.beds.parts"):
        imported = _imports(name, modules[name], set(modules))
        assert not {m for m in imported if m.startswith("coordination.referrals")}, (name, imported)


ROLE_TEST = re.compile(r"\.role\s*(==|!=|in\b|not in\b)")


def test_templates_ask_the_rules_and_never_compare_roles():
    offenders = [f"{path.relative_to(ROOT)}:{n}" for path in (ROOT / "templates").rglob("*.html")
                 for n, line in enumerate(path.read_text().splitlines(), 1) if ROLE_TEST.search(line)]
    assert offenders == []
