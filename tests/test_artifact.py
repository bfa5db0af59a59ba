"""The int8+zlib artifact: reference format, bounded error, shape inference, and safe loading."""

from __future__ import annotations

import io
import os
import pickle
import zlib
from pathlib import Path

import pytest
import torch

from pgolf.artifact import (
    dequantize_state_dict_int8,
    infer_model_config,
    load_model,
    load_state_dict,
    quantize_state_dict_int8,
    save_artifact,
)
from pgolf.errors import ArtifactError
from pgolf.model import GPT, ModelConfig, count_parameters

TINY = ModelConfig(vocab_size=96, num_layers=3, model_dim=64, num_heads=4, num_kv_heads=2, mlp_mult=2)


def _record_names_and_shapes() -> dict[str, tuple[int, ...]]:
    """The reference GPT's state dict at the record configuration, written out from record-77.md."""
    out: dict[str, tuple[int, ...]] = {"tok_emb.weight": (1024, 512), "skip_weights": (4, 512)}
    for i in range(9):
        out.update({
            f"blocks.{i}.attn_scale": (512,),
            f"blocks.{i}.mlp_scale": (512,),
            f"blocks.{i}.resid_mix": (2, 512),
            f"blocks.{i}.attn.c_q.weight": (512, 512),
            f"blocks.{i}.attn.c_k.weight": (256, 512),
            f"blocks.{i}.attn.c_v.weight": (256, 512),
            f"blocks.{i}.attn.proj.weight": (512, 512),
            f"blocks.{i}.attn.q_gain": (8,),
            f"blocks.{i}.mlp.fc.weight": (1024, 512),
            f"blocks.{i}.mlp.proj.weight": (512, 1024),
        })
    return out


