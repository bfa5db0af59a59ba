"""Write the train-log fixtures of tests/review/read/test_log_families.py and tests/review/judge/test_loose.py.

`python tests/data/logs/make_fixtures.py` rewrites the .txt files beside it. The logs
follow the published layout (code dump, separator, versions and nvidia-smi table,
separator, key:value lines, warm-up, steps, sizes, final lines). Their numbers are the
four published runs of record #77 as tabulated in /work/shared/reference/record-77.md;
everything else (the code dump, per-step losses) is made up. They are not the
published files.
"""

from __future__ import annotations

import math
from pathlib import Path

HERE = Path(__file__).resolve().parent

# A short stand-in for the script's source, written for these fixtures. It holds the
# traps a parser must survive: log f-strings with the same keys, and a docstring line
# at column 0 that looks like a final metric line.
CODE_DUMP = '''"""
pgolf test fixture: a stand-in train script (not the reference source).
final_int8_ttt_lora val_loss:9.9999 val_bpb:9.9999 eval_time:1ms
"""

from __future__ import annotations

import os
import time

seed = int(os.environ.get("SEED", 1337))


def log0(msg: str) -> None:
    print(msg)


def report(step: int, total: int, loss: float, ms: float) -> None:
    log0(f"step:{step}/{total} train_loss:{loss:.4f} train_time:{ms:.0f}ms step_avg:{ms / max(step, 1):.2f}ms")
    log0(f"world_size:{8} grad_accum_steps:{1}")
    log0(f"final_int8_ttt_lora val_loss:{loss:.4f} val_bpb:{loss:.4f} eval_time:{ms:.0f}ms")


if __name__ == "__main__":
    report(0, 1, 0.0, time.perf_counter())
'''

SEP = "=" * 100


def nvidia_smi(gpus: int) -> str:
    rows = [
        "+-----------------------------------------------------------------------------------------+",
        "| NVIDIA-SMI 570.211.01             Driver Version: 570.211.01     CUDA Version: 12.8     |",
        "|-----------------------------------------+------------------------+----------------------+",
        "| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |",
        "| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |",
        "|                                         |                        |               MIG M. |",
        "|=========================================+========================+======================|",
    ]
    for i in range(gpus):
        rows += [
            f"|   {i}  NVIDIA H100 80GB HBM3          On  |   00000000:{4 + i:02X}:00.0 Off |                    0 |",
            f"| N/A   {33 + i % 4}C    P0            117W /  700W |    1519MiB /  81559MiB |      0%      Default |",
            "|                                         |                        |             Disabled |",
            "+-----------------------------------------+------------------------+----------------------+",
        ]
    rows += [
        "                                                                                         ",
        "+-----------------------------------------------------------------------------------------+",
        "| Processes:                                                                              |",
        "|  GPU   GI   CI              PID   Type   Process name                        GPU Memory |",
        "|        ID   ID                                                               Usage      |",
        "|=========================================================================================|",
    ]
    rows += [f"|    {i}   N/A  N/A           {34383 + i}      C   /usr/bin/python3                       1510MiB |"
             for i in range(gpus)]
    rows.append("+-----------------------------------------------------------------------------------------+")
    return "\n".join(rows)


