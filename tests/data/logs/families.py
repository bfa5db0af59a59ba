"""Write made-up train logs in every family and variation of review-practice.md (not published logs).

`build_log(Run(...))` returns a log's text: a stand-in code dump and an nvidia-smi table
(from make_fixtures.py), then the run as its family prints it. Every number comes from the
`Run` spec, so a test knows what the reader must find.

Families: "baseline" (March: `seed:N`, `world_size:8 grad_accum_steps:1`, int8+zlib sizes,
`final_*` stages), "int6" (March: the same header, int6+zstd-22 / int6+lzma / artifact_bytes
sizes, sliding-window stages with `stride:64`), "block" (April: a `Hyperparameters:` block
or a one-line argument dump, `train_shards:`/`val_tokens:`, `quantized_*` stages, brotli
sizes, code sizes, `total_eval_time`, `artifact_production_wallclock`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.data.logs.make_fixtures import header


@dataclass
class StageSpec:
    name: str
    bpb: float
    loss: float
    eval_ms: int | None = None
    exact: bool = True  # print an `_exact` twin (8 decimals) after a 4-decimal line
    extra: str = ""  # e.g. " stride:64"
    exact_only: bool = False  # April `legal_ttt_exact ... eval_time:Nms`: the `_exact` line alone, with the time


@dataclass
class Run:
    family: str  # baseline, int6, block
    seed: int
    stages: list[StageSpec]
    world_size: int = 8
    cap_s: float = 600.0
    steps: int = 7000
    iterations: int = 20000
    train_ms: float = 599_900
    model_bytes: int = 15_800_000
    code_bytes: int = 50_000
    code_compressed: int | None = None  # print `Code size (compressed)` (counted instead of the raw size)
    size_format: str | None = None  # default per family
    total_line: bool = True  # print `Total submission size <fmt>: N bytes`
    artifact_bytes_line: bool = False  # int6 variant: `artifact_bytes:N` instead of `Serialized model`
    artifact_mb: bool = False  # `artifact:15.92MB`
    seed_style: str = "line"  # line, block, dump
    stop_style: str = "early"  # early (`stopping_early: ...`) or bare (`train_time: Nms step:...`)
    timestamps: bool = False  # a Unix timestamp before every line after the header
    train_shards: int = 80
    val_tokens: int | None = None  # default per family
    total_eval_s: float | None = None
    artifact_production_s: float | None = None
    crlf: bool = False
    step_style: str = "prefixed"  # prefixed (`step:N/M ...`) or bare (April: `N/M val_loss: X val_bpb: Y`)
    code_label: str = ""  # " (uncompressed)": `Code size (uncompressed): N bytes`
    cut_before_stages: bool = False  # the run died after training: no stage line
    extra_lines: list[str] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        code = self.code_compressed if self.code_compressed is not None else self.code_bytes
        return self.model_bytes + code


FORMATS = {"baseline": "int8+zlib", "int6": "int6+zstd-22", "block": "quantized+brotli"}
VAL_TOKENS = {"baseline": 62_021_632, "int6": 62_021_632, "block": 40_540_160}  # sp1024, sp1024, sp8192


def _seed_lines(r: Run) -> list[str]:
    val_tokens = r.val_tokens if r.val_tokens is not None else VAL_TOKENS[r.family]
    facts = {"seed": r.seed, "world_size": r.world_size, "max_wallclock_seconds": f"{r.cap_s:.1f}",
             "iterations": r.iterations, "train_batch_tokens": 786432, "train_seq_len": 2048}
    if r.seed_style == "block":
        keys = {"adam_eps": "1e-08", **facts, "rank": 0, "ttt_enabled": True}
        return (["Hyperparameters:"] + [f"  {k}: {v}" for k, v in sorted(keys.items())]
                + [f"train_shards: {r.train_shards}", f"val_tokens: {val_tokens}"])
    if r.seed_style == "dump":
        return [" ".join(f"{k}={v}" for k, v in facts.items()) + " tie_embeddings=True",
                f"train_shards: {r.train_shards}", f"val_tokens: {val_tokens}"]
    return [f"train_loader:dataset:fineweb10B_sp1024 train_shards:{r.train_shards}",
            f"val_loader:shards pattern=./data/datasets/fineweb10B_sp1024/fineweb_val_*.bin tokens:{val_tokens}",
            "model_params:17059912", f"world_size:{r.world_size} grad_accum_steps:{8 // r.world_size}",
            f"train_batch_tokens:524288 train_seq_len:1024 iterations:{r.iterations} warmup_steps:20 "
            f"max_wallclock_seconds:{r.cap_s:.3f}", f"seed:{r.seed}"]


def _train_lines(r: Run) -> list[str]:
    avg = r.train_ms / r.steps
    out = [f"warmup_step:{i}/20" for i in range(1, 21)]
    if r.step_style == "bare":  # minutes and tokens per second, no `step:` and spaces after the colons
        out.append(f"0/{r.iterations} val_loss: 9.0090 val_bpb: 3.4877")
        out += [f"{s}/{r.iterations} train_loss: {2.8 + 4.0 / s:.4f} train_time: {avg * s / 60000:.1f}m "
                f"tok/s: 7691255" for s in range(500, r.steps, 500)]
        out.append(f"{r.steps}/{r.iterations} val_loss: 2.8119 val_bpb: 1.0886")
        return out + _stop_lines(r)
    out.append(f"step:0/{r.iterations} val_loss:6.9357 val_bpb:4.1077 train_time:0ms step_avg:0.01ms")
    for s in range(500, r.steps, 500):
        out.append(f"step:{s}/{r.iterations} train_loss:{2.0 + 4.0 / s:.4f} train_time:{round(avg * s)}ms "
                   f"step_avg:{avg:.2f}ms")
    out.append(f"step:{r.steps}/{r.iterations} val_loss:2.0598 val_bpb:1.2199 train_time:{r.train_ms:.0f}ms "
               f"step_avg:{avg:.2f}ms")
    return out + _stop_lines(r)


def _stop_lines(r: Run) -> list[str]:
    out = []
    if r.stop_style == "early":
        out.append(f"stopping_early: wallclock_cap train_time: {r.train_ms:.0f}ms step: {r.steps}/{r.iterations}"
                   if r.family == "block" else
                   f"stopping_early: wallclock_cap train_time:{r.train_ms:.0f}ms step:{r.steps}/{r.iterations}")
    else:
        out.append(f"train_time: {r.train_ms:.0f}ms step:{r.steps}/{r.iterations}")
    out.append("peak memory allocated: 10184 MiB reserved: 10624 MiB")
    return out


def _size_lines(r: Run) -> list[str]:
    fmt = r.size_format or FORMATS[r.family]
    out = ["Serialized model: 67224983 bytes"]  # the raw torch.save size: never the artifact
    if r.artifact_bytes_line:
        out.append(f"artifact_bytes:{r.model_bytes}")
    else:
        out.append(f"Serialized model {fmt}: {r.model_bytes} bytes (payload:17178912 payload_ratio:3.91x)")
    out.append(f"Code size{r.code_label}: {r.code_bytes} bytes")
    if r.code_compressed is not None:
        out.append(f"Code size (compressed): {r.code_compressed} bytes")
    if r.total_line:
        out.append(f"Total submission size {fmt}: {r.total_bytes} bytes")
    if r.artifact_mb:
        out.append(f"artifact:{r.total_bytes / 1e6:.2f}MB")
    if r.artifact_production_s is not None:
        out.append(f"artifact_production_wallclock: {r.artifact_production_s:.3f}s (must be < 600.0)")
    return out


def _stage_lines(r: Run) -> list[str]:
    out = []
    for s in r.stages:
        t = f" eval_time:{s.eval_ms}ms" if s.eval_ms is not None else ""
        if s.exact_only:
            out.append(f"{s.name}_exact val_loss:{s.loss:.8f} val_bpb:{s.bpb:.8f}{s.extra}{t}")
            continue
        if r.family == "block":  # April logs print 8 decimals on the stage line itself
            out.append(f"{s.name} val_loss:{s.loss:.8f} val_bpb:{s.bpb:.8f}{s.extra}{t}")
            continue
        out.append(f"{s.name} val_loss:{s.loss:.4f} val_bpb:{s.bpb:.4f}{s.extra}{t}")
        if s.exact:
            out.append(f"{s.name}_exact val_loss:{s.loss:.8f} val_bpb:{s.bpb:.8f}")
    if r.total_eval_s is not None:
        out.append(f"total_eval_time:{r.total_eval_s:.1f}s")
    return out


def build_log(r: Run) -> str:
    body = _seed_lines(r) + _train_lines(r) + _size_lines(r) + r.extra_lines
    if not r.cut_before_stages:
        body += _stage_lines(r)
    if r.timestamps:
        body = [f"{1742380000 + i}.{i % 1000:03d} {line}" for i, line in enumerate(body)]
    text = "\n".join(header(r.world_size) + body) + "\n"
    return text.replace("\n", "\r\n") if r.crlf else text
