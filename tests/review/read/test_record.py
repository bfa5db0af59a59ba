"""read/record: which stage a record without a claim is tested on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

TIE = ("from pgolf.review.judge.record import load_record; from pgolf.review.rules.examples import folder; "
       "f = folder(a_log='seed:1\\nfinal_int8_zlib_roundtrip val_loss:2.0 val_bpb:1.2000', "
       "b_log='seed:2\\ntemp_search val_loss:2.1 val_bpb:1.3000'); print(load_record(f).stage)")


def test_a_tie_between_default_stages_goes_to_the_first_log_whatever_the_hash_seed():
    # one log each: a tie; the stage must not depend on the order of a set of strings (PYTHONHASHSEED)
    seen = {subprocess.run([sys.executable, "-c", TIE], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": str(seed), "PYTHONPATH": str(ROOT)}).stdout.strip()
            for seed in range(6)}
    assert seen == {"final_int8_zlib_roundtrip"}
