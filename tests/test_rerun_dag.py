"""Compliance reruns through the real DAG: a stand-in submission (tests/data/rerun/standin.py)
run by `rerun_seed` under real torchrun on 2 CPU processes (gloo), then `rerun_check`.

One Snakemake run (module fixture, --keep-going) covers three entries:
  ok      the claim is what the script prints: reproduced (its ranks join a gloo group);
          with a previous record, for the progression tests
  stale   the claim is 0.01 bpb better than the script prints: not reproduced
  broken  seed 1 runs, seed 2 exits 3, seed 3 sleeps past its timeout
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from scipy import stats as sps
from workflow_copy import copy_workflow

sys.path.insert(0, str(Path(__file__).parent / "data" / "rerun"))
from standin import (  # noqa: E402
    MICRO,
    snakemake,
    standin_bpb,
    write_previous,
    write_reruns,
    write_standin,
)

pytestmark = pytest.mark.slow

TIMEOUT_MIN = 0.4  # seed 1 of `broken` must finish within it on a loaded machine
PREV_BASE = 1.1225  # the previous record, 0.0017 bpb worse than ok's runs


@pytest.fixture(scope="module")
def dag(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("rerun_dag")
    wf = copy_workflow(root / "wf")
    entries = {
        "ok": {"folder": str(write_standin(root / "ok", [1, 2, 3])), "nproc": 2, "gpus": 0,
               "env": {"STANDIN_GLOO": 1}, "previous": str(write_previous(root / "prev", [4, 5, 6], PREV_BASE))},
        "stale": {"folder": str(write_standin(root / "stale", [1, 2], claim_offset=-0.01)), "nproc": 2, "gpus": 0},
        "broken": {"folder": str(write_standin(root / "broken", [1, 2, 3])), "nproc": 2, "gpus": 0,
                   "timeout_minutes": TIMEOUT_MIN, "env": {"STANDIN_FAIL_SEED": 2, "STANDIN_SLEEP_SEED": 3}},
    }
    extra = write_reruns(wf, entries)
    targets = [f"results/rerun/{name}/report.md" for name in entries]
    run = snakemake(wf, *targets, "--cores", "2", "--keep-going", "--configfile", MICRO, extra)
    return wf, run


def _record(wf: Path, name: str) -> dict:
    return json.loads((wf / f"results/rerun/{name}/record.json").read_text())


def test_rerun_that_matches_its_claim_is_reproduced(dag):
    wf, run = dag
    rec = _record(wf, "ok")
    expected = [standin_bpb(s) for s in (1, 2, 3)]
    assert rec["reproduced"] is True, run.stderr[-4000:]
    assert rec["p_rerun_vs_claim"] == pytest.approx(1.0)
    assert rec["rerun_mean"] == pytest.approx(sum(expected) / 3, abs=1e-9)
    assert rec["claimed_mean"] == pytest.approx(sum(expected) / 3, abs=1e-9)
    assert [r["rerun_bpb"] for r in rec["per_seed"]] == pytest.approx(expected, abs=1e-9)
    # the check-record fields, on the rerun logs: the claimed stage found, 2 processes flagged
    assert rec["claim_supported"] is True and rec["stage"] == "quantized_ttt" and rec["n"] == 3
    world = [f for f in rec["flags"] if "world size 2" in f["text"]]
    assert len(world) == 3 and all(f["severity"] == "error" for f in world), rec["flags"]
    assert rec["missing_seeds"] == [] and rec["complete"] is True
    assert "**Verdict:** reproduced" in (wf / "results/rerun/ok/report.md").read_text()


def test_rerun_worse_than_its_claim_is_not_reproduced_by_welch(dag):
    wf, _ = dag
    rec = _record(wf, "stale")
    rerun = [standin_bpb(s) for s in (1, 2)]
    claimed = [round(v - 0.01, 8) for v in rerun]
    oracle = sps.ttest_ind(rerun, claimed, equal_var=False)
    assert rec["reproduced"] is False
    assert rec["p_rerun_vs_claim"] == pytest.approx(oracle.pvalue, rel=1e-9)
    assert rec["claim_supported"] is False  # no rerun log shows the claimed score
    assert "NOT reproduced" in (wf / "results/rerun/stale/report.md").read_text()


def test_each_seed_keeps_its_stdout_its_own_log_file_and_wall_time(dag):
    wf, _ = dag
    seed_dir = wf / "results/rerun/ok/2"
    log = (seed_dir / "train.log").read_text()
    assert "  seed: 2\n" in log and "  world_size: 2\n" in log and "  run_id: ok_seed2\n" in log
    assert log.count("quantized_ttt val_loss") == 1  # only rank 0 prints
    assert (seed_dir / "script_logs/logs/ok_seed2.txt").read_text() == log
    info = json.loads((seed_dir / "rerun.json").read_text())
    assert info["returncode"] == 0 and 0 < info["wall_time_s"] < 300
    assert info["command"][-2:] == ["--nproc_per_node=2", "train_gpt.py"]
    assert info["provenance"]["command"] == "rerun-seed" and info["provenance"]["versions"]["torch"]


def test_failed_and_timed_out_seeds_leave_the_others_and_the_report_names_them(dag):
    wf, run = dag
    assert run.returncode != 0
    assert (wf / "results/rerun/broken/1/train.log").is_file()
    for seed in (2, 3):
        assert not (wf / f"results/rerun/broken/{seed}/train.log").exists()
    failed = (wf / "results/logs/rerun/broken/2.log").read_text()
    assert "seed 2 of" in failed and "exited with status" in failed and "told to fail" in failed
    timed_out = (wf / "results/logs/rerun/broken/3.log").read_text()
    assert f"ran past the timeout of {TIMEOUT_MIN:g} minute(s)" in timed_out and "killed its process group" in timed_out
    # The partial check goes beside where the complete one would be, never in its place.
    assert not (wf / "results/rerun/broken/report.md").exists()
    rec = json.loads((wf / "results/rerun/broken/partial/record.json").read_text())
    assert rec["missing_seeds"] == [2, 3] and rec["complete"] is False
    assert rec["reproduced"] is None  # one seed is no sample
    report = (wf / "results/rerun/broken/partial/report.md").read_text()
    assert "**Missing:** seed(s) 2, 3 left no rerun" in report


def test_timeout_leaves_no_rank_alive(dag):
    wf, _ = dag
    pids = list((wf / "results/rerun/broken/3/work/pids").glob("rank*.pid"))
    assert len(pids) == 2
    for pid_file in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid_file.read_text()), 0)


def test_progression_tests_run_on_the_rerun_against_previous(dag):
    wf, _ = dag
    rec = _record(wf, "ok")
    rerun = [standin_bpb(s) for s in (1, 2, 3)]
    previous = [standin_bpb(s, PREV_BASE) for s in (4, 5, 6)]
    oracle = sps.ttest_ind(rerun, previous, equal_var=False, alternative="less")
    assert rec["p_previous"] == pytest.approx(oracle.pvalue, rel=1e-6)
    assert rec["p_previous_margin"] > rec["p_previous"]  # the 0.005-nat margin is harder to beat
