"""Crash-safe files for training runs: atomic writes, checkpoints, RNG states.

A training run directory holds ``config.json``, ``metrics.jsonl`` (one JSON
object per finished epoch), ``checkpoint.pt`` (the latest finished epoch) and
``best.pt`` (the epoch with the best test metric).  Every file is written to a
temporary file in the same directory, flushed, ``fsync``-ed and moved into
place with :func:`os.replace`, so a process killed at any instant leaves
either the old or the new file, never a torn one.

Checkpoints hold only tensors, numbers, strings, lists and dicts, so they load
with ``torch.load(..., weights_only=True)`` (no pickled code is executed).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch

from empirical.errors import CheckpointError, MissingFileError

__all__ = [
    "CHECKPOINT_FORMAT",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_torch_save",
    "load_checkpoint",
    "trained_eps",
    "json_safe",
    "write_json",
    "write_jsonl",
    "read_jsonl",
    "get_rng_state",
    "set_rng_state",
]

#: Version tag stored in every checkpoint; bumped on incompatible layout changes.
CHECKPOINT_FORMAT = 1


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable (POSIX); silently skipped where unsupported."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _file_mode() -> int:
    """``0o666`` less the process umask: the mode ``open(path, "w")`` would give a new file."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file, fsync, ``os.replace``).

    The file gets the mode a plain ``open(path, "w")`` gives (``0o666`` less the umask),
    like the PNGs beside it, not the ``0o600`` of the temporary file.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, _file_mode())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_torch_save(obj: Any, path: str | os.PathLike[str]) -> None:
    """``torch.save`` into memory, then :func:`atomic_write_bytes`."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a checkpoint written by :mod:`empirical.train` onto the CPU.

    Raises
    ------
    MissingFileError
        If ``path`` does not exist (a ``FileNotFoundError``; one line naming it).
    CheckpointError
        If the file is empty, not a PyTorch file, or not an optrobust checkpoint (a
        ``ValueError``; the message says which).
    """
    p = Path(path)
    if not p.is_file():
        raise MissingFileError(f"checkpoint not found: {p} (train a model first or fix the path)")
    if p.stat().st_size == 0:
        raise CheckpointError(f"checkpoint {p} could not be read: the file is empty (0 bytes; "
                              f"an interrupted copy?); pass a checkpoint.pt written by train")
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file
        raise CheckpointError(f"checkpoint {p} could not be read: {_what_is(p)}, not a "
                              f"checkpoint.pt written by train (torch.load: "
                              f"{type(exc).__name__})") from None
    if not isinstance(ckpt, dict) or "model" not in ckpt or "config" not in ckpt:
        raise CheckpointError(f"checkpoint {p} is not an optrobust-empirical checkpoint (a "
                              f"PyTorch file without the 'model' and 'config' entries)")
    if ckpt.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"checkpoint {p} has format {ckpt.get('format')!r}, expected {CHECKPOINT_FORMAT}"
        )
    return ckpt


def _what_is(p: Path) -> str:
    """A few words on what a file that torch cannot load looks like."""
    with p.open("rb") as fh:
        head = fh.read(512)
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(p) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, OSError):
            return "a damaged or truncated zip file"
        if names and all(n.endswith(".npy") for n in names):
            return "a numpy .npz archive"
        if any(n.endswith("data.pkl") for n in names):
            return "a damaged or truncated PyTorch file"
        return "a zip archive that is not a PyTorch file"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "a binary file that is not a PyTorch file"
    if all(c.isprintable() or c in "\r\n\t" for c in text):
        return "a text file"
    return "a file that is not a PyTorch file"


def trained_eps(checkpoint: dict[str, Any]) -> float:
    """The budget the checkpoint's weights were last trained at.

    The ``eps`` of its metrics row for the saved epoch (an iterative run stopped early, or
    its ``best.pt``, was trained below the target ``config["eps"]``); else the target.
    """
    rows = [r for r in checkpoint.get("metrics") or () if r.get("epoch") == checkpoint["epoch"]]
    eps = rows[-1].get("eps") if rows else None
    return float(checkpoint["config"].get("eps") or 0.0) if eps is None else float(eps)


def json_safe(obj: Any) -> Any:
    """Replace non-finite floats by the strings ``"inf"``, ``"-inf"``, ``"nan"``; tuples -> lists.

    JSON has no infinity; ``eps = inf`` (the unbounded attack) must still be
    written and read back.
    """
    if isinstance(obj, float) and not math.isfinite(obj):
        return "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if isinstance(obj, Mapping):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    return obj


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Atomically write ``obj`` as indented JSON."""
    atomic_write_text(path, json.dumps(json_safe(obj), indent=2, sort_keys=True) + "\n")


def write_jsonl(path: str | os.PathLike[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """Atomically (re)write a JSON-lines file, one object per row."""
    text = "".join(json.dumps(json_safe(r)) + "\n" for r in rows)
    atomic_write_text(path, text)


def read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read a JSON-lines file (blank lines ignored)."""
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def get_rng_state() -> dict[str, Any]:
    """The global torch RNG states (CPU and every CUDA device) as tensors."""
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = list(torch.cuda.get_rng_state_all())
    return state


def set_rng_state(state: Mapping[str, Any]) -> None:
    """Restore states saved by :func:`get_rng_state` (CUDA part only where present)."""
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        cuda_states = state["cuda"]
        if len(cuda_states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda_states)
