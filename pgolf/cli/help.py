"""What `pgolf <verb> --help` shows beyond the options: each option's default, and examples.

Help text only: no verb's behaviour is decided here. The examples are checked to parse by
tests/test_cli_help.py, so they stay true as the options change.
"""

from __future__ import annotations

import argparse

# verb -> example command lines (after `pgolf`), shown under "examples:" in its --help
EXAMPLES: dict[str, tuple[str, ...]] = {
    "prepare": (
        "pgolf prepare --out data/default                       # the embedded corpus, vocabulary 1024",
        "pgolf prepare --out data/mine --source text:my_texts   # one document per UTF-8 file",
        "pgolf prepare --source fineweb --out data              # check the record's FineWeb files",
    ),
    "train": (
        "pgolf train --out runs/s1 --seed 1 --set iterations=300 --set model_dim=64",
        "torchrun --standalone --nproc_per_node=8 -m pgolf train --out runs/s1 --seed 1",
    ),
    "eval": (
        "pgolf eval --artifact results/seeds/1/train/final_model.int8.ptz --condition ttt "
        "--val 'results/data/pgolf_val_*.bin' --tokenizer results/data/tokenizer.model --out ttt.json",
    ),
    "aggregate": (
        "pgolf aggregate --seeds 1 2 3 --conditions flat doc sliding ttt "
        "--eval-pattern 'results/seeds/{seed}/eval/{name}.json' --out-dir results/tables",
    ),
    "stats": (
        "pgolf stats --runs results/tables/runs.csv --threshold 2.33 --conditions flat doc sliding ttt "
        "--out-dir results/stats",
    ),
    "plots": (
        "pgolf plots --runs results/tables/runs.csv --positions results/tables/positions.csv "
        "--conditions flat doc sliding ttt --threshold 2.33 --out-dir results/plots",
    ),
    "report": (
        "snakemake results/report.md --cores all   # the report rule passes the config and folders",
    ),
    "check-logs": (
        "pgolf check-logs train_v0.txt train_v1.txt train_v2.txt --threshold 1.195 --out results/claims/r77",
    ),
    "check-record": (
        "pgolf check-record records/track_10min_16mb/2026-03-17_LoRA_TTT --out results/review/lora_ttt",
        "pgolf check-record records/track_10min_16mb/2026-03-19_SlidingWindowEval "
        "--previous records/track_10min_16mb/2026-03-17_NaiveBaseline --out results/review/sliding",
    ),
    "audit": (
        "pgolf audit records/track_10min_16mb --out results/audit          # a folder of record folders",
        "pgolf audit --git golf.git --out results/stream                  # every PR head of a mirror",
        "pgolf audit --git golf.git --refs 'refs/pull/*/head' --min-runs 3 --out results/stream",
    ),
    "review-pr": (
        "pgolf review-pr --git parameter-golf --pr 1514 --out review   # comment.md, review.json, report-1.html",
        "pgolf review-pr --git . --pr 1514 --base origin/main --out review --format github   # in CI",
    ),
    "check-staged": (
        "pgolf check-staged records/track_10min_16mb/2026-04-09_Mine/submission.json   # what the hook runs",
    ),
    "rerun-seed": (
        "pgolf rerun-seed --folder data/records/2026-03-19_r77 --seed 1337 --nproc 8 "
        "--out results/rerun/r77/1337",
    ),
    "rerun-check": (
        "pgolf rerun-check --name r77 --folder data/records/2026-03-19_r77 --runs-dir results/rerun/r77 "
        "--seeds 1337 42 2024 --out results/rerun/r77",
    ),
}
FOOTER = "`python -m pgolf` is the same program as `pgolf`. Manual: docs/ (mkdocs serve), or README.md."


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Each option's default after its help, unless the help already names it; the epilog as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (default is None or default is argparse.SUPPRESS or default is False or default == []
                or "default" in text.lower() or not action.option_strings):
            return text
        shown = " ".join(map(str, default)) if isinstance(default, list | tuple) else str(default)
        if f"({shown})" in text:  # the help states it already, as `(3)`
            return text
        return f"{text} (default: %(default)s)"


def epilog(verb: str) -> str:
    lines = ["examples:", *(f"  {line}" for line in EXAMPLES.get(verb, ())), "", FOOTER]
    return "\n".join(lines) if verb in EXAMPLES else FOOTER
