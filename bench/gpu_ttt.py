"""Evaluation side by side on one artifact: the record's own functions and pgolf's engine (bench/gpu_check.sh).

    python bench/gpu_ttt.py --artifact A.ptz --val 'DIR/fineweb_val_*.bin' --tokenizer T.model
                            [--device cuda] [--seq-len 1024] [--chunk 256] [--batch 64] [--rank 8]
                            [--conditions flat,doc,sliding,ttt] [--summary OUT.md]

Both sides score the same dequantised weights on the same tokens, in one process, one after the
other. pgolf: pgolf.evaluate.run_condition (what `pgolf eval` runs; on CUDA the record's precision,
bf16 embedding and bf16 autocast). The record (bench/record_code.py, its script imported, its GPT cast
as its main() casts it): flat is its eval_val; ttt its eval_val_ttt_lora (LoRA rank --rank, lr 0.01);
doc and sliding are that function at lr 0 with chunk = seq_len and chunk = --chunk, as the golden
files define them (the record has no scorer of its own for these two: at lr 0 it still runs the
adapters' backward and Adam steps, so its seconds there are an upper bound, not its best). A warm-up
pass of each side on the first --warm-docs documents first, so CUDA start-up and kernel selection stay out of
the seconds. ttt's bpb differs between the two by the LoRA draws (the record draws A from the global
random state, pgolf per document), doc/sliding/flat only by rounding.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import record_code  # noqa: E402  (bench/record_code.py)
from gpu_data import first_docs  # noqa: E402

from pgolf.artifact import load_model  # noqa: E402
from pgolf.data.shards import load_tokens  # noqa: E402
from pgolf.evaluate import EvalSettings, TTTSettings, run_condition  # noqa: E402
from pgolf.model import cast_like_reference  # noqa: E402
from pgolf.tokenizer import build_byte_tables, load_tokenizer  # noqa: E402


def timed(fn, device: torch.device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t0 = time.perf_counter()
    out = fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - t0, out


def calls(model, record, tokens: np.ndarray, tables, condition: str, args: argparse.Namespace) -> dict:
    """name -> a call returning (val_loss, val_bpb, scored tokens or None)."""
    settings = EvalSettings(seq_len=args.seq_len, chunk=args.chunk, ttt=TTTSettings(rank=args.rank, batch=args.batch))

    def ours():
        r = run_condition(model, tokens, tables, condition, settings)
        return r.val_loss, r.val_bpb, r.tokens

    out = {"pgolf": ours}
    if record is None:
        return out
    if condition == "flat":
        theirs = record_code.model(record, model)
        out["record"] = lambda: (*record_code.flat_eval(record, theirs, tokens, tables, args.seq_len), None)
    else:
        chunk = args.seq_len if condition == "doc" else args.chunk
        lr = 0.01 if condition == "ttt" else 0.0
        ttt = record_code.TTTEval(record, model, tokens, tables, args.seq_len, chunk, args.batch, args.rank, lr)
        out["record"] = lambda: (*ttt(), None)
    return out


SYNC_EVENTS = ("cudaStreamSynchronize", "cudaDeviceSynchronize", "cudaEventSynchronize", "cudaMemcpyAsync",
               "cudaLaunchKernel", "cuLaunchKernel", "cudaLaunchKernelExC", "aten::item", "aten::_local_scalar_dense",
               "aten::to", "aten::copy_")


def profile_ttt(model, record, tokens: np.ndarray, tables, args: argparse.Namespace, device: torch.device) -> str:
    """torch.profiler tables of one ttt pass of each side on `tokens`: host syncs and launches counted,
    and the top ops by self device time (CPU time without CUDA)."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    sort = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    docs = int((tokens == 1).sum())
    lines = [f"# TTT profile: {docs} documents, {len(tokens):,} tokens, seq {args.seq_len}, chunk {args.chunk}, "
             f"batch {args.batch}", ""]
    for name, call in calls(model, record, tokens, tables, "ttt", args).items():
        torch.manual_seed(0)
        with profile(activities=activities) as prof:
            seconds, _ = timed(call, device)
        events = prof.key_averages()
        counts = {e.key: e.count for e in events if e.key in SYNC_EVENTS}
        device_us = sum(e.self_device_time_total for e in events) if device.type == "cuda" else 0
        lines += [f"## {name}: {seconds:.2f} s under the profiler, summed self device time "
                  f"{device_us / 1e6:.2f} s", "", "| event | calls |", "|---|---|"]
        lines += [f"| {k} | {counts.get(k, 0):,} |" for k in SYNC_EVENTS]
        lines += ["", "```", events.table(sort_by=sort, row_limit=20, max_name_column_width=60), "```", ""]
        print("\n".join(lines[-(len(SYNC_EVENTS) + 8):-3]), flush=True)
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifact", required=True)
    parser.add_argument("--val", required=True)
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--seq-len", type=int, default=1024)
    parser.add_argument("--chunk", type=int, default=256)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--conditions", default="flat,doc,sliding,ttt")
    parser.add_argument("--warm-docs", type=int, default=8, help="documents of the warm-up pass")
    parser.add_argument("--summary", default=None, help="write the markdown table here")
    parser.add_argument("--profile", default=None, help="write torch.profiler tables of a ttt pass of each side here")
    parser.add_argument("--profile-docs", type=int, default=64, help="documents of the profiled ttt pass")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    model = load_model(args.artifact, device)
    if device.type == "cuda":
        cast_like_reference(model)
    tables = build_byte_tables(load_tokenizer(args.tokenizer), model.config.vocab_size, device)
    tokens = load_tokens(args.val)
    docs = int((tokens == 1).sum())
    record = record_code.load()
    print(f"{docs} documents, {len(tokens):,} tokens; record's code: {record_code.SCRIPT if record else 'absent'}")
    lines = [f"## Evaluation side by side: {docs} documents ({len(tokens):,} tokens, FineWeb's length profile), "
             f"seq {args.seq_len}, chunk {args.chunk}, batch {args.batch}, LoRA rank {args.rank}", "",
             "| condition | tokens | pgolf s | pgolf tokens/s | record s | record tokens/s | record s / pgolf s "
             "| pgolf bpb | record bpb | pgolf - record bpb |", "|---|---|---|---|---|---|---|---|---|---|"]
    warm = first_docs(tokens, args.warm_docs)
    results = {}
    for condition in args.conditions.split(","):
        for call in calls(model, record, warm, tables, condition, args).values():
            call()  # warm-up: CUDA start-up, kernel selection, the allocator
        seconds, values = {}, {}
        for name, call in calls(model, record, tokens, tables, condition, args).items():
            torch.manual_seed(0)  # the record's LoRA draws come from the global random state
            seconds[name], values[name] = timed(call, device)
        n = values["pgolf"][2]
        p_s, (_, p_bpb, _) = seconds["pgolf"], values["pgolf"]
        row = [condition, f"{n:,}", f"{p_s:.2f}", f"{n / p_s:,.0f}"]
        if "record" in values:
            r_s, r_bpb = seconds["record"], values["record"][1]
            row += [f"{r_s:.2f}", f"{n / r_s:,.0f}", f"{r_s / p_s:.2f}", f"{p_bpb:.6f}", f"{r_bpb:.6f}",
                    f"{p_bpb - r_bpb:+.2e}"]
        else:
            row += ["-", "-", "-", f"{p_bpb:.6f}", "-", "-"]
        results[condition] = {k: {"seconds": seconds[k], "val_loss": v[0], "val_bpb": v[1]} for k, v in values.items()}
        lines.append("| " + " | ".join(row) + " |")
        print(lines[-1], flush=True)
    lines.append("")
    if args.profile:
        text = profile_ttt(model, record, first_docs(tokens, args.profile_docs), tables, args, device)
        Path(args.profile).write_text(text, encoding="utf-8")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.summary:
        Path(args.summary).write_text(text, encoding="utf-8")
        Path(args.summary).with_suffix(".json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
