"""Text sources for `prepare`: the embedded default corpus, a text folder, a JSONL file.

The default corpus is real English that every Python install carries, so pgolf
runs end to end offline: the docstrings of the standard library's modules (with
their classes' and functions' docstrings, read with `ast`, never imported) and
the docstrings of the C-implemented modules (builtins, math, ...), and the pydoc
help topics. One document per module or topic, in sorted order. The
text depends only on the Python install (its version is in the manifest).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import inspect
import os
import random
import sys
import sysconfig
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pgolf.errors import DataError
from pgolf.inputs import parse_json

# (source, reason) of each file or module a loader passed over, so prepare can log it.
Skipped = list[tuple[str, str]]

# Folders of the stdlib that hold tests, vendored packages or installed third-party code.
_SKIP_PARTS = frozenset({"site-packages", "dist-packages", "__pycache__", "test", "tests", "idle_test"})


@dataclass(frozen=True)
class Document:
    """One document: `name` says where it came from (module, topic, file, line)."""

    name: str
    text: str


def clean_text(text: str) -> str:
    """Unix newlines, no NUL (SentencePiece cannot take it), no surrounding whitespace."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", " ").strip()


def _docstrings(tree: ast.Module, module: str) -> list[tuple[str, str]]:
    """(name, text) groups: the module docstring, then one group per top-level class or function.

    A group holds the definition's docstring and those nested in it, in source order,
    titled by qualname. Documents of this size (median ~100 tokens, like web pages
    against the record's window) let the document-isolated conditions matter.
    """
    groups: list[tuple[str, str]] = []
    doc = ast.get_docstring(tree)
    if doc:
        groups.append((f"module:{module}", doc))

    def visit(node: ast.AST, prefix: str, parts: list[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                qual = f"{prefix}.{child.name}"
                d = ast.get_docstring(child)
                if d:
                    parts.append(f"{qual}\n{d}")
                visit(child, qual, parts)

    for child in tree.body:
        if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            parts: list[str] = []
            qual = f"{module}.{child.name}"
            d = ast.get_docstring(child)
            if d:
                parts.append(f"{qual}\n{d}")
            visit(child, qual, parts)
            if parts:
                groups.append((f"def:{qual}", "\n\n".join(parts)))
    return groups


def stdlib_root() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def stdlib_documents(root: Path | None = None, skipped: Skipped | None = None) -> list[Document]:
    """Documents of the standard library's docstrings: each module's own, and one per top-level definition.
    A file that does not parse is passed over and, with `skipped`, recorded there with the reason."""
    root = root or stdlib_root()
    skipped = [] if skipped is None else skipped
    out: list[tuple[str, str]] = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root)
        if any(part in _SKIP_PARTS for part in rel.parts) or rel.name.startswith("test_"):
            continue
        parts = list(rel.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if not parts or not all(p.isidentifier() for p in parts):
            continue
        module = ".".join(parts)
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError, UnicodeDecodeError) as exc:  # e.g. lib2to3's broken fixtures
            skipped.append((str(path), f"does not parse ({type(exc).__name__}: {exc})"))
            continue
        for name, text in _docstrings(tree, module):
            if text := clean_text(text):
                out.append((name, text))
    out.sort()
    return [Document(name, text) for name, text in dict(out).items()]


# C-implemented stdlib modules whose docstrings are documentation (importing them has no side effects).
_EXTENSION_MODULES = (
    "_asyncio", "_bisect", "_bz2", "_contextvars", "_csv", "_datetime", "_decimal", "_elementtree",
    "_heapq", "_json", "_lzma", "_pickle", "_queue", "_random", "_socket", "_sqlite3", "_statistics",
    "_struct", "_zoneinfo", "array", "binascii", "cmath", "fcntl", "grp", "math", "mmap", "pyexpat",
    "resource", "select", "termios", "unicodedata", "zlib",
)


def builtin_documents(skipped: Skipped | None = None) -> list[Document]:
    """One document per C-implemented module (builtins, math, itertools, ...): the text `help()` shows.

    These have no .py source, so their docstrings come from the imported objects;
    only modules built into the interpreter or known to import without side effects.
    """
    skipped = [] if skipped is None else skipped
    docs = []
    for name in sorted(set(sys.builtin_module_names) | set(_EXTENSION_MODULES)):
        try:
            module = importlib.import_module(name)
        except ImportError as exc:  # not built into this interpreter
            skipped.append((f"module {name}", f"does not import ({exc})"))
            continue
        seen: set[str] = set()
        parts: list[str] = []

        def add(title: str, doc: object, seen: set[str] = seen, parts: list[str] = parts) -> None:
            if isinstance(doc, str) and doc.strip() and doc not in seen:
                seen.add(doc)
                body = inspect.cleandoc(doc)
                parts.append(f"{title}\n{body}" if title else body)

        add("", module.__doc__)
        public = name.lstrip("_")
        for key, value in sorted(vars(module).items()):
            if key.startswith("__"):
                continue
            if inspect.isclass(value):
                if getattr(value, "__module__", None) not in (name, public):
                    continue
                add(f"{public}.{key}", value.__doc__)
                for attr, member in sorted(vars(value).items()):
                    if not attr.startswith("__"):
                        add(f"{public}.{key}.{attr}", getattr(member, "__doc__", None))
            elif callable(value):
                add(f"{public}.{key}", getattr(value, "__doc__", None))
        text = clean_text("\n\n".join(parts))
        if text:
            docs.append(Document(f"builtin:{name}", text))
    return docs


def pydoc_topic_documents() -> list[Document]:
    """The pydoc help topics (the language reference sections `help('assert')` shows)."""
    try:
        from pydoc_data.topics import topics
    except ImportError:
        return []
    docs = []
    for name in sorted(topics):
        text = clean_text(topics[name])
        if text:
            docs.append(Document(f"topic:{name}", text))
    return docs


def default_corpus(skipped: Skipped | None = None) -> list[Document]:
    """The embedded default corpus: stdlib module docstrings, C modules' docstrings, pydoc topics.
    With `skipped`, what was passed over is appended to it."""
    docs, passed_over = _default_corpus()
    if skipped is not None:
        skipped.extend(passed_over)
    return list(docs)


@functools.cache
def _default_corpus() -> tuple[tuple[Document, ...], tuple[tuple[str, str], ...]]:
    # Parsing the stdlib takes seconds; one process (a test session) does it once.
    skipped: Skipped = []
    docs = tuple(stdlib_documents(skipped=skipped) + builtin_documents(skipped) + pydoc_topic_documents())
    if not docs:
        raise DataError(
            f"found no stdlib docstrings under {stdlib_root()}: this Python install has no .py sources; "
            "use --source text:FOLDER or jsonl:FILE instead"
        )
    return docs, tuple(skipped)


def text_folder_documents(folder: str | os.PathLike[str], skipped: Skipped | None = None) -> list[Document]:
    """One document per file under `folder` (recursive), sorted by path. Hidden files and folders
    and empty files are passed over (recorded in `skipped`); a file that is not UTF-8 is an error."""
    folder = Path(folder)
    skipped = [] if skipped is None else skipped
    if not folder.is_dir():
        raise DataError(f"text source {folder} is not a folder; give --source text:FOLDER with one document per file")
    docs = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            skipped.append((str(path), "hidden (a name starting with '.')"))
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); convert it or remove it") from None
        text = clean_text(text)
        if text:
            docs.append(Document(f"file:{rel.as_posix()}", text))
        else:
            skipped.append((str(path), "empty (only whitespace)"))
    if not docs:
        raise DataError(f"text source {folder} holds no non-empty files")
    return docs


