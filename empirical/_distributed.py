"""Process-group plumbing for DistributedDataParallel runs under ``torchrun``.

``torchrun`` sets ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``; without them
everything here is a no-op for a single process.  CPU runs use the gloo
backend, CUDA runs nccl with one device per local rank.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from optrobust.errors import InvalidInputError

__all__ = ["DistContext", "all_reduce_sum", "barrier", "resolve_device", "setup", "shard",
           "teardown", "wrap"]


@dataclass(frozen=True)
class DistContext:
    """Rank, world size and device of this process; ``owns_group`` if we created it."""

    rank: int
    world: int
    device: torch.device
    owns_group: bool


def resolve_device(device: str | torch.device, local_rank: int = 0) -> torch.device:
    """``"auto"`` -> cuda (device ``local_rank`` modulo the GPUs) when available, else cpu.

    Raises
    ------
    InvalidInputError
        ``device`` not one of ``"auto"``, ``"cpu"``, ``"cuda"``, or ``"cuda"`` without CUDA.
    """
    if isinstance(device, torch.device):
        return device
    if device not in ("auto", "cpu", "cuda"):
        raise InvalidInputError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise InvalidInputError("device 'cuda' requested but CUDA is not available; use "
                                "device 'cpu' or 'auto'")
    if device == "cpu" or (device == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    return torch.device("cuda", local_rank % max(1, torch.cuda.device_count()))


def setup(device: str = "auto") -> DistContext:
    """Join the process group if launched by ``torchrun`` (and not yet joined)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = resolve_device(device, local_rank)
    if world <= 1:
        return DistContext(0, 1, dev, False)
    owns = False
    if not dist.is_initialized():
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        dist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo")
        owns = True
    return DistContext(dist.get_rank(), dist.get_world_size(), dev, owns)


def teardown(ctx: DistContext) -> None:
    """Leave the process group if :func:`setup` created it."""
    if ctx.owns_group and dist.is_initialized():
        # Every rank reaches this point before any tears its gloo connections down: a rank
        # that destroyed its group while a peer was still finishing made the peer abort at
        # exit ("terminate called without an active exception", about 1 run in 10).
        dist.barrier()
        dist.destroy_process_group()


def wrap(model: nn.Module, ctx: DistContext) -> nn.Module:
    """DDP-wrap ``model`` when running with more than one process."""
    if ctx.world <= 1:
        return model
    ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def shard(order: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """This rank's share ``order[rank::world]`` after padding to a multiple of ``world``.

    Padding repeats the first indices (as :class:`torch.utils.data.DistributedSampler`
    does) so every rank runs the same number of steps.  With local batch
    ``B / world``, the union over ranks of batch ``i`` is exactly
    ``order[i*B:(i+1)*B]``: the single-process batch.
    """
    if ctx.world <= 1:
        return order
    pad = (-len(order)) % ctx.world
    if pad:
        order = torch.cat([order, order[:pad]])
    return order[ctx.rank :: ctx.world]


def all_reduce_sum(t: torch.Tensor, ctx: DistContext) -> None:
    """In-place sum over ranks (CPU tensor; moved to the device for nccl)."""
    if ctx.world <= 1:
        return
    if ctx.device.type == "cuda":
        buf = t.to(ctx.device)
        dist.all_reduce(buf)
        t.copy_(buf.cpu())
    else:
        dist.all_reduce(t)


def barrier(ctx: DistContext) -> None:
    """Synchronise ranks (no-op for one process)."""
    if ctx.world > 1:
        dist.barrier()
