"""The code counted toward the size cap: a self-extracting lzma bundle that really runs pgolf."""

from __future__ import annotations

import base64
import lzma
import subprocess
import sys

from pgolf import size


def test_the_counted_bundle_runs_the_train_and_eval_verbs_without_any_installed_package(tmp_path):
    code = size.code_size()
    script = tmp_path / "submission.py"
    script.write_bytes(size.bundle_script(code.files))
    assert script.stat().st_size == code.bytes < code.raw_bytes
    for verb, needle in (("eval", "--ttt-seed"), ("train", "--set")):
        # -S: no site-packages, so pgolf can only come from the bundle (argument parsing needs no torch)
        proc = subprocess.run([sys.executable, "-S", str(script), verb, "--help"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert f"pgolf {verb}" in proc.stdout and needle in proc.stdout


def test_the_bundle_holds_every_counted_file_and_is_deterministic():
    code = size.code_size()
    script = size.bundle_script(code.files)
    assert script == size.bundle_script(list(reversed(code.files)))
    packed = script.split(b'b85decode("')[1].split(b'")')[0]
    program = lzma.decompress(base64.b85decode(packed), format=lzma.FORMAT_RAW,
                              filters=[{"id": lzma.FILTER_LZMA2}]).decode()
    for f in code.files:
        assert repr(str(f.relative_to(size._ROOT.parent))) in program
    assert "'pgolf/stats.py'" not in program  # not imported by training or evaluation
