"""The report's sections, the template fill, and the plots + report verbs on a small hand-built run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from test_report_tables import PATTERN, ablation

from pgolf.__main__ import main as pgolf_main
from pgolf.errors import ConfigError
from pgolf.evalspec import NAMES
from pgolf.report import markdown

TEMPLATE = Path(__file__).resolve().parents[1] / "workflow" / "report" / "report_template.md"
CONFIG = {
    "seeds": [1, 2, 3],
    "data": {"source": "default", "dir": "results/data", "vocab_size": 512},
    "train": {"gpus": 0, "hyperparameters": {"num_layers": 2}},
    "eval": {"conditions": list(NAMES), "seq_len": 256, "chunk": 64, "ttt_rank": 8,
             "ttt_lr": 0.01, "ttt_batch": 16, "ttt_draws": 1, "ttt_seed": 0},
    "claim": {"headline": "ttt", "threshold": 2.6, "alpha": 0.01, "confidence": 0.95, "note": "tiny bar"},
    "report": {"title": "Tiny", "template": str(TEMPLATE)},
    "published": None,
}


def test_fill_template_names_an_unknown_placeholder():
    with pytest.raises(ConfigError, match=r"unknown placeholder \$tabels.*\$tables"):
        markdown.fill_template("# $title\n$tabels\n", {"title": "x"}, "my.md")


def test_fill_template_collapses_blank_runs_from_empty_sections():
    text = markdown.fill_template("a\n\n$missing\n\n$noise\n\nb", {"missing": "", "noise": ""})
    assert text == "a\n\nb\n"


def test_missing_section_names_each_seed_and_reason():
    missing = pd.DataFrame({"seed": [2, 2], "condition": ["flat", "ttt"], "draw": [0, 0],
                            "path": ["r/seeds/2/eval/flat.json", "r/seeds/2/eval/ttt.json"],
                            "reason": "training did not finish (no artifact)"})
    text = markdown.missing_section(missing, expected=8)
    assert "2 of 8 evaluations are missing" in text
    assert "seed 2: training did not finish (no artifact): flat, ttt" in text
    assert markdown.missing_section(missing.iloc[0:0], 8) == ""


def test_a_partial_report_says_so_even_with_nothing_missing():
    empty = pd.DataFrame(columns=["seed", "condition", "draw", "path", "reason"])
    text = markdown.missing_section(empty, 8, "results/record", partial=True)
    assert "Partial report" in text and "Incomplete" not in text
    assert "results/record/logs/" in text


def test_published_section_puts_reproduced_mean_beside_published():
    summary = pd.DataFrame({"condition": ["ttt"], "n": [3], "mean_bpb": [1.1920], "mean_loss": [2.01]})
    published = {"source": "PR #77", "ablation": [{"condition": "ttt", "val_loss": 2.0126, "val_bpb": 1.1910}],
                 "runs": [{"name": "v0", "val_bpb": 1.1935}],
                 "claim": {"threshold": 1.195, "mean": 1.1928, "std": 0.0005, "p_value": 0.00234486}}
    claim = {"tested": True, "sentence": "mean 1.1920 < 1.195, ..."}
    text = markdown.published_section(published, summary, claim)
    assert "| doc + sliding + LoRA TTT | 2.0126 | 1.1910 | 2.0100 | 1.1920 | +0.0010 |" in text
    assert "p = 0.00234486" in text and "Reproduced: mean 1.1920" in text
    assert markdown.published_section(None, summary, claim) == ""


def build_small_run(root: Path, seeds=(1, 2, 3), expect=(1, 2, 3)) -> Path:
    ablation(root, seeds=seeds)
    res = root / "results"
    steps = [
        ["aggregate", "--seeds", *map(str, expect), "--conditions", *NAMES,
         "--eval-pattern", PATTERN.format(root=root), "--out-dir", str(res / "tables")],
        ["stats", "--runs", str(res / "tables/runs.csv"), "--threshold", "2.6", "--conditions",
         *NAMES, "--out-dir", str(res / "stats")],
        ["plots", "--runs", str(res / "tables/runs.csv"), "--positions", str(res / "tables/positions.csv"),
         "--conditions", *NAMES, "--out-dir", str(res / "plots")],
        ["report", "--config-json", json.dumps(CONFIG), "--template", str(TEMPLATE), "--tables-dir",
         str(res / "tables"), "--stats-dir", str(res / "stats"), "--plots-dir", str(res / "plots"),
         "--out", str(res / "report.md")],
    ]
    for argv in steps:
        assert pgolf_main(argv) == 0, argv[0]
    return res


def test_plots_are_png_and_identical_when_redrawn(tmp_path):
    res = build_small_run(tmp_path)
    for name in ("ablation.png", "positions.png"):
        assert (res / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    first = (res / "plots" / "ablation.png").read_bytes()
    shutil.rmtree(res / "plots")
    build_small_run(tmp_path)
    assert (res / "plots" / "ablation.png").read_bytes() == first


def test_report_holds_claim_sentence_tables_and_relative_plot_links(tmp_path):
    res = build_small_run(tmp_path)
    text = (res / "report.md").read_text()
    assert text.startswith("# Tiny\n")
    assert "one-sided t-test p = " in text and "n = 3: holds at alpha = 0.01" in text
    assert "tiny bar" in text
    assert "| flat -> doc |" in text and "95% t-interval" in text
    assert "![Ablation" in text and "(plots/ablation.png)" in text
    assert "Incomplete" not in text and "$" not in text.replace("$$", "")


def test_report_with_a_missing_seed_names_it_and_with_one_seed_says_no_test(tmp_path):
    res = build_small_run(tmp_path, seeds=(1,), expect=(1, 2))
    text = (res / "report.md").read_text()
    assert "Incomplete run: 4 of 8 evaluations are missing" in text
    assert "seed 2: evaluation did not finish: flat, doc, sliding, ttt" in text
    assert "No test was run" in text and "at least 2" in text


def _metrics(total: int) -> dict:
    cap = 16_000_000
    return {"model_params": 10, "steps": 5, "total_submission_bytes": total,
            "size_cap": {"total_bytes": total, "cap_bytes": cap, "headroom_bytes": cap - total,
                         "over_cap": total > cap}}


def test_what_ran_flags_a_seed_over_the_size_cap():
    info = {"train": {"1": _metrics(15_990_000), "2": _metrics(16_000_001)}}
    text = markdown.what_ran_section(CONFIG, info)
    assert "| 1 " in text and "10000" in text and "under" in text
    assert "OVER" in text and "-1" in text
    assert "Over the 16,000,000-byte cap** (model + counted code): seed 2;" in text


def test_what_ran_under_the_cap_has_no_warning():
    text = markdown.what_ran_section(CONFIG, {"train": {"1": _metrics(15_000_000)}})
    assert "under" in text and "Over the 16,000,000-byte cap" not in text


def test_what_ran_says_which_code_count_the_cap_used():
    lzma_run = _metrics(15_900_000)
    lzma_run["size_cap"]["code_count"] = "lzma"
    text = markdown.what_ran_section(CONFIG, {"train": {"1": lzma_run}})
    assert "Code counted toward the cap: the self-extracting lzma bundle" in text
    older = markdown.what_ran_section(CONFIG, {"train": {"1": _metrics(15_900_000)}})  # metrics before the count
    assert "Code counted toward the cap: the raw bytes of those modules" in older