def train_lines(world: int, cap_s: float, steps: int, train_ms: int, seed: int = 1337,
                iterations: int = 20000) -> list[str]:
    out = [
        "val_bpb:enabled tokenizer_kind=sentencepiece tokenizer_path=./data/tokenizers/fineweb_1024_bpe.model",
        "train_loader:dataset:fineweb10B_sp1024 train_shards:80",
        "val_loader:shards pattern=./data/datasets/fineweb10B_sp1024/fineweb_val_*.bin tokens:62021632",
        "model_params:17059912",
        f"world_size:{world} grad_accum_steps:{8 // world}",
        "sdp_backends:cudnn=False flash=True mem_efficient=False math=False",
        "attention_mode:gqa num_heads:8 num_kv_heads:4",
        "tie_embeddings:True embed_lr:0.05 head_lr:0.0 matrix_lr:0.04 scalar_lr:0.04",
        f"train_batch_tokens:524288 train_seq_len:1024 iterations:{iterations} warmup_steps:20 "
        f"max_wallclock_seconds:{cap_s:.3f}",
        f"seed:{seed}",
    ]
    out += [f"warmup_step:{i}/20" for i in range(1, 21)]
    avg = train_ms / steps
    out.append(f"step:0/{iterations} val_loss:6.9357 val_bpb:4.1077 train_time:0ms step_avg:0.01ms")
    marks = list(range(1, 11)) + list(range(200, steps, 200))
    for s in marks:
        loss = 2.0 + 4.9 * math.exp(-s / 60.0) + 0.1 * math.exp(-s / 6000.0)
        ms = round(avg * s)
        out.append(f"step:{s}/{iterations} train_loss:{loss:.4f} train_time:{ms}ms step_avg:{ms / s:.2f}ms")
        if s % 1000 == 0:
            out.append(f"step:{s}/{iterations} val_loss:{loss + 0.01:.4f} val_bpb:{(loss + 0.01) * 0.5922:.4f} "
                       f"train_time:{ms + 26}ms step_avg:{(ms + 26) / s:.2f}ms")
    return out


def final_lines(steps: int, train_ms: int, model_bytes: int, total_bytes: int, flat_loss: float,
                flat_bpb: float, ttt_tag: str, ttt_loss: float, ttt_bpb: float, ttt_ms: int,
                iterations: int = 20000) -> list[str]:
    return [
        f"step:{steps}/{iterations} val_loss:2.0598 val_bpb:1.2199 train_time:{train_ms}ms "
        f"step_avg:{train_ms / steps:.2f}ms",
        f"stopping_early: wallclock_cap train_time:{train_ms}ms step:{steps}/{iterations}",
        "peak memory allocated: 10184 MiB reserved: 10624 MiB",
        "Serialized model: 67224983 bytes",
        f"Code size: {total_bytes - model_bytes} bytes",
        f"Total submission size: {67224983 + total_bytes - model_bytes} bytes",
        f"Serialized model int8+zlib: {model_bytes} bytes (payload:17178912 raw_torch:17224025 payload_ratio:3.91x)",
        f"Total submission size int8+zlib: {total_bytes} bytes",
        f"final_int8_zlib_roundtrip val_loss:{flat_loss:.4f} val_bpb:{flat_bpb:.4f} eval_time:1381ms",
        f"final_int8_zlib_roundtrip_exact val_loss:{flat_loss:.8f} val_bpb:{flat_bpb:.8f}",
        f"{ttt_tag} val_loss:{ttt_loss:.4f} val_bpb:{ttt_bpb:.4f} eval_time:{ttt_ms}ms",
    ]


def header(gpus: int) -> list[str]:
    return [CODE_DUMP.rstrip("\n"), "", SEP,
            "Running Python 3.12.13 (main, Mar 10 2026, 18:17:25) [Clang 21.1.4 ]",
            "Running PyTorch 2.10.0+cu128", "Thu Mar 19 10:17:46 2026       ", nvidia_smi(gpus), "", SEP]


# record-77.md, "The published runs": world size, cap, steps, flat-stream exact bpb, TTT loss/bpb/time.
# Train times, byte counts and the flat val_loss digits not in that table are made up
# in the published shape.
RUNS = {
    "r77_v0.txt": dict(world=8, cap=600.0, steps=13764, train_ms=600061, model=15814468, total=15872848,
                       flat_loss=2.07405347, flat_bpb=1.22837129, tag="final_ttt_lora",
                       loss=2.0153, bpb=1.1935, ms=72361),
    "r77_v1.txt": dict(world=2, cap=2400.0, steps=14171, train_ms=2400107, model=15815345, total=15863031,
                       flat_loss=2.07234577, flat_bpb=1.22735990, tag="final_ttt_lora",
                       loss=2.0139, bpb=1.1927, ms=60031),
    "r77_v2.txt": dict(world=8, cap=600.0, steps=13782, train_ms=600047, model=15807986, total=15866451,
                       flat_loss=2.07160602, flat_bpb=1.22692177, tag="final_int8_ttt_lora",
                       loss=2.0128, bpb=1.1921, ms=59874),
    "r77_v3.txt": dict(world=8, cap=600.0, steps=13703, train_ms=600032, model=15810102, total=15868567,
                       flat_loss=2.07240880, flat_bpb=1.22739739, tag="final_int8_ttt_lora",
                       loss=2.0142, bpb=1.1929, ms=60213),
}

