"""Compliance reruns, the fast parts: the Welch test and the detectable difference against
independent computations, and config errors at Snakemake's startup."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps
from workflow_copy import copy_workflow

from pgolf import stats as st
from pgolf.__main__ import main as pgolf_main
from pgolf.errors import PgolfError

sys.path.insert(0, str(Path(__file__).parent / "data" / "rerun"))
from standin import MICRO, snakemake, standin_bpb, write_previous, write_reruns, write_standin  # noqa: E402,I001


def test_welch_two_sided_equals_scipy_ttest_ind_unequal_var():
    rerun, claimed = [1.1860, 1.1842, 1.1871], [1.1502, 1.1497, 1.1511, 1.1505]
    r = st.welch_two_sided(rerun, claimed)
    oracle = sps.ttest_ind(rerun, claimed, equal_var=False)
    assert r.t == pytest.approx(oracle.statistic, rel=1e-12)
    assert r.p_value == pytest.approx(oracle.pvalue, rel=1e-9)
    assert r.df == pytest.approx(oracle.df, rel=1e-12)
    low, high = oracle.confidence_interval(0.95)
    assert r.ci == pytest.approx((low, high), rel=1e-9)
    assert r.differs(0.05)


def test_welch_two_sided_refuses_identical_values():
    with pytest.raises(PgolfError, match="identical"):
        st.welch_two_sided([1.0, 1.0], [1.0, 1.0])


def test_detectable_difference_is_rejected_with_the_stated_power_by_simulation():
    """Draw two groups of 3 whose means differ by the detectable difference: a two-sided t-test
    at alpha 0.05 rejects in about 80% of draws (the pooled test, whose power the formula states)."""
    std, n = 0.0007, 3
    delta = st.detectable_difference(n, n, std, alpha=0.05, power=0.8)
    rng = np.random.default_rng(0)
    a = rng.normal(delta, std, size=(40_000, n))
    b = rng.normal(0.0, std, size=(40_000, n))
    rejected = sps.ttest_ind(a, b, axis=1).pvalue < 0.05
    assert rejected.mean() == pytest.approx(0.8, abs=0.01)
    assert delta / std == pytest.approx(3.07, abs=0.01)  # Cohen's d for n = 3 per group


def _dry_run(tmp_path: Path, entries: dict) -> str:
    wf = copy_workflow(tmp_path / "wf")
    run = snakemake(wf, "-n", "results/rerun/x/report.md", "--configfile", MICRO, write_reruns(wf, entries))
    return run.stdout + run.stderr


def test_missing_folder_fails_at_startup_naming_key_and_path(tmp_path):
    out = _dry_run(tmp_path, {"x": {"folder": str(tmp_path / "nowhere")}})
    assert "config key reruns.x.folder:" in out and "nowhere does not exist; put the record folder there" in out


def test_missing_script_fails_at_startup_naming_where_to_put_it(tmp_path):
    folder = write_standin(tmp_path / "sub", [1, 2])
    out = _dry_run(tmp_path, {"x": {"folder": str(folder), "script": "train_other.py"}})
    assert "config key reruns.x.script:" in out and "train_other.py is missing: put the script torchrun starts there" in out


def test_submission_without_seeds_needs_seeds_in_the_entry(tmp_path):
    folder = write_standin(tmp_path / "sub", [1, 2])
    (folder / "submission.json").write_text(json.dumps({"val_bpb": 1.12}))
    out = _dry_run(tmp_path, {"x": {"folder": str(folder)}})
    assert "config key reruns.x.seeds:" in out and "names no seeds" in out


def test_seeds_default_to_submission_json_and_each_is_one_job(tmp_path):
    folder = write_standin(tmp_path / "sub", [7, 42, 1337])
    out = _dry_run(tmp_path, {"x": {"folder": str(folder), "nproc": 2}})
    assert re.search(r"^rerun_seed\s+3$", out, re.M), out
    for seed in (7, 42, 1337):
        assert f"results/rerun/x/{seed}/train.log" in out


def test_unknown_entry_key_fails_by_name(tmp_path):
    folder = write_standin(tmp_path / "sub", [1, 2])
    out = _dry_run(tmp_path, {"x": {"folder": str(folder), "sedes": [1]}})
    assert "sedes" in out


def test_sigterm_to_a_running_seed_kills_every_rank_and_fails_cleanly(tmp_path):
    """Snakemake or SLURM stopping the job must not leave ranks running in their own session."""
    folder = write_standin(tmp_path / "sub", [1])
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pgolf", "rerun-seed", "--folder", str(folder), "--seed", "1", "--nproc", "2",
         "--env", "STANDIN_SLEEP_SEED=1", "--out", str(out)], stderr=subprocess.PIPE, text=True)
    pid_dir = out / "work" / "pids"
    deadline = time.monotonic() + 120
    while len(list(pid_dir.glob("rank*.pid"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(0.3)  # both pid files written in full
    pids = [int(p.read_text()) for p in pid_dir.glob("rank*.pid")]
    assert len(pids) == 2
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "stopped by SIGTERM; killed its process group" in err, err
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not (out / "train.log").exists() and not (out / "rerun.json").exists()


def test_without_per_seed_scores_the_claimed_runs_are_the_folders_own_logs(tmp_path):
    """submission.json names seeds but no scores: the claim is what the folder's logs show."""
    folder = write_previous(tmp_path / "sub", [4, 5, 6], base=1.12)
    (folder / "submission.json").write_text(json.dumps({"val_bpb": 1.1216, "seeds": [4, 5, 6]}))
    runs = tmp_path / "runs"
    for seed in (4, 5, 6):  # a rerun that printed what the folder's logs show
        (runs / str(seed)).mkdir(parents=True)
        shutil.copy(folder / f"train_seed{seed}.log", runs / str(seed) / "train.log")
        (runs / str(seed) / "rerun.json").write_text(json.dumps({"wall_time_s": 1.0}))
    rc = pgolf_main(["rerun-check", "--name", "x", "--folder", str(folder), "--runs-dir", str(runs),
                     "--seeds", "4", "5", "6", "--out", str(tmp_path / "out")])
    assert rc == 0
    rec = json.loads((tmp_path / "out/record.json").read_text())
    expected = [standin_bpb(s) for s in (4, 5, 6)]
    assert "own logs" in rec["claimed_source"]
    assert rec["claimed_values"] == pytest.approx(expected, abs=1e-9)
    assert rec["claimed_mean"] == pytest.approx(sum(expected) / 3, abs=1e-9)
    assert rec["reproduced"] is True and rec["p_rerun_vs_claim"] == pytest.approx(1.0)


def test_rerun_check_without_the_seeds_outputs_says_which_are_missing(tmp_path, capsys):
    folder = write_standin(tmp_path / "sub", [1, 2])
    rc = pgolf_main(["rerun-check", "--name", "x", "--folder", str(folder), "--runs-dir", str(tmp_path / "runs"),
                     "--seeds", "1", "2", "--out", str(tmp_path / "out")])
    assert rc == 2 and not (tmp_path / "out/record.json").exists()
    assert "no finished rerun of seed(s) 1, 2" in capsys.readouterr().err
