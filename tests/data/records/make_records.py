"""Write a small made-up leaderboard of record folders (not published ones) for the reviewer tests.

`write_leaderboard(root)` writes every folder of RECORDS under `root` and returns root.
`python tests/data/records/make_records.py DIR` writes them to DIR to look at. Each folder
holds a README.md, a train_gpt.py, a requirements.txt, usually a submission.json in one of
the shapes of review-practice.md, and train logs named as the leaderboard names them
(`train.log`, `train_seed42.log`, `train_v0.txt`, `logs/*.txt`, `*_log_<seed>.txt`,
`train_seed42_rerun_*.log`), some beside JSON sidecars. Each folder holds one planted
problem, named in its RECORDS entry, that the tests expect flagged.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: the repository root on the path, for `tests.`
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.data.logs.families import VAL_TOKENS, Run, StageSpec, build_log  # noqa: E402

STANDARD_BYTES = 151_080_000  # the validation split's bytes (pgolf.review.read.bytecount)


def ratio_for(tokens: int, val_bytes: float = STANDARD_BYTES) -> float:
    """bpb / val_loss of a full pass over `tokens` tokens holding `val_bytes` bytes."""
    return tokens / (math.log(2) * val_bytes)


SP1024 = 0.5922  # bpb / val_loss of the sp1024 split (62,021,632 tokens)
SP8192 = ratio_for(40_540_160)  # the sp8192 split, the April family's default


def _loss(bpb: float, ratio: float) -> float:
    return round(bpb / ratio, 8)


def baseline(seed: int, bpb: float, **kw: Any) -> Run:
    """March baseline family: flat int8+zlib round trip, then a TTT stage under one of its two spellings."""
    flat = bpb + 0.035
    stages = [StageSpec("final_int8_zlib_roundtrip", flat, _loss(flat, SP1024), 1381),
              StageSpec(kw.pop("ttt_name", "final_int8_ttt_lora"), bpb, _loss(bpb, SP1024), 60213, exact=False)]
    return Run("baseline", seed, stages, steps=13700, **kw)


def int6(seed: int, bpb: float, **kw: Any) -> Run:
    """March int6 family: round trip, then the sliding window with stride 64 (the claimed stage)."""
    rt = bpb + 0.024
    stages = [StageSpec("final_int6_roundtrip", rt, _loss(rt, SP1024), 7071),
              StageSpec("final_int6_sliding_window", bpb, _loss(bpb, SP1024), 83482, extra=" stride:64")]
    if kw.pop("relabeled", False):  # a trailing final_* line that carries another condition's score
        stages.append(StageSpec("final_int8_zlib_roundtrip", rt, _loss(rt, SP1024), 7071))
    return Run("int6", seed, stages, steps=6087, **kw)


def block(seed: int, bpb: float, **kw: Any) -> Run:
    """April family: diagnostics, quantized, sliding, then phased TTT (the claimed stage). Losses follow from the
    split's tokens (sp8192 unless `val_tokens` says otherwise) and `val_bytes` (a miscount: other bytes)."""
    ratio = ratio_for(kw.get("val_tokens") or VAL_TOKENS["block"], kw.pop("val_bytes", STANDARD_BYTES))
    stages = [StageSpec("diagnostic pre-quantization post-ema", bpb + 0.003, _loss(bpb + 0.003, ratio), 18334),
              StageSpec("diagnostic quantized", bpb + 0.014, _loss(bpb + 0.014, ratio), 10342),
              StageSpec("quantized_sliding_window", bpb + 0.002, _loss(bpb + 0.002, ratio), 95000),
              StageSpec("quantized_ttt_phased", bpb, _loss(bpb, ratio), 401234)]
    kw.setdefault("seed_style", "block")
    kw.setdefault("total_eval_s", 525.0)
    return Run("block", seed, stages, steps=4703, train_ms=kw.pop("train_ms", 596_137), **kw)


def _per_seed(runs: dict[str, Run], stage: str = "quantized_ttt_phased") -> dict[str, Any]:
    out = {}
    for r in runs.values():
        s = next(s for s in r.stages if s.name == stage)
        out[str(r.seed)] = {"val_bpb": round(s.bpb, 8), "val_loss": s.loss, "artifact_bytes": r.total_bytes,
                            "steps": r.steps}
    return out


