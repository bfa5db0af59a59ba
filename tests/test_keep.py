"""pgolf.keep, pgolf.stagefiles and the run lock on their own: what the workflow's hooks rely on
(tests/test_interrupts.py drives them through a real, interrupted Snakemake run)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pgolf import keep, runlock, stagefiles


def _tree(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file() and keep.KEEP_NAME not in p.parts}


def _outputs(root: Path) -> None:
    for name, text in {"seeds/1/train/final_model.pt": "model", "report.md": "report", "tables/runs.csv": "a,b\n"}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
        os.utime(root / name, (1_000_000, 1_000_000))


def test_deleted_outputs_come_back_with_their_bytes_and_time_stamps(tmp_path):
    _outputs(tmp_path)
    before = _tree(tmp_path)
    assert keep.keep([tmp_path]) == 3
    (tmp_path / "seeds/1/train/final_model.pt").unlink()  # what Snakemake does before and after a failed job
    (tmp_path / "report.md").unlink()
    (tmp_path / "tables/runs.csv").write_text("rebuilt\n")  # replaced by a job that finished: left alone
    restored = keep.restore([tmp_path])
    assert sorted(p.name for p in restored) == ["final_model.pt", "report.md"]
    after = _tree(tmp_path)
    assert after["tables/runs.csv"][0] == b"rebuilt\n"
    del before["tables/runs.csv"], after["tables/runs.csv"]
    assert after == before
    assert not (tmp_path / keep.KEEP_NAME).exists()


def test_a_successful_run_drops_the_second_names_and_a_killed_one_is_restored_by_the_next(tmp_path):
    _outputs(tmp_path)
    keep.keep([tmp_path])
    keep.discard([tmp_path])
    assert not (tmp_path / keep.KEEP_NAME).exists() and (tmp_path / "report.md").is_file()
    keep.keep([tmp_path])
    (tmp_path / "report.md").unlink()  # the run is killed outright here: no onerror
    keep.keep([tmp_path])  # the next run restores before it keeps
    assert (tmp_path / "report.md").read_text() == "report"


def test_a_kept_file_is_a_second_name_not_a_copy(tmp_path):
    _outputs(tmp_path)
    keep.keep([tmp_path])
    kept = tmp_path / keep.KEEP_NAME / "report.md"
    assert kept.stat().st_ino == (tmp_path / "report.md").stat().st_ino


def test_links_are_not_followed_and_nested_folders_are_kept_once(tmp_path):
    _outputs(tmp_path)
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("not ours")
    (tmp_path / "link.txt").symlink_to(outside)
    assert keep.keep([tmp_path, tmp_path / "seeds"]) == 3
    assert not (tmp_path / "seeds" / keep.KEEP_NAME).exists()


def test_a_stage_file_changes_only_with_its_settings_and_a_failed_run_puts_it_back(tmp_path):
    config = {"data": {"vocab_size": 512, "threads": 1}, "train": {"hyperparameters": {"iterations": 8}, "threads": 2},
              "eval": {"seq_len": 64}, "seeds": [1, 2], "claim": {}, "report": {}, "published": None}
    paths = stagefiles.write_stage_files(tmp_path, config)
    assert paths["train"].stat().st_mtime == 0  # first written: older than any output
    stamps = {s: p.stat().st_mtime_ns for s, p in paths.items()}
    stagefiles.write_stage_files(tmp_path, {**config, "train": {**config["train"], "threads": 8}})  # a resource
    assert {s: p.stat().st_mtime_ns for s, p in paths.items()} == stamps
    changed = {**config, "train": {"hyperparameters": {"iterations": 9}}}
    stagefiles.write_stage_files(tmp_path, changed)
    assert paths["data"].stat().st_mtime_ns == stamps["data"]
    assert all(paths[s].stat().st_mtime_ns > stamps[s] for s in ("train", "eval", "report"))
    assert stagefiles.put_back(tmp_path) == [paths["train"], paths["eval"], paths["report"]]
    assert {s: p.stat().st_mtime_ns for s, p in paths.items()} == stamps
    assert '"iterations": 8' in paths["train"].read_text()
    stagefiles.write_stage_files(tmp_path, changed)
    stagefiles.forget(tmp_path)
    assert stagefiles.put_back(tmp_path) == [] and '"iterations": 9' in paths["train"].read_text()


def test_a_full_disk_while_taking_the_run_lock_leaves_no_lock_behind(tmp_path):
    # RLIMIT_FSIZE makes any write past 8 bytes fail with EFBIG, as a full disk fails with ENOSPC.
    script = textwrap.dedent(f"""
        import resource, signal, sys
        from pgolf import runlock
        from pgolf.errors import PgolfError
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (8, 8))
        try:
            runlock.acquire({str(tmp_path)!r}, {str(tmp_path)!r})
        except PgolfError as exc:
            print(exc)
            sys.exit(3)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert out.returncode == 3, out.stderr
    assert "cannot take the lock" in out.stdout and "nothing was written there" in out.stdout
    assert list(tmp_path.iterdir()) == []
    assert runlock.acquire(tmp_path, tmp_path).is_file()  # the next run is not blocked
    runlock.release(tmp_path)


@pytest.mark.parametrize("held", [True, False])
def test_holding_a_folder_refuses_a_second_run_and_gives_it_back(tmp_path, held):
    with runlock.holding(tmp_path / "out"):
        if held:
            script = (f"from pgolf import runlock\n"
                      f"runlock.acquire({str(tmp_path / 'out')!r}, '.')\n")
            out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                 env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
            assert out.returncode != 0 and "is in use by another run" in out.stderr
    assert not (tmp_path / "out" / runlock.LOCK_NAME).exists()


def test_single_files_outside_the_folders_are_kept_alone_and_another_results_folder_is_left_to_its_run(tmp_path):
    results, data = tmp_path / "results", tmp_path / "fineweb"
    _outputs(results)
    data.mkdir()
    (data / "manifest.json").write_text("{}")
    (data / "fineweb_val_000000.bin").write_bytes(b"shard")  # the user's download: not ours to keep
    (results / "record" / "settings").mkdir(parents=True)
    (results / "record" / "settings" / "report.json").write_text("{}")
    (results / "record" / "report.md").write_text("the record's")
    assert keep.keep([results], [data / "manifest.json", results / "report.md"]) == 4
    assert sorted(p.name for p in (data / keep.KEEP_NAME).iterdir()) == ["manifest.json"]
    (data / "manifest.json").unlink()
    (results / "record" / "report.md").unlink()  # the record run's job deleted it: not ours to restore
    restored = keep.restore([results], [data / "manifest.json"])
    assert [p.name for p in restored] == ["manifest.json"] and not (results / "record" / "report.md").exists()


def test_a_folder_where_no_second_name_can_be_made_is_passed_over_with_a_warning(tmp_path, capsys):
    _outputs(tmp_path)
    (tmp_path / keep.KEEP_NAME).write_text("a file where the folder of second names should go")
    assert keep.keep([tmp_path]) == 0
    assert "cannot keep the earlier outputs under" in capsys.readouterr().err
    assert (tmp_path / "report.md").read_text() == "report"
