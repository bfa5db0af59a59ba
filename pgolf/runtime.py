"""Where a process runs: torchrun's rank, the device, the process group, and the record's precision.

The one place that reads RANK/WORLD_SIZE/LOCAL_RANK, picks the device and starts
the process group (NCCL on CUDA, gloo on CPU); training and evaluation both use it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.distributed as dist

from pgolf.errors import ConfigError


@dataclass(frozen=True)
class Runtime:
    """Where this process runs: rank within the job, and its device."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def distributed(self) -> bool:
        return self.world_size > 1 or dist.is_initialized()

    @property
    def master(self) -> bool:
        return self.rank == 0

    @property
    def cuda(self) -> bool:
        return self.device.type == "cuda"


def pick_device(name: str, local_rank: int = 0, flag: str = "--set device") -> torch.device:
    """auto (cuda:<local rank> when CUDA is present, else cpu), cpu, cuda or cuda:N; sets the CUDA device."""
    want = "cuda" if name == "auto" and torch.cuda.is_available() else ("cpu" if name == "auto" else name)
    if want.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(f"{flag} {name}: CUDA is not available here; use {flag} cpu")
        try:
            device = torch.device("cuda", local_rank) if want == "cuda" else torch.device(want)
        except RuntimeError:
            raise ConfigError(f"{flag} {name!r}: use auto, cpu, cuda or cuda:N") from None
        torch.cuda.set_device(device)
        return device
    if want == "cpu":
        return torch.device("cpu")
    raise ConfigError(f"{flag} {name!r}: use auto, cpu, cuda or cuda:N")


def setup_runtime(device: str = "auto", flag: str = "--set device") -> Runtime:
    """Read torchrun's environment, pick the device, start the process group when under torchrun."""
    rank = int(os.environ.get("RANK", "0"))
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if world_size <= 0:
        raise ConfigError(f"WORLD_SIZE must be positive, got {world_size}")
    dev = pick_device(device, local_rank, flag)
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ and not dist.is_initialized():
        if dev.type == "cuda":
            dist.init_process_group(backend="nccl", device_id=dev)
        else:
            dist.init_process_group(backend="gloo")
        dist.barrier()
    return Runtime(rank, world_size, local_rank, dev)


@contextlib.contextmanager
def process_group(device: str = "auto", flag: str = "--set device") -> Iterator[Runtime]:
    """setup_runtime, and the process group destroyed on the way out (success or not)."""
    try:
        yield setup_runtime(device, flag)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def in_process_group() -> bool:
    return dist.is_available() and dist.is_initialized()


def dist_info() -> tuple[int, int]:
    """(rank, world size) of the running process group; (0, 1) outside one."""
    if in_process_group():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def autocast(enabled: bool, device_type: str = "cuda") -> contextlib.AbstractContextManager:
    """The record's bf16 autocast (CUDA; CPU autocast in tests), or nothing."""
    if enabled:
        return torch.autocast(device_type=device_type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def sync(device: torch.device) -> None:
    """Wait for the device, so that host timers measure finished work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@contextlib.contextmanager
def one_thread_if(small: bool) -> Iterator[None]:
    """One intra-op thread for a small CPU pass: below a few hundred tokens a second thread costs
    more in hand-off than it gives (measured on the TTT kernel); the count is restored after."""
    threads = torch.get_num_threads()
    if not small or threads == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _kernel_flags() -> tuple[bool, ...]:
    b = torch.backends
    return (b.cuda.matmul.allow_tf32, b.cudnn.allow_tf32, b.cuda.cudnn_sdp_enabled(), b.cuda.flash_sdp_enabled(),
            b.cuda.mem_efficient_sdp_enabled(), b.cuda.math_sdp_enabled())


def _set_kernel_flags(flags: tuple[bool, ...]) -> None:
    b = torch.backends
    b.cuda.matmul.allow_tf32, b.cudnn.allow_tf32 = flags[0], flags[1]
    b.cuda.enable_cudnn_sdp(flags[2])
    b.cuda.enable_flash_sdp(flags[3])
    b.cuda.enable_mem_efficient_sdp(flags[4])
    b.cuda.enable_math_sdp(flags[5])


@contextlib.contextmanager
def reference_kernels(cuda: bool, bf16: bool) -> Iterator[None]:
    """The record's fast-math knobs for a training run on CUDA in its precision (bf16 autocast): TF32
    matmuls and flash attention alone. A `precision: fp32` run keeps torch's defaults (no TF32; flash
    has no float32 kernel). Process-wide flags, so they are restored on the way out: an evaluation
    later in the same process (a test, a notebook) must not inherit TF32 or a flash-only attention."""
    if not (cuda and bf16):
        yield
        return
    before = _kernel_flags()
    _set_kernel_flags((True, True, False, True, False, False))
    try:
        yield
    finally:
        _set_kernel_flags(before)
