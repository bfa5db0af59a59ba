"""The GPU check's tables (bench/gpu_check.sh), read from the runs' own output.

    python bench/gpu_report.py train --record REC.log --pgolf PG.log [--drift REC_B.log] --steps 100
                                     --summary OUT.md [--set key=value ...] [--peak-tflops 989]
    python bench/gpu_report.py cli --json TTT.json --summary OUT.md

`train` reads the train_loss lines both scripts print (`step:N/T train_loss:X train_time:Tms ...`):
ms/step is the training time between step 10 and the last step over the steps between (compilation,
warm-up and the first steps' host syncs left out), tokens/s and MFU follow from it with
bench/train_throughput.py's FLOP count (6 x parameters + 12 x layers x model_dim x seq_len per token)
over the card's bf16 dense peak (data sheet: 989 TFLOP/s for an H100/H200 SXM). Then the losses at the
logged steps side by side; with --drift, the second record run's, whose distance from the first bounds
what bf16 rounding alone moves. `--set` names the model when it is not the record's (smoke runs).
`cli` adds `pgolf eval`'s result JSON (the product's path) to the evaluation table.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from train_throughput import PEAK_TFLOPS, flops_per_token  # noqa: E402  (bench/train_throughput.py)

from pgolf.config import load_config  # noqa: E402

STEP = re.compile(r"^step:(\d+)/(\d+) train_loss:([-\d.naninf]+) train_time:([\d.]+)ms")
PARAMS = re.compile(r"^model_params:(\d+)")
BATCH = re.compile(r"^train_batch_tokens:(\d+) train_seq_len:(\d+)")


@dataclass
class TrainLog:
    """What one training run printed: losses and training times by step, parameters, batch."""

    path: Path
    loss: dict[int, float] = field(default_factory=dict)
    time_ms: dict[int, float] = field(default_factory=dict)
    params: int | None = None
    batch_tokens: int | None = None

    @classmethod
    def read(cls, path: str | None) -> TrainLog | None:
        if not path or not Path(path).is_file():
            return None
        log = cls(Path(path))
        for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
            if m := STEP.match(line):
                log.loss[int(m[1])] = float(m[3])
                log.time_ms[int(m[1])] = float(m[4])
            elif m := PARAMS.match(line):
                log.params = int(m[1])
            elif m := BATCH.match(line):
                log.batch_tokens = int(m[1])
        return log if log.loss else None

    def ms_per_step(self) -> float | None:
        """Training ms per step after step 10 (the whole run when it is shorter)."""
        last = max(self.time_ms)
        first = 10 if last > 10 and 10 in self.time_ms else 0
        base = self.time_ms.get(first, 0.0)
        return (self.time_ms[last] - base) / (last - first) if last > first else None


def peak_tflops(given: float | None) -> tuple[float | None, str]:
    if given:
        return given, "given"
    try:
        import torch

        if torch.cuda.is_available():
            name = torch.cuda.get_device_name(0)
            for key, value in PEAK_TFLOPS.items():
                if key in name:
                    return value, f"{name} data sheet, bf16 dense"
    except ImportError:
        pass
    return None, "no CUDA card"


def speed_rows(runs: dict[str, TrainLog], flops: float, peak: float | None) -> list[str]:
    rows = ["| run | ms/step (after step 10) | tokens/s | MFU | train_time at the last step |", "|---|---|---|---|---|"]
    for name, log in runs.items():
        ms = log.ms_per_step()
        if ms is None or not log.batch_tokens:
            rows.append(f"| {name} | - | - | - | - |")
            continue
        tps = log.batch_tokens / (ms / 1000.0)
        mfu = f"{100 * flops * tps / (peak * 1e12):.1f}%" if peak else "-"
        rows.append(f"| {name} | {ms:.1f} | {tps:,.0f} | {mfu} | {max(log.time_ms.values()) / 1000:.1f} s |")
    return rows


def loss_rows(rec: TrainLog | None, pg: TrainLog | None, drift: TrainLog | None) -> tuple[list[str], str]:
    steps = sorted(set(rec.loss if rec else {}) | set(pg.loss if pg else {}))
    rows = ["| step | record | pgolf | pgolf - record | record B - record A (drift) |", "|---|---|---|---|---|"]
    gaps, drifts = [], []

    def cell(log: TrainLog | None, s: int) -> str:
        return f"{log.loss[s]:.4f}" if log and s in log.loss else "-"

    for s in steps:
        gap = pg.loss[s] - rec.loss[s] if rec and pg and s in rec.loss and s in pg.loss else None
        dr = drift.loss[s] - rec.loss[s] if rec and drift and s in rec.loss and s in drift.loss else None
        gaps += [abs(gap)] if gap is not None else []
        drifts += [abs(dr)] if dr is not None else []
        rows.append(f"| {s} | {cell(rec, s)} | {cell(pg, s)} | {'-' if gap is None else f'{gap:+.4f}'} | "
                    f"{'-' if dr is None else f'{dr:+.4f}'} |")
    verdict = ""
    if gaps and drifts:
        bound = max(drifts)
        verdict = (f"max |pgolf - record| {max(gaps):.4f} against the drift bound max |B - A| {bound:.4f} "
                   f"(logs print 4 decimals): {'WITHIN' if max(gaps) <= max(bound, 1e-4) else 'OUTSIDE'} the drift")
    elif gaps:
        verdict = f"max |pgolf - record| {max(gaps):.4f} (no drift run to compare with)"
    return rows, verdict


def train_report(args: argparse.Namespace) -> list[str]:
    hp = load_config(None, args.overrides)
    rec, pg, drift = TrainLog.read(args.record), TrainLog.read(args.pgolf), TrainLog.read(args.drift)
    params = next((log.params for log in (rec, pg) if log and log.params), None)
    peak, peak_note = peak_tflops(args.peak_tflops)
    runs = {name: log for name, log in (("record (its script)", rec), ("pgolf train", pg), ("record B (drift run; ran beside other parts: not a timing)", drift)) if log}
    lines = [f"## Training side by side: {hp.num_layers}x{hp.model_dim}, {hp.train_batch_tokens:,} tokens a step, "
             f"seq {hp.train_seq_len}, {args.steps} steps", ""]
    if not runs:
        return lines + ["No training log had a train_loss line.", ""]
    flops = flops_per_token(hp, params or 0)
    lines += [f"FLOPs per token {flops / 1e6:.1f} M ({params or 0:,} parameters); peak "
              f"{f'{peak:.0f} TFLOP/s ({peak_note})' if peak else f'unknown ({peak_note})'}", ""]
    lines += speed_rows(runs, flops, peak) + [""]
    if rec and pg and rec.ms_per_step() and pg.ms_per_step():
        lines += [f"pgolf / record step time: {pg.ms_per_step() / rec.ms_per_step():.3f}", ""]
    rows, verdict = loss_rows(rec, pg, drift)
    return lines + rows + ["", verdict, ""]


def cli_report(args: argparse.Namespace) -> list[str]:
    path = Path(args.json)
    if not path.is_file():
        return [f"`pgolf eval` CLI: no result ({path} missing)", ""]
    r = json.loads(path.read_text(encoding="utf-8"))
    return [f"`pgolf eval --condition {r.get('condition', '?')}` (CLI, its own process, no warm-up pass): val_bpb {r['val_bpb']:.6f}, "
            f"{r['tokens']:,} tokens in {r['seconds']:.2f} s ({r['tokens'] / r['seconds']:,.0f} tokens/s)", ""]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    t = sub.add_parser("train")
    t.add_argument("--record")
    t.add_argument("--pgolf")
    t.add_argument("--drift")
    t.add_argument("--steps", type=int, default=100)
    t.add_argument("--peak-tflops", type=float, default=None)
    t.add_argument("--set", dest="overrides", action="append", default=[])
    t.add_argument("--summary", required=True)
    c = sub.add_parser("cli")
    c.add_argument("--json", required=True)
    c.add_argument("--summary", required=True)
    args = parser.parse_args()
    lines = train_report(args) if args.what == "train" else cli_report(args)
    text = "\n".join(lines) + "\n"
    summary = Path(args.summary)
    if args.what == "cli" and summary.is_file():
        text = summary.read_text(encoding="utf-8") + text
    summary.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