def jsonl_documents(path: str | os.PathLike[str], field: str = "text", skipped: Skipped | None = None) -> list[Document]:
    """One document per line of a JSONL file, from its `field` (a string); a line whose text is
    empty is passed over (recorded in `skipped`), a blank line ignored."""
    path = Path(path)
    skipped = [] if skipped is None else skipped
    if not path.is_file():
        raise DataError(f"JSONL source {path} not found")
    docs = []
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DataError(f"{path}:{lineno}: not UTF-8 text ({exc.reason} at byte {exc.start} of the line); "
                                "save the file as UTF-8") from None
            if not line.strip():
                continue
            obj = parse_json(line, f"{path}:{lineno}")  # names the line: invalid, nested too deeply, NaN
            if not isinstance(obj, dict) or not isinstance(obj.get(field), str):
                raise DataError(f'{path}:{lineno}: needs an object with a string "{field}" field')
            text = clean_text(obj[field])
            if text:
                docs.append(Document(f"line:{lineno}", text))
            else:
                skipped.append((f"{path}:{lineno}", f'empty "{field}"'))
    if not docs:
        raise DataError(f"JSONL source {path} holds no non-empty documents")
    return docs


def load_source(source: str, log: Callable[[str], None] | None = None) -> list[Document]:
    """`default`, `text:FOLDER` or `jsonl:FILE` -> documents; each file passed over goes to
    `log` with its reason."""
    skipped: Skipped = []
    kind, _, where = source.partition(":")
    if source == "default":
        docs = default_corpus(skipped)
    elif kind == "text" and where:
        docs = text_folder_documents(where, skipped)
    elif kind == "jsonl" and where:
        docs = jsonl_documents(where, skipped=skipped)
    else:
        raise DataError(f"unknown source {source!r}; use default, text:FOLDER, jsonl:FILE or fineweb")
    for name, reason in skipped if log else ():
        log(f"skipped {name}: {reason}")
    return docs


def spread_subset(docs: Sequence[Document], max_docs: int | None) -> list[Document]:
    """At most `max_docs` documents, evenly spaced through the sorted list (a small but varied slice)."""
    if max_docs is None or max_docs >= len(docs):
        return list(docs)
    if max_docs <= 0:
        raise DataError(f"--max-docs must be positive, got {max_docs}")
    n = len(docs)
    return [docs[(i * n) // max_docs] for i in range(max_docs)]


def split_train_val(
    docs: Sequence[Document], val_docs: int, seed: int
) -> tuple[list[Document], list[Document]]:
    """Deterministic split: `val_docs` documents drawn with `seed`; train order shuffled with `seed`.

    Validation keeps corpus order; training is shuffled so that neighbouring
    modules (email.*, ...) do not fill whole batches.
    """
    n = len(docs)
    if not 0 < val_docs < n:
        raise DataError(f"--val-docs must be between 1 and {n - 1} for {n} documents, got {val_docs}")
    rng = random.Random(seed)
    val_idx = set(rng.sample(range(n), val_docs))
    val = [d for i, d in enumerate(docs) if i in val_idx]
    train = [d for i, d in enumerate(docs) if i not in val_idx]
    rng.shuffle(train)
    return train, val


def corpus_digest(docs: Iterable[Document]) -> str:
    """sha256 over names and texts: two corpora with the same digest are the same text."""
    h = hashlib.sha256()
    for d in docs:
        for part in (d.name, d.text):
            b = part.encode("utf-8")
            h.update(len(b).to_bytes(8, "little"))
            h.update(b)
    return h.hexdigest()


def python_identity() -> str:
    """Which Python's stdlib the default corpus came from."""
    return f"{sys.implementation.name} {sys.version.split()[0]}"