def _mean(values: list[float], digits: int) -> float:
    return round(sum(values) / len(values), digits)


# name -> (submission.json or None, {log path: Run}, what is planted)
RECORDS: dict[str, tuple[dict[str, Any] | None, dict[str, Run], str]] = {}


def _add(name: str, submission: dict[str, Any] | None, runs: dict[str, Run], planted: str) -> None:
    RECORDS[name] = (submission, runs, planted)


_r = {"train.log": baseline(1337, 1.2244, ttt_name="final_ttt_lora", stop_style="bare", train_ms=588_136)}
_add("2026-03-17_Baseline", {"val_bpb": 1.2244, "val_loss": _loss(1.2244, SP1024), "bytes_total": 15_850_000,
                             "bytes_code": 50_000, "date": "2026-03-17"}, _r, "one run only")

_SL = {1337: 1.1632, 42: 1.1625, 7: 1.1641}
_r = {f"train_seed{s}.log": int6(s, b, timestamps=True, relabeled=True, size_format="int6+lzma" if s == 7 else None,
                                 artifact_bytes_line=s == 42) for s, b in _SL.items()}
_add("2026-03-19_SlidingInt6", {"mean_val_bpb": _mean(list(_SL.values()), 4), "date": "2026-03-19T08:00:00Z",
                                "seed_results": {str(s): {"val_bpb": b} for s, b in _SL.items()}},
     _r, "timestamps, three size formats, artifact_bytes line, a last final_* line that is not the claim")

_R77 = [1.1935, 1.1927, 1.1921, 1.1929]
_r = {f"train_v{i}.txt": baseline(1337, b, world_size=2 if i == 1 else 8, cap_s=2400.0 if i == 1 else 600.0,
                                  train_ms=2_400_107 if i == 1 else 600_047, crlf=i == 3,
                                  ttt_name="final_ttt_lora" if i < 2 else "final_int8_ttt_lora")
      for i, b in enumerate(_R77)}
_add("2026-03-20_R77Style", {"val_bpb": 1.1928, "val_bpb_std": 0.0005, "p_value": 0.00234486, "bytes_total": 15_868_567,
                             "date": "2026-03-20"}, _r, "world size 2 with a 2400 s cap; one seed for all runs")

_ST = {1: 1.1234, 2: 1.1240, 3: 1.1229}
_r = {f"logs/run{s}.txt": int6(s, b, seed_style="dump", artifact_mb=True) for s, b in _ST.items()}
_add("2026-03-25_StaleClaim", {"val_bpb": 1.1190, "val_loss": 1.8895, "date": "2026-03-25"}, _r,
     "claimed score no log shows")

_PREV = {1337: 1.0731, 42: 1.0729, 2024: 1.0740}
_r = {f"train_seed{s}.log": block(s, b) for s, b in _PREV.items()}
_add("2026-04-01_Prev", {"val_bpb": _mean(list(_PREV.values()), 5), "seeds": list(_PREV), "seed_scores": list(_PREV.values()),
                         "bytes_code": 50_000, "date": "2026-04-01"}, _r, "seeds + seed_scores lists")

_HP = {1337: 1.0712, 42: 1.0705, 2024: 1.0718}
_r = {f"phased_log_{s}.txt": block(s, b, code_compressed=21_000) for s, b in _HP.items()}
_r["train_seed42_rerun_1.log"] = block(42, 1.0731, code_compressed=21_000)
_add("2026-04-05_HParamBlock", {"val_bpb": _mean(list(_HP.values()), 8), "val_loss": _mean([_loss(b, SP8192) for b in _HP.values()], 8),
                                "seeds": _per_seed({k: v for k, v in _r.items() if "rerun" not in k}),
                                "val_bpb_std": 0.00065, "p_value": 0.0065, "base_pr": 1855,
                                "comparison_baseline_pr": 1855, "date": "2026-04-05"}, _r,
     "a rerun log of seed 42 not claimed; JSON sidecars")

