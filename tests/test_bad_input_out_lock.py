"""Two review runs into one --out never mix their files: each verb holds the folder (runlock.holds_out) while it
computes and writes its group (atomic.write_group); the second fails at once, naming the first (issue 31, class 1)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from pgolf.runlock import LOCK_NAME
from tests.data.records import make_records as mr

ROOT = Path(__file__).resolve().parents[1]


# the first run sleeps 5 s inside its computation (after taking the lock), so the second surely comes meanwhile
SLOW = ("import sys, time; import pgolf.review.verbs as v; real = v.audit; "
        "v.audit = lambda *a, **k: (time.sleep(5), real(*a, **k))[1]; "
        "from pgolf.__main__ import main; sys.exit(main(sys.argv[1:]))")


def _audit(records: Path, out: Path, slow: bool = False) -> subprocess.Popen:
    head = [sys.executable, "-c", SLOW] if slow else [sys.executable, "-m", "pgolf"]
    return subprocess.Popen([*head, "audit", str(records), "--out", str(out)], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _records_in(out: Path) -> list[str]:
    with (out / "records.csv").open(newline="") as f:
        names = [r["record"] for r in csv.DictReader(f)]
    with (out / "runs.csv").open(newline="") as f:
        assert {r["record"] for r in csv.DictReader(f)} <= set(names)
    data = json.loads((out / "records.json").read_text())
    assert [d["record"] for d in data["records"]] == names
    return names


def test_two_audits_into_one_out_never_mix(tmp_path):
    first = mr.write_leaderboard(tmp_path / "a")  # twelve records: the slower run
    second = mr.write_leaderboard(tmp_path / "b", ["2026-03-17_Baseline"])
    out = tmp_path / "out"
    a = _audit(first, out, slow=True)
    deadline = time.monotonic() + 60
    while not (out / LOCK_NAME).exists() and a.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    b = _audit(second, out)
    (_, a_err), (_, b_err) = a.communicate(timeout=300), b.communicate(timeout=300)
    assert a.returncode == 0, a_err
    assert b.returncode == 2 and "pgolf audit: error" in b_err and LOCK_NAME in b_err, b_err
    assert _records_in(out) == sorted(p.name for p in first.iterdir())  # the first run's group, whole
    assert json.loads((out / "records.json").read_text())["provenance"]["records_dir"] == str(first)
    assert not (out / LOCK_NAME).exists()  # given back
    c = _audit(second, out)  # once free, a run replaces the whole group
    assert c.wait(timeout=300) == 0
    assert _records_in(out) == ["2026-03-17_Baseline"]
