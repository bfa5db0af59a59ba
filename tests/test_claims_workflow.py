"""Reviewer mode through Snakemake: `results/claims/{name}/report.md` from a config entry of logs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.workflow_copy import REPO, copy_workflow


def snakemake(where, *args):
    """Targets first: --configfile takes several values and would swallow them."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", *args,
         "--configfile", ".test/config/config.yaml", "claims.yaml"],
        cwd=where, env=env, capture_output=True, text=True, timeout=600,
    )


@pytest.mark.slow
def test_claim_target_checks_the_configured_logs(tmp_path):
    where = copy_workflow(tmp_path / "wf")
    logs = where / "published"
    logs.mkdir()
    for log in sorted((REPO / "tests" / "data" / "logs").glob("r77_v*.txt")):
        shutil.copy(log, logs / log.name)
    claims = {"claims": {"r77": {
        "logs": [f"published/r77_v{i}.txt" for i in range(4)],
        "threshold": 1.195,
        "alpha": 0.01,
        "claimed_std": 0.0005,
    }}}
    (where / "claims.yaml").write_text(yaml.safe_dump(claims))

    out = snakemake(where, "results/claims/r77/report.md")
    assert out.returncode == 0, out.stderr[-3000:]

    claim = json.loads((where / "results/claims/r77/claim.json").read_text())
    assert claim["n"] == 4 and claim["holds"] is True
    assert claim["p_value"] == pytest.approx(0.00234486, abs=5e-9)
    report = (where / "results/claims/r77/report.md").read_text()
    assert "holds at alpha = 0.01" in report and "world size 2" in report
    # Only the claim ran: no training was started for it.
    assert not (where / "results" / "seeds").exists()


@pytest.mark.slow
def test_unknown_claim_name_fails_naming_the_configured_ones(tmp_path):
    where = copy_workflow(tmp_path / "wf")
    (where / "claims.yaml").write_text(yaml.safe_dump({"claims": {"r77": {"logs": ["x.txt"], "threshold": 1.2}}}))
    out = snakemake(where, "--dry-run", "results/claims/r99/report.md")
    assert out.returncode != 0
    assert "claims.r99" in out.stdout + out.stderr and "r77" in out.stdout + out.stderr