_SD = {1337: 1.0709, 42: 1.0706, 2024: 1.0711}
_r = {f"train_seed{s}.log": block(s, b, seed_style="dump") for s, b in _SD.items()}
_add("2026-04-06_SameDay", {"val_bpb": _mean(list(_SD.values()), 5), "date": "2026-04-06",
                            "seed_results": _per_seed(_r)}, _r, "same date as a better record")

_SM = {0: 1.0701, 1: 1.0697, 2: 1.0703}
_r = {f"train_seed{s}.log": block(1337 if s == 0 else s, b) for s, b in _SM.items()}
_add("2026-04-06_SeedMismatch", {"val_bpb": _mean(list(_SM.values()), 5), "date": "2026-04-06",
                                 "seed_results": {str(s): {"val_bpb": b} for s, b in _SM.items()}}, _r,
     "train_seed0.log prints seed 1337")

_OC = {1337: 1.0694, 42: 1.0690, 2024: 1.0699}
_r = {f"train_seed{s}.log": block(s, b, model_bytes=15_980_000, code_bytes=45_000, total_line=False)
      for s, b in _OC.items()}
_add("2026-04-07_OverCap", {"val_bpb": _mean(list(_OC.values()), 5), "bytes_total": 15_980_000, "date": "2026-04-07",
                            "seed_results": {str(s): {"val_bpb": b, "artifact_bytes": 15_980_000}
                                             for s, b in _OC.items()}}, _r, "artifact over the cap once code is counted")

_LG = {1337: 1.0688, 42: 1.0684, 2024: 1.0689}
_r = {f"train_seed{s}.log": block(s, b, train_ms=600_061 if s == 42 else 599_700,
                                  artifact_production_s=825.352 if s == 1337 else None,
                                  total_eval_s=612.3 if s == 2024 else 525.0,
                                  train_shards=40 if s == 2024 else 80) for s, b in _LG.items()}
_add("2026-04-08_LateGPTQ", {"val_bpb": _mean(list(_LG.values()), 5), "date": "2026-04-08",
                             "seed_results": _per_seed(_r)}, _r,
     "artifact production past the cap; 61 ms overrun; eval over 600 s; 40 train shards")

_NS = [1.0801, 1.0795, 1.0810]
_r = {f"train_v{i}.txt": block(100 + i, b, seed_style="line") for i, b in enumerate(_NS)}
_r["train_v3.txt"] = replace(block(103, 1.08), cut_before_stages=True)
_add("2026-04-09_NoSubmission", None, _r, "no submission.json; one log without a stage")

_SE = {1: 1.0671, 2: 1.0680, 3: 1.0675, 4: 1.0702, 5: 1.0699}
_r = {f"train_seed{s}.log": block(s, b) for s, b in _SE.items()}
_add("2026-04-10_Selection", {"val_bpb": _mean([_SE[1], _SE[2], _SE[3]], 5), "date": "2026-04-10",
                              "seed_results": _per_seed({k: v for k, v in _r.items() if v.seed <= 3})}, _r,
     "five logs, three claimed")


def write_record(root: Path, name: str) -> Path:
    submission, runs, planted = RECORDS[name]
    folder = root / name
    for rel, run in runs.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(build_log(run).encode())
    if submission is not None:
        (folder / "submission.json").write_text(json.dumps({"name": name, **submission}, indent=2))
    quoted = "Beats the previous record: p=0.0065 (one-sided Welch, 3 seeds).\n" if "HParam" in name else ""
    (folder / "README.md").write_text(f"# {name}\n\nMade-up record for pgolf's tests. Planted: {planted}.\n"
                                      f"val_bpb:9.9999 is not a log line.\n{quoted}")
    (folder / "requirements.txt").write_text("torch\nsentencepiece\n")
    (folder / "train_gpt.py").write_text("print('stand-in')\n")
    if name == "2026-04-05_HParamBlock":
        for rel, run in runs.items():
            (folder / f"results_seed{run.seed}_{Path(rel).stem}.json").write_text(json.dumps({"seed": run.seed}))
    return folder


def write_leaderboard(root: Path, names: list[str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name in names or RECORDS:
        write_record(root, name)
    return root


if __name__ == "__main__":
    write_leaderboard(Path(sys.argv[1] if len(sys.argv) > 1 else "records"))
