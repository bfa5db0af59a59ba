"""`python -m pgolf rerun-seed`: one seed of a submission's own script, under torchrun, in a fresh copy."""

from __future__ import annotations

import argparse
from pathlib import Path

from pgolf.cli.types import integer, number
from pgolf.rerun.seed import SeedRun, parse_env, run_seed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--folder", required=True, type=Path, help="the record folder (script, helpers, submission.json)")
    parser.add_argument("--script", default="train_gpt.py", help="script inside the folder (default train_gpt.py)")
    parser.add_argument("--seed", required=True, type=int, help="SEED given to the script")
    parser.add_argument("--run-id", default="", help="RUN_ID given to the script (default seed<SEED>)")
    parser.add_argument("--nproc", type=integer(1), default=8, help="torchrun --nproc_per_node (default 8)")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra environment for the script; repeatable")
    parser.add_argument("--timeout-minutes", type=number(0, lo_open=True), default=None,
                        help="kill the whole process group and fail after this long")
    parser.add_argument("--out", required=True, type=Path, help="this seed's output folder")


def main(args: argparse.Namespace) -> int:
    info = run_seed(SeedRun(folder=args.folder, seed=args.seed, out=args.out, script=args.script,
                            nproc=args.nproc, run_id=args.run_id, env=parse_env(args.env),
                            timeout_minutes=args.timeout_minutes))
    print(f"seed {info['seed']}: {info['script']} finished in {info['wall_time_s']:.1f} s; "
          f"train log {info['train_log']['file']}")
    return 0
