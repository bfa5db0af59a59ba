"""The command line a newcomer meets: --version, "did you mean", each verb's --help with its defaults
and examples, and examples that parse."""

from __future__ import annotations

import importlib
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from pgolf.__main__ import VERBS, main, verb_parser
from pgolf.cli.help import EXAMPLES
from tests.test_readme import expand_placeholders, parse_pgolf, split_commands

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}


def _pgolf(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pgolf", *args], capture_output=True, text=True, env=ENV,
                          timeout=120, cwd=REPO)


def test_version_is_the_package_version():
    out = _pgolf("--version")
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert out.returncode == 0 and out.stdout.strip() == f"pgolf {version}", out


@pytest.mark.parametrize(("typo", "verb"), [("aduit", "audit"), ("chek-record", "check-record"),
                                             ("rerun-sed", "rerun-seed"), ("prepair", "prepare")])
def test_a_mistyped_verb_gets_did_you_mean(typo, verb):
    out = _pgolf(typo, "--out", "x")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"unknown verb {typo!r}; did you mean {verb!r}" in out.stderr, out.stderr


def test_a_word_far_from_every_verb_gets_the_list_and_no_guess():
    out = _pgolf("zzzzzz")
    assert out.returncode == 2 and "did you mean" not in out.stderr
    assert all(v in out.stderr for v in VERBS)


def _help(verb: str, capsys) -> str:
    with pytest.raises(SystemExit) as exit_:
        main([verb, "--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("verb", list(VERBS))
def test_every_verb_help_shows_defaults_and_examples(verb, capsys):
    text = _help(verb, capsys)
    parser = verb_parser(verb, importlib.import_module(f"pgolf.cli.{VERBS[verb][0]}"))
    for action in parser._actions:
        if action.option_strings and action.help and action.default not in (None, False, [], "==SUPPRESS=="):
            shown = " ".join(map(str, action.default)) if isinstance(action.default, list) else str(action.default)
            # the default appears after the option's help, by the formatter or in the help's own words
            listing = text.split("\noptions:", 1)[1]  # past the usage lines
            start = re.search(rf"\n  (?:-\w, )?{re.escape(action.option_strings[-1])}\b", listing)
            assert start, (verb, action.option_strings)
            block = re.split(r"\n  -|\n\n", listing[start.end():], maxsplit=1)[0]
            assert shown in " ".join(block.split()), (verb, action.option_strings, shown, block)
    assert "examples:" in text and "python -m pgolf" in text


def test_audit_help_names_git(capsys):
    text = _help("audit", capsys)
    assert "--git REPO" in text and "pgolf audit --git" in text


def test_help_shows_defaults_the_options_did_not_spell_out(capsys):
    # eval's --device and prepare's --seed say no default in their own words
    assert re.search(r"--device DEVICE[^-]*\(default: auto\)", " ".join(_help("eval", capsys).split()))
    assert re.search(r"--seed SEED[^-]*\(default: 1337\)", " ".join(_help("prepare", capsys).split()))


@pytest.mark.parametrize("line", [line for lines in EXAMPLES.values() for line in lines])
def test_every_help_example_parses(line):
    for command in split_commands(line):
        words = shlex.split(command)
        if words[0] == "snakemake":
            continue  # the README's dry-run tests cover snakemake commands
        rest = words[words.index("pgolf") + 1:] if "pgolf" in words else None
        assert rest, command
        for variant in expand_placeholders(rest):
            parse_pgolf(variant)
