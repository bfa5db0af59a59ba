"""Run a composite action's steps the way GitHub's runner does, for tests: each `run:` step of action.yml
executed with bash, its `${{ }}` expressions resolved from the contexts a pull_request event sets, its
outputs read from $GITHUB_OUTPUT, `if:` conditions evaluated. Only the expression forms action.yml uses
are supported (context paths, 'strings', ==, !=, &&); anything else fails the test loudly. A `uses:` step
(actions/cache) needs GitHub's servers: it is listed, not run (rc None), as a fresh runner with no cache.

The stand-in `gh` (GitHub cannot be reached from a test) records every call and serves the PR's comments
from a JSON file, applying `--jq` with the real jq.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")

FAKE_GH = r'''#!{python}
"""Stand-in for the gh CLI: records each call, keeps issue comments in a JSON file."""
import json, os, subprocess, sys
state, calls = os.environ["FAKE_GH_STATE"], os.environ["FAKE_GH_CALLS"]
args = sys.argv[1:]
def opt(name):
    return args[args.index(name) + 1] if name in args else None
method = opt("--method") or "GET"
path = next(a for a in args[1:] if a.startswith("repos/"))
fields = {{}}
for i, a in enumerate(args):
    if a in ("-F", "-f", "--field", "--raw-field"):
        key, value = args[i + 1].split("=", 1)
        fields[key] = open(value[1:], encoding="utf-8").read() if value.startswith("@") else value
with open(calls, "a") as fh:
    fh.write(json.dumps({{"args": args, "method": method, "path": path, "fields": fields,
                         "token": bool(os.environ.get("GH_TOKEN"))}}) + "\n")
comments = json.load(open(state))
if method == "GET":
    out = comments
elif method == "POST":
    out = {{"id": max([c["id"] for c in comments] + [100]) + 1, "user": {{"login": "github-actions[bot]"}},
           "body": fields["body"]}}
    comments.append(out)
elif method == "PATCH":
    cid = int(path.rsplit("/", 1)[1])
    out = next(c for c in comments if c["id"] == cid)
    out["body"] = fields["body"]
json.dump(comments, open(state, "w"))
text = json.dumps(out)
if opt("--jq"):
    text = subprocess.run(["jq", "-r", opt("--jq")], input=text, capture_output=True, text=True, check=True).stdout
sys.stdout.write(text)
'''


@dataclass
class StepResult:
    id: str
    rc: int | None  # None: skipped by its `if:`
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)


def _lookup(path: str, contexts: dict) -> object:
    value: object = contexts
    for part in path.split("."):
        value = value.get(part, "") if isinstance(value, dict) else ""
    return value


def evaluate(expr: str, contexts: dict) -> object:
    expr = expr.strip()
    if "&&" in expr:
        return all(evaluate(part, contexts) for part in expr.split("&&"))
    for op in ("!=", "=="):
        if op in expr:
            left, right = (str(evaluate(s, contexts)) for s in expr.split(op, 1))
            return (left == right) == (op == "==")
    if m := re.fullmatch(r"'([^']*)'", expr):
        return m.group(1)
    if re.fullmatch(r"[A-Za-z_][\w.-]*", expr):
        return _lookup(expr, contexts)
    raise AssertionError(f"expression {expr!r}: not supported by the test runner")


def substitute(text: str, contexts: dict) -> str:
    return _EXPR.sub(lambda m: str(evaluate(m.group(1), contexts)), text)


def _outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def run_action(action: Path, contexts: dict, env: dict[str, str], cwd: Path, tmp: Path) -> list[StepResult]:
    """Every step of the composite action, in order, until one fails (as GitHub stops a composite action)."""
    spec = yaml.safe_load(action.read_text())
    inputs = {name: substitute(str(i.get("default", "")), contexts) for name, i in spec["inputs"].items()}
    inputs.update(contexts.get("with", {}))
    ctx = {**contexts, "inputs": inputs, "steps": {}}
    results = []
    for k, step in enumerate(spec["runs"]["steps"]):
        sid = step.get("id", f"step{k}")
        cond = step.get("if")
        if cond is not None and not evaluate(_EXPR.sub(lambda m: m.group(1), cond), ctx):
            results.append(StepResult(sid, None))
            continue
        if "uses" in step:  # a GitHub-hosted action (actions/cache) cannot run here: shown as not run
            results.append(StepResult(sid, None, f"uses: {step['uses']} (not run here)"))
            continue
        output = tmp / f"output-{sid}-{len(results)}"
        output.write_text("")
        script = tmp / f"step-{sid}.sh"
        script.write_text(step["run"])
        step_env = {**env, "GITHUB_OUTPUT": str(output),
                    **{key: substitute(str(v), ctx) for key, v in step.get("env", {}).items()}}
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd,
                              env=step_env, capture_output=True, text=True)
        result = StepResult(sid, done.returncode, done.stdout, done.stderr, _outputs(output))
        ctx["steps"][sid] = {"outputs": result.outputs}
        results.append(result)
        if done.returncode != 0:
            break
    return results


def install_fake_gh(bin_dir: Path) -> Path:
    bin_dir.mkdir(parents=True, exist_ok=True)
    gh = bin_dir / "gh"
    gh.write_text(FAKE_GH.format(python=sys.executable))
    gh.chmod(0o755)
    return gh


def offline_venv(where: Path) -> Path:
    """A fresh virtual environment that sees this interpreter's packages (pip, numpy, scipy, setuptools) through a
    .pth file, so the action's pip steps resolve offline; returns its bin folder."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True, capture_output=True)
    import site

    pth = next((where / "lib").glob("python*/site-packages")) / "outer.pth"
    pth.write_text("\n".join(site.getsitepackages()) + "\n")
    return where / "bin"


def calls(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def github_env(base: dict[str, str], **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in base.items() if k in ("HOME", "LANG", "LC_ALL", "TMPDIR", "USER")}
    return {**keep, **extra}


__all__ = ["StepResult", "calls", "evaluate", "github_env", "install_fake_gh", "offline_venv", "run_action",
           "substitute"]
