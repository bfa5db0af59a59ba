"""Every command the README and the documentation pages print runs as written.

Each `snakemake ...` command found in README.md and docs/*.md (code blocks and inline
code) is dry-run (`-n`) in one fresh copy of the workflow files, and every `pgolf` /
`python -m pgolf` command line is parsed by its verb's own argument parser. A command
added to a page later is checked without anyone listing it here.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import itertools
import os
import re
import shlex
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pgolf.__main__ import VERBS

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
PAGES = (README, *sorted((REPO / "docs").glob("*.md")))
# What a fresh clone holds that a dry run reads (pgolf itself comes from PYTHONPATH).
WORKFLOW_FILES = ("Snakefile", "workflow", "config", "profiles", ".test")
# A command is accepted without a dry run's success only with the message that says
# what is missing, never with any other failure.
EXPECTED_MISSING = {
    "--report": "marked for report but does not exist",  # needs a finished run first
}
PLACEHOLDER = re.compile(r"[A-Z][A-Z0-9_]*(\.[a-z]+)?|\S*:[A-Z]+\S*")


# --------------------------------------------------------------------- extraction


def code_and_prose(text: str) -> tuple[list[str], str]:
    """Lines of code (fenced or 4-space indented blocks, continuations joined) and the rest."""
    code, prose, fenced, previous_blank = [], [], False, True
    for line in text.splitlines():
        if line.strip().startswith("```"):
            fenced = not fenced
            continue
        indented = line.startswith("    ") and (previous_blank or (code and code[-1] is not None))
        if fenced or (indented and line.strip()):
            code.append(line.strip())
        else:
            if code and code[-1] is not None:
                code.append(None)  # end of a block
            prose.append(line)
        previous_blank = not line.strip()
    joined, current = [], ""
    for line in code:
        if line is None:
            current = ""
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        joined.append(current + line)
        current = ""
    return joined, "\n".join(prose)


def split_commands(line: str) -> list[str]:
    """The commands of one shell line, as written (so bash still expands braces):
    a trailing comment dropped, split at && ; | ||."""
    line = re.sub(r"(^|\s)#.*$", "", line)
    return [c.strip() for c in re.split(r"\s(?:&&|\|\||;|\|)\s", line) if c.strip()]


def readme_commands(text: str) -> list[str]:
    """Every command in code blocks and inline code, in README order, each once."""
    code, prose = code_and_prose(text)
    commands = [c for line in code for c in split_commands(line)]
    for span in re.findall(r"`([^`]+)`", prose):
        commands += split_commands(" ".join(span.split()))
    return list(dict.fromkeys(commands))


def all_text() -> str:
    """README.md and every docs page, one after the other."""
    return "\n\n".join(p.read_text(encoding="utf-8") for p in PAGES)


def snakemake_commands(text: str) -> list[str]:
    return [c for c in readme_commands(text) if c.split()[0] == "snakemake"]


def pgolf_commands(text: str) -> list[list[str]]:
    """`pgolf ...`, `python -m pgolf ...` and `torchrun ... -m pgolf ...`, as words after `pgolf`."""
    out = []
    for command in readme_commands(text):
        if "pgolf" not in command:
            continue  # not a pgolf command (a line of Python in a page's code block may hold one quote)
        words = shlex.split(command)
        if words[:1] == ["pgolf"] and len(words) > 1 and not words[1].startswith("<"):
            out.append(words[1:])  # the console script
            continue
        for i in range(len(words) - 1):
            if words[i] == "-m" and words[i + 1] == "pgolf":
                rest = words[i + 2 :]
                # `python -m pgolf` and `python -m pgolf <verb>` name the program, not a command
                if rest and not rest[0].startswith("<"):
                    out.append(rest)
                break
    return out


# --------------------------------------------------------------------- snakemake dry runs


@functools.cache
def _fresh_copy(root: str) -> Path:
    where = Path(root) / "clone"
    where.mkdir()
    for name in WORKFLOW_FILES:
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, where / name)
    return where


def dry_run(command: str, where: Path) -> subprocess.CompletedProcess[str]:
    """The command as written, then `-n --nolock` (dry runs share one copy, read-only)."""
    env = {**os.environ,
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    # bash, so that brace expansion ({flat,doc}.json) works as in the user's shell
    return subprocess.run(["bash", "-c", f"{command} -n --nolock"], cwd=where, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def dry_runs(tmp_path_factory) -> dict[str, subprocess.CompletedProcess[str]]:
    where = _fresh_copy(str(tmp_path_factory.mktemp("readme")))
    commands = snakemake_commands(all_text())
    with ThreadPoolExecutor(max_workers=4) as pool:  # snakemake's start-up is mostly waiting on imports
        return dict(zip(commands, pool.map(lambda c: dry_run(c, where), commands), strict=True))


def _only_user_data_missing(text: str) -> bool:
    """A reviewer target whose inputs the user downloads first (published logs, the leaderboard's
    record folders, all under data/ as the README says): Snakemake names each missing file."""
    for said in (r"(\S+): no such record folder \(missing input\)",
                 r"config key reruns\.[\w-]+\.folder: (\S+) does not exist; put the record folder there"):
        folder = re.search(said, text)
        if folder:
            return folder.group(1).startswith("data/")
    if "Missing input files" not in text:
        return False
    affected = text.split("affected files:", 1)[-1].strip().splitlines()
    files = [line.strip() for line in affected if line.startswith(" ")]
    return bool(files) and all(f.startswith("data/") for f in files)


def check_dry_run(command: str, out: subprocess.CompletedProcess[str]) -> None:
    text = out.stdout + out.stderr
    if out.returncode == 0:
        assert "This was a dry-run" in text or "Nothing to be done" in text or "--lint" in command, text[-2000:]
        return
    for option, message in EXPECTED_MISSING.items():
        if option in command.split() and message in text:
            return
    if _only_user_data_missing(text):
        return
    pytest.fail(f"README command fails as written:\n  {command}\n{text[-3000:]}")


@pytest.mark.parametrize("command", snakemake_commands(all_text()))
def test_readme_snakemake_command_dry_runs_as_written(command, dry_runs):
    check_dry_run(command, dry_runs[command])


def test_a_target_after_configfile_is_caught(tmp_path):
    """The check itself: the mis-ordered form (--configfile swallows the target) fails."""
    where = _fresh_copy(str(tmp_path))
    out = dry_run("snakemake --cores 1 --configfile config/record.yaml results/record/report.md", where)
    with pytest.raises(pytest.fail.Exception, match="fails as written"):
        check_dry_run("snakemake --cores 1 --configfile config/record.yaml results/record/report.md", out)


def test_readme_has_the_commands_it_must_check():
    commands = snakemake_commands(README.read_text(encoding="utf-8"))
    assert "snakemake results/report.md --cores all" in commands
    assert "snakemake --profile profiles/record results/record/report.md" in commands
    assert "snakemake --profile profiles/slurm results/record/report.md" in commands
    assert len(pgolf_commands(all_text())) >= 8
    assert {w[0] for w in pgolf_commands(all_text())} >= {"prepare", "train", "eval", "check-record", "audit",
                                                            "check-logs"}


# --------------------------------------------------------------------- python -m pgolf


def _placeholder_tolerant(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Typed options accept the README's placeholders (N, SECONDS): only names and arity are checked."""
    for action in parser._actions:
        if callable(action.type) and action.type is not str:  # int, float and pgolf.cli.types' checked numbers
            action.type = functools.partial(lambda kind, v: v if PLACEHOLDER.fullmatch(v) else kind(v),
                                            action.type)
    return parser


