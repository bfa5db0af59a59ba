"""The int8+zlib artifact (`int8_clean_per_row_v1`), loaded safely, and the model read back from it.

The format is the reference's, byte for byte in structure, so artifacts move both ways
between pgolf and the record's script. Loading trusts nothing: zlib output is bounded,
unpickling is `torch.load(weights_only=True)` (plain tensors and containers, never code),
and anything that is not a state dict or this format is an ArtifactError.
"""

from __future__ import annotations

import io
import os
import pickle
import re
import zlib
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from pgolf import atomic
from pgolf.config import MAX_PARAMETERS
from pgolf.errors import ArtifactError
from pgolf.model import GPT, ModelConfig, is_control_tensor

QUANT_FORMAT = "int8_clean_per_row_v1"
KEEP_FLOAT_MAX_NUMEL = 65_536
KEEP_FLOAT_STORE_DTYPE = torch.float16
PER_ROW_SCALE_DTYPE = torch.float16
CLIP_PERCENTILE = 99.99984
CLIP_Q = CLIP_PERCENTILE / 100.0
ZLIB_LEVEL = 9
DEFAULT_MAX_DECOMPRESSED_BYTES = 1 << 28  # the record's payload is ~17 MB; 256 MiB leaves room, stops bombs
DECOMPRESS_PIECE = 1 << 20
_FLOAT_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16,
                 "float64": torch.float64}
_REQUIRED_KEYS = ("quantized", "scales", "dtypes", "passthrough")


def _nbytes(t: Tensor) -> int:
    return int(t.numel()) * int(t.element_size())


def _keep_float(name: str, t: Tensor, orig_dtypes: dict[str, str]) -> Tensor:
    """Small float tensor: control tensors stay float32, others float16 (original dtype noted)."""
    if is_control_tensor(name):
        return t.float().contiguous()
    if t.dtype in {torch.float32, torch.bfloat16}:
        orig_dtypes[name] = str(t.dtype).removeprefix("torch.")
        return t.to(dtype=KEEP_FLOAT_STORE_DTYPE).contiguous()
    return t


def quantize_float_tensor(t: Tensor) -> tuple[Tensor, Tensor]:
    """int8 values and scale(s): per row for matrices (float16 scales), one float32 scale otherwise."""
    t32 = t.float()
    if t32.ndim == 2:
        if t32.numel():
            clip = torch.quantile(t32.abs(), CLIP_Q, dim=1)
        else:
            clip = torch.empty((t32.shape[0],), dtype=torch.float32)
        clipped = torch.maximum(torch.minimum(t32, clip[:, None]), -clip[:, None])
        scale = (clip / 127.0).clamp_min(1.0 / 127.0)
        q = torch.clamp(torch.round(clipped / scale[:, None]), -127, 127).to(torch.int8).contiguous()
        return q, scale.to(dtype=PER_ROW_SCALE_DTYPE).contiguous()
    clip_abs = float(torch.quantile(t32.abs().flatten(), CLIP_Q).item()) if t32.numel() else 0.0
    scale = torch.tensor(clip_abs / 127.0 if clip_abs > 0 else 1.0, dtype=torch.float32)
    q = torch.clamp(torch.round(torch.clamp(t32, -clip_abs, clip_abs) / scale), -127, 127)
    return q.to(torch.int8).contiguous(), scale


