"""The pre-commit hook as users get it: `pre-commit try-repo` installs pgolf from this repository into its own
environment and runs `pgolf-check-record` on a fixture repository's staged record folders; a folder that does
not hold blocks the commit with its findings."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
from pathlib import Path

import pytest

from tests.data import gitstream as gs

ROOT = Path(__file__).resolve().parents[1]


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory):
    """This repository's committed and uncommitted files as pre-commit would clone them (try-repo reads HEAD plus
    the working tree's changes; a copy keeps the build it runs out of the worktree)."""
    dst = tmp_path_factory.mktemp("hookrepo") / "pgolf"
    files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard", "pgolf",
                            "pyproject.toml", "README.md", ".pre-commit-hooks.yaml"], capture_output=True, text=True,
                           check=True).stdout.split()
    for rel in files:
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, dst / rel)
    _git(dst.parent, "init", "-q", str(dst))
    gs._commit_all(dst, "pgolf", "2026-04-01T00:00:00Z")
    return dst


def _env(home: Path) -> dict[str, str]:
    # offline: the hook's environment gets pgolf alone (no torch), and sees this interpreter's numpy and scipy
    return {**os.environ, "PRE_COMMIT_HOME": str(home), "PIP_NO_INDEX": "1", "PIP_NO_DEPS": "1",
            "PIP_NO_BUILD_ISOLATION": "0", "PYTHONPATH": os.pathsep.join(site.getsitepackages())}


def _try_repo(hook_repo: Path, repo: Path, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([shutil.which("pre-commit") or "pre-commit", "try-repo", str(hook_repo),
                           "pgolf-check-record"], cwd=repo, env=_env(home), capture_output=True, text=True)


def test_the_hook_passes_a_good_folder_and_blocks_a_bad_one(hook_repo, tmp_path):
    if shutil.which("pre-commit") is None:
        pytest.skip("pre-commit is not installed (pip install -e .[test])")
    repo = tmp_path / "submission"
    _git(tmp_path, "init", "-q", "-b", "main", str(repo))
    gs._record(repo, "2026-04-01_Good", gs.BEST)
    _git(repo, "add", "-A")
    good = _try_repo(hook_repo, repo, tmp_path / "cache")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout

    gs._record(repo, "2026-04-02_Bad", gs.GOOD, model_bytes=16_100_000)
    claim = repo / gs.TRACK / "2026-04-02_Bad" / "submission.json"
    data = json.loads(claim.read_text())
    data["seed_results"]["1337"]["val_bpb"] = 1.1848  # a claim its log does not show
    claim.write_text(json.dumps(data, indent=2))
    _git(repo, "add", "-A")
    bad = _try_repo(hook_repo, repo, tmp_path / "cache")
    assert bad.returncode == 1 and "Failed" in bad.stdout
    out = bad.stdout
    assert "✅ holds · `2026-04-01_Good`" in out  # both staged folders are printed
    assert "❌ does not hold: claim not shown · `2026-04-02_Bad`" in out  # the first problem is the verdict
    assert "size: 16,150,000 bytes, headroom -150,000" in out  # over the cap, shown beside it
    finding = next(line for line in out.splitlines() if "`train_seed1337.log" in line and "1.1848" in line)
    assert finding.startswith("- **error** `") and "claims val\\_bpb 1.1848" in finding and "*Fix:*" in finding


def test_an_installed_hook_blocks_the_commit(hook_repo, tmp_path):
    if shutil.which("pre-commit") is None:
        pytest.skip("pre-commit is not installed (pip install -e .[test])")
    repo = tmp_path / "submission"
    _git(tmp_path, "init", "-q", "-b", "main", str(repo))
    rev = _git(hook_repo, "rev-parse", "HEAD").stdout.strip()
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hook_repo}\n    rev: {rev}\n    hooks:\n      - id: pgolf-check-record\n")
    env = _env(tmp_path / "cache")
    subprocess.run([shutil.which("pre-commit"), "install"], cwd=repo, env=env, check=True, capture_output=True)
    gs._record(repo, "2026-04-03_Big", gs.GOOD, model_bytes=16_100_000)  # over the cap, claim shown
    _git(repo, "add", "-A")
    done = subprocess.run(["git", "-C", str(repo), "commit", "-q", "-m", "my record"], env=env, capture_output=True,
                          text=True)
    said = done.stdout + done.stderr  # git shows a hook's output on stderr
    assert done.returncode == 1 and "❌ does not hold: over the cap · `2026-04-03_Big`" in said
    assert any(line.startswith("- **error** `") and "is over 16,000,000" in line for line in said.splitlines())
    assert subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", "-q", "HEAD"]).returncode != 0  # no commit
