"""Issue 21, class 1: bad input or a full disk never loses an earlier output nor leaves a half one.

Every case runs the real CLI (or the real Snakemake DAG) over outputs an earlier good run
wrote, and asserts exit status 2 (Snakemake: non-zero), one clear error line, no traceback,
and the sha256 of every earlier output unchanged, with no `.tmp` or `.partial` left over.
A "full disk" is a file-size limit (RLIMIT_FSIZE), which fails writes the same way.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bad_input_checks import assert_clean_failure, pgolf, sha256s
from workflow_copy import snakemake

from pgolf.artifact import save_artifact
from pgolf.runlock import LOCK_NAME, FolderInUse, acquire, release

LOGS = Path(__file__).parent / "data" / "logs"
R77 = [str(LOGS / f"r77_v{i}.txt") for i in range(4)]
PREPARE = ("--max-docs", "120", "--val-docs", "24", "--vocab-size", "512")


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.parent.rglob("*") if p.name.endswith((".tmp", ".partial", ".old"))]


# --------------------------------------------------------------------- prepare


@pytest.fixture()
def dataset(tiny_data, tmp_path) -> Path:
    """A copy of a good prepared dataset: shards, tokenizer and manifest that belong together."""
    return Path(shutil.copytree(tiny_data.root, tmp_path / "data"))


@pytest.mark.parametrize(("extra", "limit", "needles"), [
    (("--shard-tokens", "0"), None, ["--shard-tokens", "'0'", ">= 1"]),
    (("--shard-tokens", "-5"), None, ["--shard-tokens"]),
    (("--seed", "7"), 30_000, ["cannot write", "File too large", "nothing was replaced"]),  # full disk
    (("--seed", "7"), 5_000, ["cannot write"]),  # full disk while SentencePiece writes the tokenizer
    (("--vocab-size", "300"), None, ["SentencePiece could not train a 300-token vocabulary"]),
])
def test_prepare_over_a_good_dataset_fails_without_touching_it(dataset, extra, limit, needles):
    before = sha256s(dataset)
    proc = pgolf("prepare", "--out", dataset, *PREPARE, *extra, file_limit=limit)
    assert_clean_failure(proc, *needles)
    assert sha256s(dataset) == before
    assert not _leftovers(dataset)


def test_prepare_out_naming_a_file_is_refused(tmp_path):
    target = tmp_path / "a_file"
    target.write_text("keep me\n")
    before = sha256s(tmp_path)
    assert_clean_failure(pgolf("prepare", "--out", target, *PREPARE), str(target), "is a file")
    assert sha256s(tmp_path) == before


def test_prepare_success_replaces_the_whole_dataset_and_leaves_no_stale_shard(dataset):
    # The copy has one train shard; a build with small shards has many, and then one with large
    # shards must remove the extra ones (no glob may see a shard of another build).
    assert pgolf("prepare", "--out", dataset, *PREPARE, "--shard-tokens", "20000").returncode == 0
    assert len(list(dataset.glob("pgolf_train_*.bin"))) > 1
    assert pgolf("prepare", "--out", dataset, *PREPARE).returncode == 0
    manifest = json.loads((dataset / "manifest.json").read_text())
    assert sorted(p.name for p in dataset.iterdir()) == sorted([*manifest["files"], "manifest.json"])
    assert manifest["tokenizer_path"] == str(dataset / "tokenizer.model")
    assert not _leftovers(dataset)


# --------------------------------------------------------------------- eval


@pytest.fixture(scope="module")
def artifact(tiny_data, tmp_path_factory) -> Path:
    from eval_toys import tiny_model

    path = tmp_path_factory.mktemp("art") / "final_model.int8.ptz"
    save_artifact(tiny_model(vocab=tiny_data.vocab_size).state_dict(), path)
    return path


def _eval(tiny_data, artifact, out, *extra) -> list[str]:
    return ["eval", "--artifact", artifact, "--condition", "doc", "--val", tiny_data.val_glob,
            "--tokenizer", tiny_data.tokenizer_path, "--seq-len", "64", "--chunk", "16", "--max-docs", "3",
            "--device", "cpu", "--progress", "0", "--out", out, *extra]


@pytest.fixture()
def good_eval(tiny_data, artifact, tmp_path) -> Path:
    out = tmp_path / "eval" / "doc.json"
    assert pgolf(*_eval(tiny_data, artifact, out)).returncode == 0
    assert len(list(out.parent.iterdir())) == 3
    return out


@pytest.mark.parametrize("case", ["out_is_a_folder", "full_disk", "threads_negative", "progress_nan"])
def test_eval_keeps_its_earlier_three_files(tiny_data, artifact, good_eval, case):
    folder = good_eval.parent
    (folder / "sub").mkdir()  # an existing directory given as --out
    before = sha256s(folder)
    out, extra, limit, needles = {
        "out_is_a_folder": (folder / "sub", (), None, [str(folder / "sub"), "is a folder"]),
        "full_disk": (good_eval, ("--ttt-seed", "3"), 600, ["cannot write", "nothing was replaced"]),
        "threads_negative": (good_eval, ("--threads", "-3"), None, ["--threads", ">= 0"]),
        "progress_nan": (good_eval, ("--progress", "nan"), None, ["--progress", "finite"]),
    }[case]
    assert_clean_failure(pgolf(*_eval(tiny_data, artifact, out, *extra), file_limit=limit), *needles)
    assert sha256s(folder) == before
    assert not _leftovers(folder)


# --------------------------------------------------------------------- check-logs, audit, rerun-seed


@pytest.fixture()
def good_check(tmp_path) -> Path:
    out = tmp_path / "check"
    assert pgolf("check-logs", *R77, "--threshold", "1.195", "--out", out).returncode == 0
    return out


@pytest.mark.parametrize(("extra", "limit", "needles"), [
    (("--threshold", "nan"), None, ["--threshold", "finite"]),
    (("--threshold", "inf"), None, ["--threshold", "finite"]),
    (("--threshold", "1.195", "--margin-nats", "nan"), None, ["--margin-nats", "finite"]),
    (("--threshold", "1.195", "--margin-nats", "-1"), None, ["--margin-nats", ">= 0"]),
    (("--threshold", "1.195", "--alpha", "5"), None, ["--alpha"]),
    (("--threshold", "1.190"), 1500, ["cannot write", "nothing was replaced"]),  # full disk mid-set
])
def test_check_logs_keeps_its_earlier_output_set(good_check, extra, limit, needles):
    before = sha256s(good_check)
    assert_clean_failure(pgolf("check-logs", *R77, *extra, "--out", good_check, file_limit=limit), *needles)
    assert sha256s(good_check) == before
    assert not _leftovers(good_check)


@pytest.fixture(scope="module")
def leaderboard(tmp_path_factory) -> Path:
    sys.path.insert(0, str(Path(__file__).parent / "data" / "records"))
    import make_records

    root = tmp_path_factory.mktemp("lb") / "records"
    make_records.write_leaderboard(root)
    return root


@pytest.mark.parametrize(("extra", "limit", "needles"), [
    (("--margin-nats", "nan"), None, ["--margin-nats", "finite"]),
    (("--alpha", "nan"), None, ["--alpha"]),
    (("--progression-alpha", "1.5"), None, ["--progression-alpha"]),
    (("--margin-nats", "0.004"), 20_000, ["cannot write", "nothing was replaced"]),  # full disk mid-set
])
def test_audit_keeps_its_earlier_output_set(leaderboard, tmp_path, extra, limit, needles):
    out = tmp_path / "audit"
    assert pgolf("audit", leaderboard, "--out", out).returncode == 0
    before = sha256s(out)
    assert_clean_failure(pgolf("audit", leaderboard, *extra, "--out", out, file_limit=limit), *needles)
    assert sha256s(out) == before
    assert not _leftovers(out)


@pytest.mark.parametrize(("extra", "needles"), [
    (("--timeout-minutes", "nan"), ["--timeout-minutes", "finite"]),
    (("--timeout-minutes", "0"), ["--timeout-minutes", "> 0"]),
    (("--nproc", "0"), ["--nproc", ">= 1"]),
])
def test_rerun_seed_options_are_checked_before_anything_is_written(tmp_path, extra, needles):
    out = tmp_path / "seed1"
    out.mkdir()
    for name, text in (("train.log", "step:1/1 val_bpb:1.2\n"), ("stderr.log", ""), ("rerun.json", "{}\n")):
        (out / name).write_text(text)  # an earlier seed's outputs
    before = sha256s(out)
    proc = pgolf("rerun-seed", "--folder", tmp_path, "--seed", "1", *extra, "--out", out)
    assert_clean_failure(proc, *needles)
    assert sha256s(out) == before


# --------------------------------------------------------------------- the workflow


def test_a_results_folder_is_held_by_one_run_and_a_dead_owner_lock_is_taken_over(tmp_path):
    folder = tmp_path / "results"
    acquire(folder, tmp_path / "checkout_a")
    # Another live process (here: a child of this one) asking for the same folder is told who holds it.
    code = ("import sys; from pgolf.runlock import acquire; from pgolf.errors import PgolfError\n"
            "try: acquire(sys.argv[1], sys.argv[2])\nexcept PgolfError as e: print(e); sys.exit(3)")
    other = subprocess.run([sys.executable, "-c", code, str(folder), str(tmp_path / "checkout_b")],
                           capture_output=True, text=True)
    assert other.returncode == 3
    assert "is in use by another run" in other.stdout and str(tmp_path / "checkout_a") in other.stdout
    release(folder)
    assert not (folder / LOCK_NAME).exists()
    # A lock left by a process that has died (SIGKILL, a crash) is stale: the next run takes it.
    dead = subprocess.run([sys.executable, "-c", code, str(folder), "x"])
    assert dead.returncode == 0 and (folder / LOCK_NAME).exists()
    acquire(folder, tmp_path / "checkout_a")
    assert json.loads((folder / LOCK_NAME).read_text())["checkout"] == str((tmp_path / "checkout_a").resolve())
    with pytest.raises(FolderInUse):  # unreadable: never taken over silently
        (folder / LOCK_NAME).write_text("garbage")
        acquire(folder, tmp_path / "checkout_a")


def _bad_config_or_held_folder(run_dir: Path, case: str) -> tuple[tuple[str, ...], str]:
    """Config files and the line the run must fail with."""
    if case == "held":
        # Another checkout's live run (this test process) holds the shared results folder.
        (run_dir / "results" / LOCK_NAME).write_text(json.dumps({
            "pid": __import__("os").getpid(), "host": __import__("socket").gethostname(),
            "checkout": "/elsewhere/pgolf", "started": "2026-12-02T00:00:00+00:00"}))
        return (), "is in use by another run: pid"
    text = {"threshold_nan": "claim:\n  headline: ttt\n  threshold: .nan\n",
            "ttt_lr_inf": "eval:\n  ttt_lr: .inf\n",
            "vocab_disagrees": "train:\n  gpus: 0\n  hyperparameters:\n    vocab_size: 1024\n",
            "bad_shape": "train:\n  gpus: 0\n  hyperparameters:\n    model_dim: 30\n"}[case]
    (run_dir / "bad.yaml").write_text(text)
    return ("bad.yaml",), {"threshold_nan": "config key claim.threshold: nan is not a finite number",
                           "ttt_lr_inf": "config key eval.ttt_lr: inf is not a finite number",
                           "vocab_disagrees": "config key train.hyperparameters.vocab_size: 1024 disagrees with "
                                              "data.vocab_size (512)",
                           "bad_shape": "config key train.hyperparameters"}[case]


@pytest.mark.slow
@pytest.mark.parametrize("case", ["threshold_nan", "ttt_lr_inf", "vocab_disagrees", "bad_shape", "held"])
def test_workflow_refuses_at_startup_and_keeps_every_earlier_output(run_dir, case):
    configs, expected = _bad_config_or_held_folder(run_dir, case)
    before = sha256s(run_dir / "results")
    # --forcerun: without the check, Snakemake would delete these jobs' outputs and then run them.
    out = snakemake(run_dir, "--forcerun", "train", "stats", "--keep-going",
                    configfiles=(".test/config/config.yaml", *configs), timeout=300)
    text = out.stdout + out.stderr
    assert out.returncode != 0
    assert expected in text, text[-3000:]
    assert "Traceback" not in text
    assert sha256s(run_dir / "results") == before
    assert not (run_dir / "results" / "report.partial.md").exists()
