"""Directory mode never follows a link out of a record folder: the file is left out, named as a finding, and the
rest of the folder is judged (issue 31, class 1). An unreadable folder or log and a submodule are named too."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pgolf.__main__ import main as pgolf_main
from pgolf.review.sources.folder import DirFolder
from tests.data import gitstream as gs
from tests.data.records import make_records as mr

SECRET = "/etc/passwd"


def _linked_record(root):
    folder = mr.write_record(root, "2026-04-01_Prev")
    (folder / "train_gpt.py").unlink()
    os.symlink(SECRET, folder / "train_gpt.py")
    outside = root.parent / "outside"
    outside.mkdir()
    (outside / "notes.txt").write_text("outside text\n")
    os.symlink(outside, folder / "extra")  # a folder link out
    os.symlink("README.md", folder / "README_link.md")  # a link inside the folder is followed
    return folder


def test_a_link_out_of_the_folder_is_left_out_and_named(tmp_path):
    folder = _linked_record(tmp_path / "recs")
    files = DirFolder(folder)
    assert "train_gpt.py" not in files.paths() and not any(p.startswith("extra") for p in files.paths())
    assert "README_link.md" in files.paths() and files.read("README_link.md") == (folder / "README.md").read_bytes()
    why = files.left_out()
    assert [w.split(", outside")[0] for w in why] == [f"{folder}/extra is a link to {tmp_path / 'outside'}",
                                                      f"{folder}/train_gpt.py is a link to {SECRET}"]


def test_check_record_and_audit_never_copy_the_target_into_a_report(tmp_path):
    folder = _linked_record(tmp_path / "recs")
    secret = [line for line in Path(SECRET).read_text().splitlines() if line.strip()]
    assert pgolf_main(["check-record", str(folder), "--out", str(tmp_path / "one")]) == 1  # judged without them
    assert pgolf_main(["audit", str(folder.parent), "--out", str(tmp_path / "all")]) == 0
    record = json.loads((tmp_path / "one" / "record.json").read_text())
    left = [f for f in record["flags"] if f["text"].startswith(f"{folder}/train_gpt.py is a link to {SECRET}")]
    assert len(left) == 1 and left[0]["severity"] == "error"
    assert record["n"] == 3  # the logs are judged as before
    for out in (tmp_path / "one", tmp_path / "all"):
        for f in out.iterdir():
            if f.suffix in (".md", ".html", ".json", ".csv"):
                text = f.read_text()
                assert not any(line in text for line in secret), f
                assert "outside text" not in text, f


def _no_dac_override(probe: Path) -> list[str]:
    """A command prefix under which a chmod 000 file cannot be read: nothing for a user, setpriv without the
    override capabilities for root (root reads any file); skip when neither holds."""
    prefix = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: a chmod 000 file stays readable")
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search",
                  "--inh-caps=-dac_override,-dac_read_search"]
    if subprocess.run([*prefix, "cat", str(probe)], capture_output=True).returncode == 0:
        pytest.skip("this process reads a chmod 000 file (a capability or a file system that ignores modes)")
    return prefix


def _pgolf(prefix: list[str], *args: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    return subprocess.run([*prefix, sys.executable, "-m", "pgolf", *map(str, args)], capture_output=True, text=True,
                          env=env)


def test_an_unreadable_folder_or_log_is_named_with_its_reason(tmp_path):
    folder = mr.write_record(tmp_path / "recs", "2026-04-01_Prev")
    (folder / "logs").mkdir()
    (folder / "logs" / "extra.txt").write_text("step:1\n")
    probe = tmp_path / "probe"
    probe.write_text("x")
    probe.chmod(0)
    prefix = _no_dac_override(probe)
    (folder / "logs").chmod(0)
    (folder / "train_seed42.log").chmod(0)
    try:
        done = _pgolf(prefix, "check-record", folder, "--out", tmp_path / "one")
        folder.chmod(0)
        whole = _pgolf(prefix, "audit", folder.parent, "--out", tmp_path / "all")
        closed = _pgolf(prefix, "check-record", folder, "--out", tmp_path / "closed")
    finally:
        for p in (folder, folder / "logs", folder / "train_seed42.log"):
            p.chmod(0o755)
    assert done.returncode == 1, done.stderr
    one = json.loads((tmp_path / "one" / "record.json").read_text())
    assert one["unread"] == [f"{folder}/logs: cannot list this folder (Permission denied); its files are not read, "
                             "so the claim is judged without them: fix its permissions",
                             f"file {folder}/train_seed42.log: cannot read it (Permission denied)"]
    flags = [f["text"] for f in one["flags"]]
    assert f"{folder}/logs: cannot list this folder (Permission denied); its files are not read" in " ".join(flags)
    assert any(t.startswith(f"file {folder}/train_seed42.log: cannot read it (Permission denied)") for t in flags)
    assert whole.returncode == 0, whole.stderr
    (record,) = json.loads((tmp_path / "all" / "records.json").read_text())["records"]
    assert any(f["text"].startswith(f"{folder}: cannot list this folder (Permission denied)") for f in record["flags"])
    assert any(f["text"].startswith("no submission.json among the files that could be read") for f in record["flags"])
    assert "tested `None`" not in whole.stdout and "no claim to match and no stage to test" in whole.stdout
    # a folder that cannot be listed is not a folder whose claim holds: exit 1, and the sentence says why
    assert closed.returncode == 1, closed.stderr
    assert ("1 file(s) or folder(s) left out (not readable, a link out of the folder, a submodule), so the claim is "
            "judged without them") in closed.stdout


def test_a_record_folder_that_is_a_submodule_is_named_in_directory_mode(tmp_path):
    repo = gs.start_repo(tmp_path)
    commit = gs._git(repo, "rev-parse", "HEAD").strip()
    mr.write_record(repo / gs.TRACK, "2026-04-01_Prev")
    gs._git(repo, "add", "-A")
    gs._git(repo, "update-index", "--add", "--cacheinfo", f"160000,{commit},{gs.TRACK}/2026-04-02_Sub")
    gs._git(repo, "commit", "-q", "-m", "sub")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)  # the submodule: an empty folder
    assert pgolf_main(["audit", str(clone / gs.TRACK), "--out", str(tmp_path / "out")]) == 0
    records = {r["record"]: r for r in json.loads((tmp_path / "out" / "records.json").read_text())["records"]}
    assert records["2026-04-01_Prev"]["n"] == 3
    texts = [f["text"] for f in records["2026-04-02_Sub"]["flags"] if f["severity"] == "error"]
    assert any(t.startswith(f"{clone / gs.TRACK}/2026-04-02_Sub is a submodule (commit {commit[:12]}") for t in texts)
