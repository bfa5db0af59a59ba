"""The record's size cap for pgolf's own runs: artifact bytes + the code a submission needs <= 16,000,000.

A parameter-golf submission counts its compressed model and the code that trains and
evaluates it. pgolf's stand-in for the record's train_gpt.py is the set of pgolf modules
that training and evaluation import (followed through every `import`/`from pgolf...`
statement, function-local ones included, from the train and eval entry points), not
the whole package: data preparation, statistics, the report and the reviewer tools are
not part of a submission.

The code is counted as the challenge's later records count theirs (`Code size (compressed)`,
accepted by the leaderboard): the bytes of one self-extracting script, `exec(lzma.decompress(
b85decode(...)))` of a program that writes the counted modules out and runs `python -m pgolf`
(bundle_script; tests/test_size.py runs it). The raw bytes of the modules are recorded beside.
"""

from __future__ import annotations

import ast
import base64
import lzma
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SIZE_CAP_BYTES = 16_000_000  # decimal, as the challenge counts it
ENTRY_MODULES = ("pgolf.__main__", "pgolf.cli.train", "pgolf.cli.eval", "pgolf.train", "pgolf.evaluate")
CODE_COUNT = "lzma"  # what the cap counts: the self-extracting lzma bundle's bytes (raw: the files' bytes)
CODE_NOTE = ("code_bytes: the self-extracting lzma bundle (pgolf.size.bundle_script) of the pgolf modules that "
             "training and evaluation import (pgolf.size.submission_files), standing in for the record's "
             "train_gpt.py, counted as the challenge's later records count compressed code; code_bytes_raw: "
             "those files' own bytes")
_ROOT = Path(__file__).resolve().parent
# LZMA2 at its strongest setting, raw (no container header), as the records' self-extracting scripts.
_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]
_UNPACK = """import os,runpy,sys,tempfile
d=tempfile.mkdtemp()
for p,t in F.items():
 q=os.path.join(d,p);os.makedirs(os.path.dirname(q),exist_ok=True);open(q,"w",encoding="utf-8").write(t)
sys.path.insert(0,d);runpy.run_module("pgolf",run_name="__main__",alter_sys=True)
"""


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


def bundle_script(files: list[Path]) -> bytes:
    """One self-extracting Python script holding `files` (paths under pgolf's parent): run with the
    arguments of `python -m pgolf`, it writes them to a temporary folder and runs pgolf from there."""
    sources = {str(f.relative_to(_ROOT.parent)): f.read_text(encoding="utf-8") for f in sorted(files)}
    program = f"F={sources!r}\n{_UNPACK}".encode()
    packed = base64.b85encode(lzma.compress(program, format=lzma.FORMAT_RAW, filters=_FILTERS))
    return b'import lzma as L,base64 as B\nexec(L.decompress(B.b85decode("' + packed + \
        b'"),format=L.FORMAT_RAW,filters=[{"id":L.FILTER_LZMA2}]))\n'


@dataclass(frozen=True)
class CodeSize:
    """The submission's code: its files, their own bytes, and the bytes the cap counts (the bundle)."""

    files: list[Path]
    raw_bytes: int
    bytes: int


def code_size() -> CodeSize:
    files = submission_files()
    return CodeSize(files, sum(f.stat().st_size for f in files), len(bundle_script(files)))


def size_check(model_bytes: int, code: CodeSize) -> dict[str, Any]:
    """What metrics.json records about the cap; `over_cap` flags a run the challenge would reject."""
    total = model_bytes + code.bytes
    return {
        "cap_bytes": SIZE_CAP_BYTES,
        "model_bytes": model_bytes,
        "code_bytes": code.bytes,
        "code_bytes_raw": code.raw_bytes,
        "code_count": CODE_COUNT,
        "total_bytes": total,
        "headroom_bytes": SIZE_CAP_BYTES - total,
        "over_cap": total > SIZE_CAP_BYTES,
        "code_files": [str(f.relative_to(_ROOT.parent)) for f in code.files],
    }


def cap_line(check: dict[str, Any]) -> str:
    """The train log's line about the cap (code:lzma says the code is counted compressed)."""
    verdict = "OVER_CAP" if check["over_cap"] else "under_cap"
    return (f"size_cap:{verdict} total:{check['total_bytes']} cap:{check['cap_bytes']} "
            f"headroom:{check['headroom_bytes']} bytes code:{check['code_count']}")
