"""Unpack a compressed script wrapper (`exec(L.decompress(B.b85decode("...")))`) to the source it runs.

Submissions shrink their counted code by shipping `import lzma as L,base64 as B` and one
`exec(...decompress(...))` call; their logs may dump either form. The wrapper is read with `ast`
and never run; lzma and zlib payloads in base64 or base85 are unpacked, with the output bounded
(MAX_SOURCE_BYTES) so a decompression bomb costs nothing. Other compressors (brotli) are
reported as not unpacked.
"""

from __future__ import annotations

import ast
import base64
import binascii
import lzma
import re
import zlib
from dataclasses import dataclass

# the largest real script is about 150 kB; a wrapper's source is never near this
MAX_SOURCE_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 3  # a wrapper around a wrapper around a wrapper
_DECODERS = {"b85decode": base64.b85decode, "b64decode": base64.b64decode, "a85decode": base64.a85decode}


@dataclass(frozen=True)
class Unwrapped:
    text: str  # the source run: the input itself when it is no wrapper
    layers: int = 0  # wrappers unpacked
    problem: str | None = None  # why a wrapper was not unpacked (unknown compressor, too large, corrupt)


def _aliases(tree: ast.Module) -> dict[str, str]:
    """`import lzma as L, base64 as B` -> {"L": "lzma", "B": "base64"}."""
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                out[a.asname or a.name] = a.name
    return out


@dataclass(frozen=True)
class Payload:
    module: str  # lzma or zlib (or what the wrapper names)
    decoder: str  # b85decode, b64decode, a85decode
    data: bytes
    options: dict  # lzma's format= and filters=, read from the call


def _constant(node: ast.AST, aliases: dict[str, str]):
    """A literal, or an lzma constant (`L.FORMAT_RAW`, `L.FILTER_LZMA2`), in lists, dicts and `|`; else ValueError."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and aliases.get(node.value.id) == "lzma" \
            and node.attr.isupper() and isinstance(getattr(lzma, node.attr, None), int):
        return getattr(lzma, node.attr)
    if isinstance(node, ast.List | ast.Tuple):
        return [_constant(e, aliases) for e in node.elts]
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {_constant(k, aliases): _constant(v, aliases) for k, v in zip(node.keys, node.values, strict=True)}
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _constant(node.left, aliases) | _constant(node.right, aliases)
    raise ValueError(f"`{ast.unparse(node)[:60]}` is not a literal")


def _exec_payload(tree: ast.Module, aliases: dict[str, str]) -> Payload | None:
    """The payload of the one `exec(M.decompress(D.xdecode(CONST), ...))` call; ValueError when its options
    are not literals."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "exec"
                and node.args and isinstance(dec := node.args[0], ast.Call)):
            continue
        if isinstance(dec.func, ast.Attribute) and dec.func.attr == "decode" and isinstance(dec.func.value, ast.Call):
            dec = dec.func.value  # exec(L.decompress(...).decode())
        if not (isinstance(dec.func, ast.Attribute) and dec.func.attr == "decompress" and dec.args
                and isinstance(dec.func.value, ast.Name) and isinstance(enc := dec.args[0], ast.Call)
                and isinstance(enc.func, ast.Attribute) and enc.func.attr in _DECODERS and enc.args
                and isinstance(const := enc.args[0], ast.Constant) and isinstance(const.value, str | bytes)):
            continue
        value = const.value.encode("ascii", errors="replace") if isinstance(const.value, str) else const.value
        options = {k.arg: _constant(k.value, aliases) for k in dec.keywords if k.arg in ("format", "filters")}
        return Payload(aliases.get(dec.func.value.id, dec.func.value.id), enc.func.attr, value, options)
    return None


def bounded_decompress(module: str, data: bytes, limit: int = MAX_SOURCE_BYTES, options: dict | None = None) -> bytes:
    """lzma or zlib `data`, at most `limit` bytes out; ValueError when it would give more or is corrupt.
    `options`: lzma's `format` and `filters` (a raw LZMA2 stream names both)."""
    if module == "lzma":
        d = lzma.LZMADecompressor(**(options or {}))
        out = d.decompress(data, max_length=limit + 1)
        done = d.eof
    elif module == "zlib":
        z = zlib.decompressobj()
        out = z.decompress(data, limit + 1)
        done = z.eof
    else:
        raise ValueError(f"a {module} payload is not unpacked (lzma and zlib are)")
    if len(out) > limit:
        raise ValueError(f"it unpacks to more than {limit:,} bytes (a decompression bomb?); not unpacked")
    if not done:
        raise ValueError("the compressed payload is cut off")
    return out


# an `exec(` call and a `decompress(` call: a script without both is not parsed (parsing every 100 KB
# train_gpt.py of a stream for nothing took most of an audit's time)
_WRAPPER = re.compile(r"\bexec\s*\((?=[\s\S]*decompress\s*\()|decompress\s*\((?=[\s\S]*\bexec\s*\()")


def unwrap(text: str, limit: int = MAX_SOURCE_BYTES) -> Unwrapped:
    """The source a script runs: `text` itself, or what its exec wrapper(s) unpack to."""
    layers = 0
    while layers < MAX_DEPTH and _WRAPPER.search(text):
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):  # a hostile nesting is no wrapper either
            break
        try:
            found = _exec_payload(tree, _aliases(tree))
            if found is None:
                break
            raw = _DECODERS[found.decoder](found.data.replace(b"\n", b""))
            text = bounded_decompress(found.module, raw, limit, found.options).decode("utf-8", errors="replace")
        except (ValueError, TypeError, RecursionError, binascii.Error, lzma.LZMAError, zlib.error) as exc:
            return Unwrapped(text, layers, f"wrapper not unpacked: {exc}")
        layers += 1
    return Unwrapped(text, layers)
