"""The record's size cap for pgolf's own runs: artifact bytes + the code a submission needs <= 16,000,000.

A parameter-golf submission counts its compressed model and the code that trains and
evaluates it. pgolf's stand-in for the record's train_gpt.py is the set of pgolf modules
that training and evaluation import (followed through every `import`/`from pgolf...`
statement, function-local ones included, from the train and eval entry points), not
the whole package: data preparation, statistics, the report and the reviewer tools are
not part of a submission.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

SIZE_CAP_BYTES = 16_000_000  # decimal, as the challenge counts it
ENTRY_MODULES = ("pgolf.__main__", "pgolf.cli.train", "pgolf.cli.eval", "pgolf.train", "pgolf.evaluate")
CODE_NOTE = ("bytes of the pgolf modules that training and evaluation import (pgolf.size.submission_files), "
             "standing in for the record's train_gpt.py")
_ROOT = Path(__file__).resolve().parent


def _module_file(name: str) -> Path | None:
    rel = Path(*name.split(".")[1:]) if name != "pgolf" else Path()
    for candidate in (_ROOT / rel / "__init__.py", (_ROOT / rel).with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path, module: str) -> set[str]:
    """pgolf modules named by every import statement in `path` (absolute or relative)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)  # `from pgolf import atomic`
    return {n for n in found if n == "pgolf" or n.startswith("pgolf.")}


def submission_files(entries: tuple[str, ...] = ENTRY_MODULES) -> list[Path]:
    """Every pgolf source file reachable by import from `entries`, with each package's __init__.py."""
    seen: dict[str, Path] = {}
    todo = list(entries)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _module_file(name)
        if path is None:
            continue  # an attribute (`from pgolf.x import func`), not a module
        seen[name] = path
        parents = [".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)]
        todo.extend(parents)
        todo.extend(_imports(path, name))
    return sorted(set(seen.values()))


def code_bytes() -> tuple[int, list[Path]]:
    """(bytes, files) of the code a submission needs."""
    files = submission_files()
    return sum(f.stat().st_size for f in files), files


def size_check(model_bytes: int, n_code: int, files: list[Path]) -> dict[str, Any]:
    """What metrics.json records about the cap; `over_cap` flags a run the challenge would reject."""
    total = model_bytes + n_code
    return {
        "cap_bytes": SIZE_CAP_BYTES,
        "model_bytes": model_bytes,
        "code_bytes": n_code,
        "total_bytes": total,
        "headroom_bytes": SIZE_CAP_BYTES - total,
        "over_cap": total > SIZE_CAP_BYTES,
        "code_files": [str(f.relative_to(_ROOT.parent)) for f in files],
    }


def cap_line(check: dict[str, Any]) -> str:
    """The train log's line about the cap."""
    verdict = "OVER_CAP" if check["over_cap"] else "under_cap"
    return (f"size_cap:{verdict} total:{check['total_bytes']} cap:{check['cap_bytes']} "
            f"headroom:{check['headroom_bytes']} bytes")