def quantize_state_dict_int8(state_dict: dict[str, Tensor]) -> tuple[dict[str, Any], dict[str, int]]:
    """The reference's export object and its byte statistics (payload counts tensor bytes only)."""
    quantized: dict[str, Tensor] = {}
    scales: dict[str, Tensor] = {}
    dtypes: dict[str, str] = {}
    passthrough: dict[str, Tensor] = {}
    orig_dtypes: dict[str, str] = {}
    qmeta: dict[str, dict[str, object]] = {}
    stats = dict.fromkeys(("param_count", "num_tensors", "num_float_tensors", "num_nonfloat_tensors",
                           "baseline_tensor_bytes", "int8_payload_bytes"), 0)
    for name, tensor in state_dict.items():
        t = tensor.detach().to("cpu").contiguous()
        stats["param_count"] += int(t.numel())
        stats["num_tensors"] += 1
        stats["baseline_tensor_bytes"] += _nbytes(t)
        if not t.is_floating_point():
            stats["num_nonfloat_tensors"] += 1
            passthrough[name] = t
            stats["int8_payload_bytes"] += _nbytes(t)
            continue
        if t.numel() <= KEEP_FLOAT_MAX_NUMEL:
            kept = _keep_float(name, t, orig_dtypes)
            passthrough[name] = kept
            stats["int8_payload_bytes"] += _nbytes(kept)
            continue
        stats["num_float_tensors"] += 1
        q, s = quantize_float_tensor(t)
        if s.ndim > 0:
            qmeta[name] = {"scheme": "per_row", "axis": 0}
        quantized[name] = q
        scales[name] = s
        dtypes[name] = str(t.dtype).removeprefix("torch.")
        stats["int8_payload_bytes"] += _nbytes(q) + _nbytes(s)
    obj: dict[str, Any] = {"__quant_format__": QUANT_FORMAT, "quantized": quantized, "scales": scales,
                           "dtypes": dtypes, "passthrough": passthrough}
    if qmeta:
        obj["qmeta"] = qmeta
    if orig_dtypes:
        obj["passthrough_orig_dtypes"] = orig_dtypes
    return obj, stats


def _dtype(name: object, where: str) -> torch.dtype:
    if not isinstance(name, str) or name not in _FLOAT_DTYPES:
        raise ArtifactError(f"{where}: dtype {name!r} is not a float dtype this format uses")
    return _FLOAT_DTYPES[name]


def dequantize_state_dict_int8(obj: dict[str, Any], where: str = "artifact") -> dict[str, Tensor]:
    """Float tensors back from the export object (reference semantics), validating its structure."""
    _check_format(obj, where)
    for part in ("quantized", "scales", "passthrough"):
        check_tensor_sizes(obj[part], where)
    out: dict[str, Tensor] = {}
    qmeta = obj.get("qmeta", {}) or {}
    orig_dtypes = obj.get("passthrough_orig_dtypes", {}) or {}
    for name, q in obj["quantized"].items():
        if name not in obj["scales"] or name not in obj["dtypes"]:
            raise ArtifactError(f"{where}: quantized tensor {name!r} has no scale or dtype entry")
        dtype = _dtype(obj["dtypes"][name], where)
        s = obj["scales"][name]
        if not isinstance(q, Tensor) or not isinstance(s, Tensor):
            raise ArtifactError(f"{where}: {name!r} is not stored as tensors")
        per_row = (qmeta.get(name, {}) or {}).get("scheme") == "per_row" or s.ndim > 0
        if per_row:
            if q.ndim == 0 or s.numel() != q.shape[0]:
                raise ArtifactError(f"{where}: {name!r} has {s.numel()} row scales for shape {tuple(q.shape)}")
            s32 = s.to(dtype=torch.float32).view(q.shape[0], *([1] * (q.ndim - 1)))
            out[name] = (q.float() * s32).to(dtype=dtype).contiguous()
        else:
            out[name] = (q.float() * float(s.item())).to(dtype=dtype).contiguous()
    for name, t in obj["passthrough"].items():
        if not isinstance(t, Tensor):
            raise ArtifactError(f"{where}: passthrough entry {name!r} is not a tensor")
        t = t.detach().to("cpu").contiguous()
        if name in orig_dtypes:
            t = t.to(dtype=_dtype(orig_dtypes[name], where)).contiguous()
        out[name] = t
    return out


