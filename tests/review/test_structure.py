"""The reviewer side's shape: no import cycle, no import hidden in a function, short modules."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "pgolf"
REVIEW = PKG / "review"
MAX_LINES = 400
# Lines with dict[str, Any] in review/: the JSON/CSV edge (output/rows.py, the writers in verbs.py) and read/'s
# claim and README numbers (read/claim.py, read/record.py). It may only shrink (issue 27's target is under 20).
MAX_DICT_ANY = 19


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p): p for p in PKG.rglob("*.py")}


def _imports(path: Path) -> set[str]:
    """The pgolf modules a module imports (`from pgolf.x import y` counts pgolf.x.y when that is a module)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in MODULES}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pgolf"):
            subs = {f"{node.module}.{a.name}" for a in node.names}
            out |= subs & MODULES.keys()
            if subs - MODULES.keys():  # a name defined in the module (or its package's __init__)
                out |= {node.module} & MODULES.keys()
    return out


def test_the_review_package_has_no_import_cycle():
    graph = {m: _imports(p) for m, p in MODULES.items()}
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(m: str, stack: list[str]) -> bool:
        state[m] = 1
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                cycle.extend(stack[stack.index(n):] + [m, n] if n in stack else [m, n])
                return True
            if n not in state and visit(n, [*stack, m]):
                return True
        state[m] = 2
        return False

    review = sorted(m for m in MODULES if m.startswith("pgolf.review"))
    assert not any(visit(m, []) for m in review if m not in state), " -> ".join(cycle)


def test_no_review_module_imports_a_pgolf_module_inside_a_function():
    hidden = []
    for path in REVIEW.rglob("*.py"):
        tree = ast.parse(path.read_text())
        top = set(map(id, tree.body))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in top:
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                hidden += [f"{path.relative_to(ROOT)}:{node.lineno}" for n in names if n.startswith("pgolf")]
    assert hidden == []


def test_no_review_module_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in REVIEW.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_dict_str_any_only_shrinks_in_review():
    lines = [ln for p in REVIEW.rglob("*.py") for ln in p.read_text().splitlines() if "dict[str, Any]" in ln]
    assert len(lines) <= MAX_DICT_ANY