def _trained_like(cfg: ModelConfig, seed: int = 0) -> GPT:
    """A model with every weight non-trivial (zero-initialised projections would hide errors)."""
    torch.manual_seed(seed)
    model = GPT(cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model


def test_record_config_state_dict_matches_reference_names_shapes_and_count() -> None:
    model = GPT(ModelConfig())
    got = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert got == _record_names_and_shapes()
    assert count_parameters(model) == 17_059_912


def test_quantised_matrix_error_is_at_most_half_a_step_per_row() -> None:
    torch.manual_seed(0)
    w = torch.randn(300, 512) * torch.logspace(-3, 0, 300)[:, None]  # rows of very different ranges
    w[7, 3] = 40.0  # an outlier that the 99.99984th-percentile clip must bound
    obj, _ = quantize_state_dict_int8({"m.weight": w})
    q, s16 = obj["quantized"]["m.weight"], obj["scales"]["m.weight"]
    assert q.dtype == torch.int8 and s16.dtype == torch.float16 and s16.shape == (300,)
    assert int(q.abs().max()) <= 127
    deq = dequantize_state_dict_int8(obj)["m.weight"]
    clip = torch.quantile(w.abs(), 0.9999984, dim=1)
    s32 = (clip / 127.0).clamp_min(1.0 / 127.0)
    assert torch.all(s16.float() >= (1.0 / 127.0) * (1 - 2**-10))  # scale floor 1/127 (fp16-rounded)
    inside = w.abs() <= clip[:, None]
    # Rounding costs at most half a step; storing the scale in fp16 adds |q| x its rounding error.
    bound = 0.5 * s32 + 127 * (s32 - s16.float()).abs() + 1e-7
    err = (w - deq).abs()
    assert torch.all(err[inside] <= bound[:, None].expand_as(w)[inside])
    assert (deq[7, 3] - clip[7]).abs() <= bound[7]  # the outlier is clipped, not wrapped


def test_export_object_has_the_reference_format() -> None:
    big3d = torch.randn(40, 40, 50)  # > 65,536 elements, not 2-D: one per-tensor scale
    sd = {
        "m.weight": torch.randn(300, 256),
        "t.weight": big3d,
        "blocks.0.attn_scale": torch.randn(64),
        "small.bias": torch.randn(100),
        "steps": torch.arange(5),
    }
    obj, stats = quantize_state_dict_int8(sd)
    assert set(obj) == {"__quant_format__", "quantized", "scales", "dtypes", "passthrough", "qmeta",
                        "passthrough_orig_dtypes"}
    assert obj["__quant_format__"] == "int8_clean_per_row_v1"
    assert set(obj["quantized"]) == {"m.weight", "t.weight"}
    assert obj["qmeta"] == {"m.weight": {"scheme": "per_row", "axis": 0}}
    assert obj["scales"]["t.weight"].ndim == 0 and obj["scales"]["t.weight"].dtype == torch.float32
    assert obj["dtypes"] == {"m.weight": "float32", "t.weight": "float32"}
    assert obj["passthrough"]["blocks.0.attn_scale"].dtype == torch.float32  # control tensor
    assert obj["passthrough"]["small.bias"].dtype == torch.float16
    assert obj["passthrough_orig_dtypes"] == {"small.bias": "float32"}
    assert torch.equal(obj["passthrough"]["steps"], torch.arange(5))
    assert stats["num_tensors"] == 5 and stats["num_float_tensors"] == 2 and stats["num_nonfloat_tensors"] == 1
    assert stats["int8_payload_bytes"] == 300 * 256 + 300 * 2 + big3d.numel() + 4 + 64 * 4 + 100 * 2 + 5 * 8
    out = dequantize_state_dict_int8(obj)
    assert {k: (v.dtype, v.shape) for k, v in out.items()} == {k: (v.dtype, v.shape) for k, v in sd.items()}
    inside = big3d.abs() <= torch.quantile(big3d.abs().flatten(), 0.9999984)
    assert ((out["t.weight"] - big3d).abs()[inside]).max() <= obj["scales"]["t.weight"] / 2 + 1e-6


@pytest.mark.parametrize("cfg", [
    TINY,
    ModelConfig(vocab_size=80, num_layers=2, model_dim=48, num_heads=6, num_kv_heads=3, mlp_mult=3,
                tie_embeddings=False),
    ModelConfig(vocab_size=64, num_layers=5, model_dim=32, num_heads=2, num_kv_heads=2, mlp_mult=1),
])
def test_infer_model_config_round_trips_through_the_artifact(cfg: ModelConfig, tmp_path: Path) -> None:
    model = _trained_like(cfg)
    path = tmp_path / "m.int8.ptz"
    stats = save_artifact(model.state_dict(), path)
    assert stats["bytes"] == path.stat().st_size
    loaded = load_model(path, "cpu")
    assert loaded.config == cfg and not loaded.training
    expected = GPT(cfg)
    expected.load_state_dict(dequantize_state_dict_int8(quantize_state_dict_int8(model.state_dict())[0]))
    x = torch.randint(0, cfg.vocab_size, (2, 16))
    torch.testing.assert_close(loaded.forward_logits(x), expected.eval().forward_logits(x), rtol=0, atol=0)


def test_raw_checkpoint_loads_too(tmp_path: Path) -> None:
    model = _trained_like(TINY)
    torch.save(model.state_dict(), tmp_path / "final_model.pt")
    sd = load_state_dict(tmp_path / "final_model.pt")
    assert all(torch.equal(sd[k], v) for k, v in model.state_dict().items())
    assert infer_model_config(sd) == TINY


class _Payload:
    """Pickles into a call to os.system that would create a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pickle_carrying_code_is_refused_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    obj = {"__quant_format__": "int8_clean_per_row_v1", "quantized": {}, "scales": {}, "dtypes": {},
           "passthrough": {"x": _Payload(marker)}}
    buf = io.BytesIO()
    torch.save(obj, buf)
    (tmp_path / "evil.ptz").write_bytes(zlib.compress(buf.getvalue(), 9))
    with pytest.raises(ArtifactError, match="refused to unpickle"):
        load_state_dict(tmp_path / "evil.ptz")
    (tmp_path / "evil.pt").write_bytes(buf.getvalue())
    with pytest.raises(ArtifactError, match="refused to unpickle") as info:
        load_model(tmp_path / "evil.pt")
    assert not marker.exists()
    # The refusal does not pass on torch's advice to load with weights_only=False.
    assert "weights_only" not in str(info.value) and "could run code" in str(info.value)
    # The same bytes do run code under a plain unpickler: the test's payload is real.
    pickle.loads(pickle.dumps(_Payload(marker)))
    assert marker.exists()


def _zlib_torch(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return zlib.compress(buf.getvalue(), 9)


@pytest.mark.parametrize(("content", "match"), [
    (os.urandom(4096), "neither an int8"),
    (b"x" + os.urandom(4096), "not a valid zlib"),
    (zlib.compress(b"hello, not a torch file" * 100, 9), "not a torch.save"),
    (_zlib_torch({"__quant_format__": "int4_magic", "quantized": {}}), "int4_magic"),
    (_zlib_torch({"__quant_format__": "int8_clean_per_row_v1", "quantized": {}}), "missing or malformed"),
    (_zlib_torch([torch.zeros(2)]), "neither a int8_clean_per_row_v1 artifact nor a state dict"),
    (_zlib_torch({"__quant_format__": "int8_clean_per_row_v1", "quantized": {"w": torch.zeros(2, 3)},
                  "scales": {"w": torch.ones(5)}, "dtypes": {"w": "float32"}, "passthrough": {}}),
     "row scales"),
    (_zlib_torch({"__quant_format__": "int8_clean_per_row_v1", "quantized": {"w": torch.zeros(2, 3)},
                  "scales": {"w": torch.ones(2)}, "dtypes": {"w": "Tensor"}, "passthrough": {}}),
     "not a float dtype"),
    (_zlib_torch({"a": torch.zeros(2)})[:-20], "truncated"),
])
def test_corrupt_files_raise_artifact_error(content: bytes, match: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.ptz"
    path.write_bytes(content)
    with pytest.raises(ArtifactError, match=match):
        load_state_dict(path)


def test_decompressed_size_is_bounded_in_output_and_in_memory(tmp_path: Path) -> None:
    import tracemalloc

    path = tmp_path / "bomb.ptz"
    packer = zlib.compressobj(9)
    zeros = b"\0" * (1 << 20)
    path.write_bytes(b"".join(packer.compress(zeros) for _ in range(64)) + packer.flush())  # 64 MiB in ~64 KB
    tracemalloc.start()
    try:
        with pytest.raises(ArtifactError, match="more than 4,194,304 bytes") as info:
            load_state_dict(path, max_decompressed_bytes=4 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, peak  # the limit plus one piece, never the 64 MiB expansion
    # The hint names no setting a user cannot reach.
    assert "max_decompressed_bytes" not in str(info.value) and "refusing" in str(info.value)


def test_missing_file_and_foreign_state_dict_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="cannot read"):
        load_state_dict(tmp_path / "nope.ptz")
    with pytest.raises(ArtifactError, match="tok_emb.weight"):
        infer_model_config({"fc.weight": torch.zeros(3, 3)})
    sd = _trained_like(TINY).state_dict()
    sd["blocks.0.attn.c_k.weight"] = torch.zeros(24, 64)  # 24 rows: not a whole number of 16-wide heads
    with pytest.raises(ArtifactError, match="c_k rows"):
        infer_model_config(sd)