def expand_placeholders(words: list[str]) -> list[list[str]]:
    """`[--opt X]` -> `--opt X`, `...` dropped, `a|b|c` -> one variant per alternative."""
    words = [w.strip("[]") for w in words if w.strip("[]") not in {"...", ""}]
    choices = [w.split("|") if "|" in w and not w.startswith("-") else [w] for w in words]
    return [list(v) for v in itertools.product(*choices)]


def parse_pgolf(words: list[str], fragment: bool = False) -> argparse.Namespace | None:
    """Parse one README command line with its verb's parser. A bare verb (a heading's
    `python -m pgolf prepare`) checks the verb alone; a fragment (a line with `...`)
    may leave out required options."""
    verb, rest = words[0], words[1:]
    assert verb in VERBS, f"unknown verb {verb!r} in README; verbs: {', '.join(VERBS)}"
    if not rest:
        return None
    module = importlib.import_module(f"pgolf.cli.{VERBS[verb][0]}")
    # no abbreviations: the README spells every option out in full
    parser = argparse.ArgumentParser(prog=f"python -m pgolf {verb}", exit_on_error=False, allow_abbrev=False)
    module.add_arguments(parser)
    _placeholder_tolerant(parser)
    if fragment:
        for action in parser._actions:
            action.required = False
    try:
        return parser.parse_args(rest)
    except SystemExit:  # argparse exits (after printing why) for unknown or missing options
        raise AssertionError(f"README: `python -m pgolf {shlex.join(words)}` does not parse") from None
    except argparse.ArgumentError as exc:
        raise AssertionError(f"README: `python -m pgolf {shlex.join(words)}`: {exc}") from None


