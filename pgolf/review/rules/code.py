"""Code provenance: the source a log dumps at its head, and the code size it prints, against the folder's
scripts (codecheck.py reads and unpacks them)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import PurePosixPath

from pgolf.review.model import Finding
from pgolf.review.read.log import ParsedRun, lines_sha256
from pgolf.review.read.scripts import closest, dump_of
from pgolf.review.rules.inputs import FolderInput
from pgolf.review.rules.registry import rule


@rule("code.dump_differs", severity="warn", scope="folder", check="code")
def dump_differs(x: FolderInput) -> list[Finding]:
    """One warning per distinct dump that no script of the folder equals: the log may not come from the
    submitted script."""
    by_dump: dict[str, list[ParsedRun]] = defaultdict(list)
    for r in x.runs:
        if r.code_dump_sha256 is not None:
            by_dump[r.code_dump_sha256].append(r)
    known = {s.sha256 for s in x.scripts}
    out = []
    for sha, same in by_dump.items():
        if sha in known or not x.scripts or x.files is None:
            continue
        dump = dump_of(same[0], x.files)
        if dump is None or lines_sha256(dump) in known:
            continue  # the dump is a wrapper of a submitted script
        m = closest(dump, x.scripts)
        if m is None or m.differing == 0:
            continue
        out.append(Finding(f"code: the source dumped at the head of the log differs from {m.script.rel} in "
                           f"{m.differing} line(s); the log may not come from the submitted script. First "
                           f"difference:\n{m.hunk}", ", ".join(x.label[id(r)] for r in same),
                           numbers=(("script", m.script.rel), ("differing_lines", m.differing))))
    return out


@rule("code.size_differs", severity="warn", scope="folder", check="code")
def size_differs(x: FolderInput) -> list[Finding]:
    """The log's `Code size` lines against the script's bytes: as submitted, or unpacked from its wrapper."""
    scripts = x.scripts
    main = next((s for s in scripts if PurePosixPath(s.rel).name == "train_gpt.py"), scripts[0] if len(scripts) == 1
                else None)
    if main is None:
        return []
    # a launcher train_gpt.py may run a helper: any script's size, or all of them together, is its code
    sizes = {n for s in scripts for n in (s.raw_bytes, s.source_bytes)} | {sum(s.raw_bytes for s in scripts)}
    by_size: dict[tuple[int | None, int | None], list[str]] = defaultdict(list)
    for r in x.runs:
        raw_off = r.code_bytes is not None and r.code_bytes not in sizes
        packed_off = r.code_bytes_compressed is not None and main.wrapped and r.code_bytes_compressed != main.raw_bytes
        if raw_off or packed_off:
            by_size[(r.code_bytes, r.code_bytes_compressed)].append(x.label[id(r)])
    out = []
    for (raw, packed), who in by_size.items():
        printed = " and ".join(f"{k} {v:,} bytes" for k, v in (("Code size", raw), ("compressed", packed))
                               if v is not None)
        out.append(Finding(f"code: the log prints {printed}; {main.rel} is {main.raw_bytes:,} bytes"
                           + (f" ({main.source_bytes:,} unpacked)" if main.wrapped else "")
                           + ": the log may come from another version of the script", ", ".join(who),
                           numbers=(("log_code_bytes", raw), ("log_code_bytes_compressed", packed),
                                    ("script_bytes", main.raw_bytes), ("script_source_bytes", main.source_bytes))))
    return out