# A made-up "previous record": three seeds of a plain int8 baseline, no TTT.
PREVIOUS = {
    f"prev_seed{seed}.txt": dict(seed=seed, steps=13780 + i, train_ms=600040 + 7 * i, model=15815000 + 911 * i,
                                 total=15873000 + 911 * i, flat_loss=2.0727 + d, flat_bpb=1.2276 + d * 0.5922)
    for i, (seed, d) in enumerate([(1337, 0.0), (42, 0.0011), (7, -0.0008)])
}


def build_run(spec: dict) -> str:
    lines = header(spec["world"]) + train_lines(spec["world"], spec["cap"], spec["steps"], spec["train_ms"])
    lines += final_lines(spec["steps"], spec["train_ms"], spec["model"], spec["total"], spec["flat_loss"],
                         spec["flat_bpb"], spec["tag"], spec["loss"], spec["bpb"], spec["ms"])
    return "\n".join(lines) + "\n"


def build_previous(spec: dict) -> str:
    lines = header(8) + train_lines(8, 600.0, spec["steps"], spec["train_ms"], seed=spec["seed"])
    lines += final_lines(spec["steps"], spec["train_ms"], spec["model"], spec["total"], spec["flat_loss"],
                         spec["flat_bpb"], "x", 0, 0, 0)[:-1]  # no TTT stage
    return "\n".join(lines) + "\n"


def build_later_record() -> str:
    """A later record's shape: int6+zstd sizes, diagnostics, sliding-window final stage with stride."""
    lines = header(8) + train_lines(8, 600.0, 6087, 600011, seed=42)
    lines += [
        "step:6087/20000 val_loss:1.9330 val_bpb:1.1448 train_time:600011ms step_avg:98.57ms",
        "stopping_early: wallclock_cap train_time:600011ms step:6087/20000",
        "swa:applying averaged 12 checkpoints",
        "DIAGNOSTIC post_swa val_loss:1.9329 val_bpb:1.1448 eval_time:2257ms",
        "Serialized model: 106178569 bytes",
        "Code size: 79975 bytes",
        "Serialized model int6+zstd: 15860481 bytes",
        "Total submission size int6+zstd: 15940456 bytes",
        "final_int6_roundtrip val_loss:1.9447 val_bpb:1.1518 eval_time:7071ms",
        "final_int6_roundtrip_exact val_loss:1.94473831 val_bpb:1.15178357",
        "final_int6_sliding_window val_loss:1.9046 val_bpb:1.1280 stride:64 eval_time:83482ms",
        "final_int6_sliding_window_exact val_loss:1.90463555 val_bpb:1.12803544",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    for name, spec in RUNS.items():
        (HERE / name).write_text(build_run(spec))
    for name, spec in PREVIOUS.items():
        (HERE / name).write_text(build_previous(spec))
    (HERE / "later_record.txt").write_text(build_later_record())
    v3 = build_run(RUNS["r77_v3.txt"])
    # killed during training: the file stops in the middle of a step line
    cut = v3.index("step:9000/20000 train_loss")
    (HERE / "truncated.txt").write_text(v3[: cut + 30])
    # training and serialisation finished, the evaluation never printed
    (HERE / "no_final.txt").write_text(v3[: v3.index("final_int8_zlib_roundtrip val_loss")])
    # cut inside the last final line: `val_bpb:1.19` must not be read as 1.19
    (HERE / "cut_final.txt").write_text(v3[: v3.rindex("val_bpb:1.1929") + len("val_bpb:1.19")])


if __name__ == "__main__":
    main()