@pytest.mark.parametrize("words", pgolf_commands(all_text()), ids=shlex.join)
def test_readme_pgolf_command_parses(words):
    fragment = any(w.strip("[]") == "..." for w in words)
    for variant in expand_placeholders(words):
        parse_pgolf(variant, fragment)


def test_a_misspelled_or_abbreviated_option_is_caught():
    for wrong in ("--vocabulary-size", "--vocab"):
        with pytest.raises(AssertionError, match="does not parse|unrecognized"):
            parse_pgolf(["prepare", "--out", "data", wrong, "512"])
    with pytest.raises(AssertionError, match="unknown verb 'prepair'"):
        parse_pgolf(["prepair", "--out", "data"])


def test_readme_fineweb_prepare_says_what_is_missing(tmp_path):
    """The FineWeb command, run where the files are not: the missing-data message, exit 2."""
    fineweb = [w for w in pgolf_commands(all_text()) if "fineweb" in w]
    assert fineweb
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    for words in fineweb:
        out = subprocess.run([sys.executable, "-m", "pgolf", *words], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 2, out.stderr
        assert "FineWeb sp1024 files are missing" in out.stderr


# --------------------------------------------------------------------- the landing page and CI


def _ci_variables() -> dict[str, str]:
    """INSTALL and TEST as .ci/run assigns them (single-quoted shell strings)."""
    text = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    return {name: shlex.split(value)[0] for name, value in re.findall(r"^(INSTALL|TEST)=(.+)$", text, re.M)}


def test_readme_is_a_landing_page_with_both_commands_on_its_first_screen():
    text = README.read_text(encoding="utf-8")
    assert len(text.encode()) < 10_000
    first_screen = "\n".join(text.splitlines()[:30])
    ci = _ci_variables()
    assert f"    {ci['INSTALL']} && snakemake results/report.md --cores all" in first_screen.splitlines()
    assert f"    {ci['INSTALL']} && {ci['TEST']}" in first_screen.splitlines()


def test_ci_runs_the_readme_test_command_and_builds_the_docs_strictly():
    ci = _ci_variables()
    assert ci["TEST"] == "python -m pytest" and '".[test,slurm,docs]"' in ci["INSTALL"]
    run = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^(?:\w+=\S+ )*mkdocs build --strict\b", run, re.M)
    assert 'eval "$INSTALL"' in run and 'eval "$TEST"' in run
    # the README must not claim that .ci/run runs nothing but its command
    assert "runs exactly this" not in README.read_text(encoding="utf-8")
