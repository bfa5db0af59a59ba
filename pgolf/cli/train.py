"""`python -m pgolf train`: one seed, single process or one rank of torchrun."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="YAML file of hyperparameters (reference names); record defaults if omitted")
    parser.add_argument("--seed", type=int, help="random seed (overrides the config's seed)")
    parser.add_argument("--out", required=True, help="output folder: final_model.pt, final_model.int8.ptz, "
                        "train.log, metrics.json")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override one hyperparameter, e.g. --set iterations=200 (repeatable)")


def main(args: argparse.Namespace) -> int:
    import sys

    from pgolf.config import load_config
    from pgolf.train import train

    overrides = list(args.overrides)
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    try:
        train(load_config(args.config, overrides), args.out)
    except KeyboardInterrupt:
        print(f"pgolf train: interrupted; nothing was written, and what {args.out} held before is untouched",
              file=sys.stderr)
        return 130
    return 0
