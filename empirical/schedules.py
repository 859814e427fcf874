"""Perturbation-budget schedules, the paper's PGD step rule, and seed derivation.

These are pure functions (no torch) so that they are cheap to test and to
reason about.

References
----------
.. [1] Shaeiri, Nobahari, Rohban, "Towards Deep Learning Models Resistant to
   Large Perturbations", Section 3.1.1 (PGD steps = eps * 2.5 / step size) and
   Section 3.4 (iterative adversarial training: eps grows by 0.01 per epoch,
   stop at a sudden rise of the training adversarial loss).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

from optrobust.errors import InvalidInputError

__all__ = ["EpsSchedule", "paper_pgd_steps", "epochs_to_reach", "detect_rise", "derive_seed"]


def paper_pgd_steps(eps: float, step_size: float, *, factor: float = 2.5) -> int:
    """Number of PGD steps by the paper's rule ``steps = factor * eps / step_size``.

    Parameters
    ----------
    eps : float
        Budget (``>= 0``, finite).
    step_size : float
        PGD step (``> 0``).
    factor : float
        2.5 in the paper (and in Madry et al.).

    Returns
    -------
    int
        ``round(factor * eps / step_size)`` when that quotient is an integer up
        to float rounding (``2.5 * 0.3 / 0.05`` is 15.000000000000002 in
        binary floating point and must give 15, not 16), otherwise its ceiling;
        ``0`` when ``eps == 0``.

    Notes
    -----
    With the paper's MNIST settings (step 0.05): eps 0.3 -> 15, 0.4 -> 20,
    0.5 -> 25 steps; CIFAR-10 (step 2/255): eps 8/255 -> 10 steps.

    References
    ----------
    Paper, Section 3.1.1 ("number of steps = eps x 2.5 / PGD learning rate").
    """
    if not (isinstance(eps, int | float) and math.isfinite(eps) and eps >= 0):
        raise InvalidInputError(f"eps must be a finite number >= 0, got {eps!r}")
    if not (isinstance(step_size, int | float) and math.isfinite(step_size) and step_size > 0):
        raise InvalidInputError(f"step_size must be a finite number > 0, got {step_size!r}")
    if eps == 0:
        return 0
    return max(1, _ceil_quotient(factor * eps, step_size))


def _ceil_quotient(a: float, b: float) -> int:
    """``ceil(a / b)``, but ``round(a / b)`` when the quotient is an integer up to float
    rounding (``2.5 * 0.3 / 0.05`` is 15.000000000000002 and must give 15)."""
    q = a / b
    r = round(q)
    if abs(q - r) <= 1e-9 * max(1.0, abs(q)):
        return int(r)
    return math.ceil(q)


def epochs_to_reach(eps: float, increment: float) -> int:
    """First epoch at which the incremental schedule from 0 reaches ``eps``.

    With ``eps_e = min(eps, (e - 1) * increment)`` (:class:`EpsSchedule`, ``eps_start = 0``)
    this is ``ceil(eps / increment) + 1``, float-safe: the paper's IAT (+0.01 per epoch)
    reaches 0.4 in epoch 41.
    """
    for name, v in (("eps", eps), ("increment", increment)):
        if not (isinstance(v, int | float) and math.isfinite(v) and v >= 0):
            raise InvalidInputError(f"{name} must be a finite number >= 0, got {v!r}")
    if increment == 0:
        raise InvalidInputError("increment must be > 0")
    return _ceil_quotient(eps, increment) + 1


@dataclass(frozen=True)
class EpsSchedule:
    """Budget per epoch (epochs are numbered from 1).

    Parameters
    ----------
    eps : float
        Target budget.
    epochs : int
        Number of epochs of the run.
    eps_start : float or None
        ``None`` -> constant schedule (``eps`` every epoch).  Otherwise the
        budget grows from ``eps_start`` at epoch 1 to ``eps``.
    increment : float or None
        With ``eps_start``: grow by ``increment`` per epoch and stay at ``eps``
        once reached (the paper's IAT uses 0.01 on MNIST).  ``None``: grow
        linearly so that the last epoch uses exactly ``eps``.

    Notes
    -----
    Linear: ``eps_e = eps_start + (eps - eps_start) * (e - 1) / (epochs - 1)``
    (``eps`` when ``epochs == 1``).  Incremental:
    ``eps_e = min(eps, eps_start + (e - 1) * increment)``.
    """

    eps: float
    epochs: int
    eps_start: float | None = None
    increment: float | None = None

    def __post_init__(self) -> None:
        for name in ("eps", "eps_start", "increment"):
            v = getattr(self, name)
            if v is None and name != "eps":
                continue
            if not (isinstance(v, int | float) and math.isfinite(v) and v >= 0):
                raise InvalidInputError(f"{name} must be a finite number >= 0, got {v!r}")
        if not isinstance(self.epochs, int) or self.epochs < 1:
            raise InvalidInputError(f"epochs must be an integer >= 1, got {self.epochs!r}")
        if self.eps_start is not None and self.eps_start > self.eps:
            raise InvalidInputError(f"eps_start must be <= eps ({self.eps}), got {self.eps_start}")
        if self.increment is not None and self.eps_start is None:
            raise InvalidInputError("increment needs eps_start (an iterative schedule)")
        if self.increment is not None and self.increment <= 0:
            raise InvalidInputError(f"increment must be > 0, got {self.increment}")

    def eps_at(self, epoch: int) -> float:
        """Budget used during ``epoch`` (1-based)."""
        if not isinstance(epoch, int) or epoch < 1:
            raise InvalidInputError(f"epoch must be an integer >= 1, got {epoch!r}")
        if self.eps_start is None:
            return float(self.eps)
        if self.increment is not None:
            # Fraction-free but drift-free: multiply, never accumulate.
            return float(min(self.eps, self.eps_start + (epoch - 1) * self.increment))
        if self.epochs == 1:
            return float(self.eps)
        frac = min(1.0, (epoch - 1) / (self.epochs - 1))
        return float(self.eps_start + (self.eps - self.eps_start) * frac)


def detect_rise(losses: Sequence[float], factor: float) -> bool:
    """True when the last loss jumped by more than ``factor`` over the one before.

    The paper (Section 3.4) stops iterative adversarial training "as soon as a
    significant sudden increase" of the training adversarial loss is seen, but
    gives no threshold; we make it explicit: stop at epoch ``e`` when
    ``loss_e > factor * loss_{e-1}`` (``factor > 1``).
    """
    if not (isinstance(factor, int | float) and math.isfinite(factor) and factor > 1):
        raise InvalidInputError(f"stop_on_rise factor must be a finite number > 1, got {factor!r}")
    if len(losses) < 2:
        return False
    prev, last = float(losses[-2]), float(losses[-1])
    return last > factor * prev


def derive_seed(*parts: int | str) -> int:
    """A 63-bit seed from the run seed and a path such as ``(seed, "attack", epoch, batch)``.

    Hash-based, so seeds of different streams never collide in a structured
    way and do not depend on how many random numbers earlier epochs drew --
    which is what makes a resumed run repeat an uninterrupted one exactly.
    """
    text = "/".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little") >> 1