def check_tensor_sizes(tensors: dict[str, Any], where: str) -> None:
    """Refuse, before building anything, tensors that claim more elements than their storage holds (stride 0:
    a 7 KB file can claim a 1e6-wide model) or more parameters than any artifact under the cap."""
    total = 0
    for name, t in tensors.items():
        if not isinstance(t, Tensor):
            continue
        if any(st == 0 and n > 1 for st, n in zip(t.stride(), t.shape, strict=True)):
            raise ArtifactError(f"{where}: tensor {name!r} of shape {tuple(t.shape)} has stride 0 (expanded "
                                "storage): not a saved weight; re-export the model")
        total += t.numel()
        if total > MAX_PARAMETERS:
            raise ArtifactError(f"{where}: its tensors hold more than {MAX_PARAMETERS:,} elements, more than any "
                                "model under the 16,000,000-byte cap; it is not read")


def _check_format(obj: Any, where: str) -> None:
    if not isinstance(obj, dict):
        raise ArtifactError(f"{where}: expected a dict, found {type(obj).__name__}")
    fmt = obj.get("__quant_format__")
    if fmt != QUANT_FORMAT:
        raise ArtifactError(f"{where}: __quant_format__ is {fmt!r}, pgolf reads only {QUANT_FORMAT!r}")
    missing = [k for k in _REQUIRED_KEYS if not isinstance(obj.get(k), dict)]
    if missing:
        raise ArtifactError(f"{where}: missing or malformed key(s) {', '.join(missing)} of {QUANT_FORMAT}")


def serialize_artifact(state_dict: dict[str, Tensor]) -> tuple[bytes, dict[str, int]]:
    """(zlib-compressed torch.save bytes, stats with raw_torch_bytes and bytes)."""
    obj, stats = quantize_state_dict_int8(state_dict)
    buf = io.BytesIO()
    torch.save(obj, buf)
    raw = buf.getvalue()
    blob = zlib.compress(raw, level=ZLIB_LEVEL)
    return blob, {**stats, "raw_torch_bytes": len(raw), "bytes": len(blob)}


def save_artifact(state_dict: dict[str, Tensor], path: str | os.PathLike[str]) -> dict[str, int]:
    """Quantise, torch.save, zlib level 9, write atomically. Returns the stats plus `bytes` on disk."""
    blob, stats = serialize_artifact(state_dict)
    atomic.write_bytes(path, blob)
    return stats


def _decompress(data: bytes, limit: int, where: str) -> bytes:
    """Inflate in pieces of at most DECOMPRESS_PIECE bytes, stopping as soon as the output passes
    `limit`: a zlib bomb costs at most limit + one piece of memory, never its full expansion."""
    d = zlib.decompressobj()
    pieces: list[bytes] = []
    total = 0
    tail = data
    try:
        while tail and not d.eof:
            piece = d.decompress(tail, DECOMPRESS_PIECE)
            tail = d.unconsumed_tail
            total += len(piece)
            if total > limit:
                raise ArtifactError(f"{where}: decompresses to more than {limit:,} bytes, far beyond any model "
                                    "under the 16 MB cap; refusing (the file is corrupt or not an artifact)")
            pieces.append(piece)
            if not piece and tail:
                break  # no progress: a stream that cannot continue
    except zlib.error as exc:
        raise ArtifactError(f"{where}: not a valid zlib stream ({exc}); is this an int8+zlib .ptz artifact?") from exc
    if not d.eof:
        raise ArtifactError(f"{where}: the zlib stream is truncated; the file is incomplete")
    return b"".join(pieces)


def _torch_load(raw: bytes, where: str) -> Any:
    try:
        return torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r"(?:Unsupported global: GLOBAL|Unsupported operand) ?([\w.<>]*)", str(exc))
        what = f" ({found.group(0)})" if found else ""
        raise ArtifactError(f"{where}: refused to unpickle: it holds objects other than tensors and containers"
                            f"{what}, which could run code when loaded. pgolf never loads such files; "
                            "export the weights as a plain state dict of tensors") from None
    except Exception as exc:  # torch raises RuntimeError/EOFError/ValueError for non-torch bytes
        raise ArtifactError(f"{where}: not a torch.save file ({type(exc).__name__}: "
                            f"{str(exc).splitlines()[0] if str(exc) else ''})") from exc


def load_state_dict(path: str | os.PathLike[str],
                    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES) -> dict[str, Tensor]:
    """A float state dict from an int8+zlib .ptz artifact or a raw torch.save'd state dict (.pt)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ArtifactError(f"cannot read artifact {p}: {exc.strerror}") from exc
    return state_dict_from_bytes(data, str(p), max_decompressed_bytes)


def state_dict_from_bytes(data: bytes, where: str = "artifact",
                          max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES) -> dict[str, Tensor]:
    """As load_state_dict, for bytes already in memory (`where` names them in errors)."""
    if data[:2] == b"PK":  # torch.save's zip container: a raw checkpoint
        obj = _torch_load(data, where)
    elif data[:1] == b"\x78":  # zlib header byte (deflate, 32 KiB window)
        obj = _torch_load(_decompress(data, max_decompressed_bytes, where), where)
    else:
        raise ArtifactError(f"{where}: neither an int8+zlib artifact (.ptz) nor a torch checkpoint (.pt)")
    if isinstance(obj, dict) and "__quant_format__" in obj:
        return dequantize_state_dict_int8(obj, where)
    if isinstance(obj, dict) and obj and all(isinstance(k, str) and isinstance(v, Tensor) for k, v in obj.items()):
        check_tensor_sizes(obj, where)
        return dict(obj)
    raise ArtifactError(f"{where}: holds neither a {QUANT_FORMAT} artifact nor a state dict of tensors")


_BLOCK_RE = re.compile(r"^blocks\.(\d+)\.")


def infer_model_config(state_dict: dict[str, Tensor], **overrides: Any) -> ModelConfig:
    """The architecture from tensor shapes; settings shapes cannot show (softcap, rope base...) are defaults."""

    def get(name: str) -> Tensor:
        if name not in state_dict:
            raise ArtifactError(f"state dict has no {name!r}; it is not a pgolf/reference GPT checkpoint")
        return state_dict[name]

    emb = get("tok_emb.weight")
    if emb.ndim != 2 or 0 in emb.shape:
        raise ArtifactError(f"tok_emb.weight has shape {tuple(emb.shape)}: an embedding is a vocab x width matrix "
                            "with both sides above 0")
    vocab_size, model_dim = emb.shape
    num_heads = get("blocks.0.attn.q_gain").numel()
    if num_heads == 0 or model_dim % num_heads:
        raise ArtifactError(f"q_gain has {num_heads} heads, which does not divide model_dim {model_dim}")
    head_dim = model_dim // num_heads
    kv_rows = get("blocks.0.attn.c_k.weight").shape[0]
    fc_rows = get("blocks.0.mlp.fc.weight").shape[0]
    if kv_rows % head_dim or fc_rows % model_dim:
        raise ArtifactError(f"c_k rows {kv_rows} / fc rows {fc_rows} do not fit head size {head_dim}, "
                            f"model_dim {model_dim}")
    layers = {int(m.group(1)) for k in state_dict if (m := _BLOCK_RE.match(k))}
    if layers != set(range(len(layers))):
        raise ArtifactError(f"block indices {sorted(layers)} are not 0..N-1")
    fields: dict[str, Any] = dict(
        vocab_size=int(vocab_size), num_layers=len(layers), model_dim=int(model_dim), num_heads=int(num_heads),
        num_kv_heads=int(kv_rows // head_dim), mlp_mult=int(fc_rows // model_dim),
        tie_embeddings="lm_head.weight" not in state_dict,
    )
    fields.update(overrides)
    try:
        return ModelConfig(**fields)
    except (TypeError, ValueError) as exc:
        raise ArtifactError(f"inferred model shape is impossible: {exc}") from exc


def load_model(path: str | os.PathLike[str], device: str | torch.device = "cpu", **overrides: Any) -> GPT:
    """GPT with the artifact's weights (strict names and shapes), in eval mode, on `device`."""
    state = load_state_dict(path)
    model = GPT(infer_model_config(state, **overrides))
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ArtifactError(f"{path}: weights do not fit the inferred model: {exc}") from exc
    return model.to(device).eval()
