"""The threat model: an l_p ball around each input, optionally intersected with a box.

``LpBall(eps, p, lower, upper)`` is the feasible set ``S(x) = {x' : ||x' - x||_p <= eps,
lower <= x' <= upper}`` of the paper's equation (2) (there for ``p = inf``), evaluated
per sample (the first tensor dimension is the batch).  It provides the three operations a
projected-gradient attack needs (projection, a steepest-ascent step, a random start) and a
hard feasibility check.

Conventions (DESIGN.md): balls are closed; for ``p = 0`` the "norm" counts the changed
coordinates and ``eps`` is rounded down to an integer; ``eps = math.inf`` is the unbounded
threat model (only the box remains).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from optrobust.errors import InvalidInputError, InvalidTypeError
from optrobust.norms import parse_p

__all__ = ["DEFAULT_BOX", "LpBall", "THREAT_P_VALUES", "UNSET", "check_eps_scale", "resolve_box"]

#: The exponents the empirical threat model supports.
THREAT_P_VALUES: tuple[float, ...] = (0, 2, math.inf)

#: The box of image inputs: every attack's default (``box=None`` explicitly for no box).
DEFAULT_BOX: tuple[float, float] = (0.0, 1.0)

#: Marks a keyword the caller did not pass (``lower=None`` is a real choice: no bound).
UNSET: Any = type("Unset", (), {"__repr__": lambda self: "<unset>"})()

#: Absolute slack allowed by :meth:`LpBall.check` (float32 rounding).
_ATOL = 1e-5


def _flat(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(t.shape[0], -1)


def _per_sample(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return v.reshape((-1,) + (1,) * (like.dim() - 1))


def resolve_box(box: Any = DEFAULT_BOX, lower: Any = UNSET, upper: Any = UNSET
                ) -> tuple[float | None, float | None]:
    """The box ``(lower, upper)`` of an attack from its ``box`` / ``lower`` / ``upper`` arguments.

    Parameters
    ----------
    box : (float or None, float or None) or None
        ``DEFAULT_BOX = (0, 1)`` unless given; ``None`` means no box.
    lower, upper : float or None
        The older spelling: when either is passed (even as ``None``) the box is
        ``(lower, upper)`` and ``box`` must be left at its default.

    Raises
    ------
    InvalidInputError
        Both spellings given, a box that is not a pair, or bounds that are not finite with
        ``lower < upper``.
    """
    if lower is not UNSET or upper is not UNSET:
        if box is not DEFAULT_BOX:
            raise InvalidInputError("give the box either as box=(lower, upper) or as "
                                    f"lower=/upper=, not both; got box={box!r}")
        lo = None if lower is UNSET else lower
        hi = None if upper is UNSET else upper
    elif box is None:
        return None, None
    else:
        try:
            lo, hi = box
        except (TypeError, ValueError):
            raise InvalidInputError(f"box must be a pair (lower, upper) or None; got {box!r}"
                                    ) from None
    for name, v in (("lower", lo), ("upper", hi)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))
                              or not math.isfinite(float(v))):
            raise InvalidInputError(f"box {name} must be a finite real number or None; "
                                    f"got {v!r}")
    if lo is not None and hi is not None and float(lo) >= float(hi):
        raise InvalidInputError(f"box must have lower < upper; got ({lo}, {hi})")
    return (None if lo is None else float(lo)), (None if hi is None else float(hi))


def check_eps_scale(eps: float, p: Any, lower: float | None, upper: float | None, *,
                    dim: int | None = None, force: bool = False) -> None:
    """Refuse a finite budget that covers the whole box (the 0-255 mistake), unless forced.

    Under l_inf a radius ``eps >= upper - lower`` lets the attacker reach every point of the
    box: ``eps = 8`` meant as 8/255 runs as the unbounded attack.  Under l_2 the same holds
    for ``eps >= (upper - lower) sqrt(dim)`` (the box diameter).  ``eps = inf`` (the
    deliberate unbounded threat model) and ``p = 0`` are always accepted.

    Raises
    ------
    InvalidInputError
        ``eps`` at least the box width (l_inf) / diameter (l_2) and ``force`` is false.
    """
    if force or lower is None or upper is None or not math.isfinite(eps):
        return
    q = parse_p(p, allowed=THREAT_P_VALUES, name="p")
    width = upper - lower
    if q == math.inf and eps >= width:
        raise InvalidInputError(
            f"eps={eps:g} under l_inf is at least the box width {width:g} (box [{lower:g}, "
            f"{upper:g}]): every point of the box is reachable; on the 0-255 scale divide by "
            "255 (8/255), or pass force=True")
    if q == 2 and dim is not None and eps >= width * math.sqrt(dim):
        raise InvalidInputError(
            f"eps={eps:g} under l_2 is at least the box diameter {width * math.sqrt(dim):.4g}"
            f" (box [{lower:g}, {upper:g}], {dim} coordinates): every point of the box is "
            "reachable; pass force=True if that is meant")


class LpBall:
    """Closed l_p ball of radius ``eps`` intersected with the box ``[lower, upper]``.

    Parameters
    ----------
    eps : float
        Radius, ``>= 0``; ``math.inf`` for the unbounded threat model.  For ``p = 0`` it is
        the number of coordinates that may change (rounded down).
    p : {0, 2, inf} or str
        The norm (``"l0"``, ``"l2"``, ``"linf"`` accepted).
    lower, upper : float or None
        Box bounds (images: 0 and 1); ``None`` for an unbounded side.

    Notes
    -----
    * ``project(z, x)``: for ``p = inf`` and ``p = 2`` the perturbation ``z - x`` is first
      projected on the ball (clipping, resp. radial rescaling) and the point is then clipped
      to the box.  Since ``x`` lies in the box, clipping never increases any
      ``|z_i - x_i|``, so the result is feasible; for ``p = inf`` it is the exact Euclidean
      projection on the intersection.  For ``p = 0`` it is the exact Euclidean projection on
      ``{||z - x||_0 <= eps} ∩ box``: every coordinate is clipped to the box and the
      ``eps`` coordinates whose change reduces the squared distance most,
      ``(z_i - x_i)^2 - (z_i - clip(z_i))^2``, keep their clipped value (Croce & Hein 2019,
      PGD_0).  An optional ``priority`` replaces that score (the l0 attack passes the
      linearized gain ``grad_i * (z_i - x_i)``).
    * ``step(z, g, a)``: ``p = inf``: ``z + a sign(g)``; ``p = 2``: ``z + a g / ||g||_2``
      (samples with zero gradient stay); ``p = 0``: a sparse step for inputs in a finite
      box (binary ``{0,1}`` or ``{-1,1}`` data): the ``k = max(1, int(a))`` coordinates with
      the largest linearized gain ``max(g_i (lower - z_i), g_i (upper - z_i))`` move to the
      box end point that attains it.
    * ``random_init(x)``: uniform in the l_inf ball; uniform in the l_2 ball (Gaussian
      direction, radius ``eps U^(1/d)``); for ``p = 0`` ``eps`` uniformly chosen coordinates
      are set to a random box end point.  Unbounded (``eps = inf``): uniform in the box, or
      ``x + N(0, I)`` without a box.  The result is always projected.

    References
    ----------
    .. [1] Madry et al. (2018), "Towards deep learning models resistant to adversarial
       attacks", eq. (2.1); the source paper's eq. (2).
    .. [2] Croce & Hein (2019), "Sparse and imperceivable adversarial attacks" (PGD_0).
    """

    def __init__(
        self, eps: float, p: Any = math.inf, lower: float | None = None,
        upper: float | None = None,
    ) -> None:
        self.p = parse_p(p, allowed=THREAT_P_VALUES, name="p")
        if isinstance(eps, bool) or not isinstance(eps, (int, float)):
            try:
                eps = float(eps)
            except (TypeError, ValueError):
                raise InvalidTypeError(
                    f"eps must be a real number >= 0 or inf; got {eps!r}") from None
        eps = float(eps)
        if math.isnan(eps) or eps < 0:
            raise InvalidInputError(f"eps must be a real number >= 0 or inf; got {eps!r}")
        if self.p == 0 and math.isfinite(eps):
            eps = float(math.floor(eps + 1e-9))
        self.eps = eps
        for name, v in (("lower", lower), ("upper", upper)):
            if v is not None and (isinstance(v, bool) or not math.isfinite(float(v))):
                raise InvalidInputError(f"{name} must be a finite real number or None; got {v!r}")
        if lower is not None and upper is not None and float(lower) >= float(upper):
            raise InvalidInputError(f"lower must be < upper; got lower={lower}, upper={upper}")
        self.lower = None if lower is None else float(lower)
        self.upper = None if upper is None else float(upper)

    def __repr__(self) -> str:
        return f"LpBall(eps={self.eps}, p={self.p}, lower={self.lower}, upper={self.upper})"

    @property
    def bounded(self) -> bool:
        """Whether the radius is finite."""
        return math.isfinite(self.eps)

    # ------------------------------------------------------------------ box
    def clip_box(self, z: torch.Tensor) -> torch.Tensor:
        """Clip ``z`` to ``[lower, upper]`` (identity on unbounded sides)."""
        if self.lower is None and self.upper is None:
            return z
        return torch.clamp(z, min=self.lower, max=self.upper)

    # ------------------------------------------------------------------ projection
    def project(
        self, x_adv: torch.Tensor, x: torch.Tensor, *, priority: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Map ``x_adv`` into the feasible set around ``x`` (see Notes of the class)."""
        if self.p == math.inf:
            if self.bounded:
                x_adv = torch.max(torch.min(x_adv, x + self.eps), x - self.eps)
            return self.clip_box(x_adv)
        if self.p == 2:
            if self.bounded:
                delta = x_adv - x
                norms = _flat(delta).norm(p=2, dim=1)
                factor = torch.clamp(self.eps / torch.clamp(norms, min=1e-12), max=1.0)
                x_adv = x + delta * _per_sample(factor, delta)
            return self.clip_box(x_adv)
        # p == 0
        clipped = self.clip_box(x_adv)
        if not self.bounded:
            return clipped
        k = int(self.eps)
        n_coords = _flat(x).shape[1]
        if k >= n_coords:
            return clipped
        if priority is None:
            score = (x_adv - x) ** 2 - (x_adv - clipped) ** 2
        else:
            score = priority
        changed = clipped != x
        score = torch.where(changed, score, torch.full_like(score, -math.inf))
        flat_score = _flat(score)
        keep = torch.zeros_like(flat_score, dtype=torch.bool)
        if k > 0:
            idx = flat_score.topk(k, dim=1).indices
            keep.scatter_(1, idx, True)
        keep = keep.reshape(x.shape) & changed
        return torch.where(keep, clipped, x)

    # ------------------------------------------------------------------ step
    def step(self, x_adv: torch.Tensor, grad: torch.Tensor, step_size: float) -> torch.Tensor:
        """One steepest-ascent step for the linearized loss (see Notes of the class)."""
        if self.p == math.inf:
            return x_adv + step_size * grad.sign()
        if self.p == 2:
            # Rescale by the largest entry first so that tiny (saturated-softmax) gradients
            # still give a step of the full length instead of underflowing.
            peak = _flat(grad).abs().amax(dim=1) if grad[0].numel() else grad.new_zeros(0)
            unit = grad / _per_sample(torch.where(peak > 0, peak, torch.ones_like(peak)), grad)
            norms = _flat(unit).norm(p=2, dim=1)
            scale = torch.where(norms > 0, step_size / torch.where(norms > 0, norms, 1.0), 0.0)
            return x_adv + unit * _per_sample(scale, grad)
        if self.lower is None or self.upper is None:
            raise InvalidInputError(
                "p=0 steps need finite lower and upper bounds (the l0 attack moves "
                "coordinates to the box end points); got "
                f"lower={self.lower}, upper={self.upper}"
            )
        k = max(1, int(step_size))
        gain_up = grad * (self.upper - x_adv)
        gain_low = grad * (self.lower - x_adv)
        target = torch.where(gain_up >= gain_low, torch.full_like(x_adv, self.upper),
                             torch.full_like(x_adv, self.lower))
        gain = _flat(torch.max(gain_up, gain_low))
        k = min(k, gain.shape[1])
        idx = gain.topk(k, dim=1).indices
        sel = torch.zeros_like(gain, dtype=torch.bool)
        sel.scatter_(1, idx, True)
        sel = sel & (gain > 0)
        return torch.where(sel.reshape(x_adv.shape), target, x_adv)

    # ------------------------------------------------------------------ random start
    def random_init(
        self, x: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """A random feasible point around ``x`` (see Notes of the class)."""
        def rand(*shape: int) -> torch.Tensor:
            return torch.rand(shape, generator=generator, device=x.device, dtype=x.dtype)

        if not self.bounded and self.p != 0:
            if self.lower is not None and self.upper is not None:
                z = self.lower + (self.upper - self.lower) * rand(*x.shape)
            else:
                z = x + torch.randn(x.shape, generator=generator, device=x.device,
                                    dtype=x.dtype)
            return self.project(z, x)
        if self.p == math.inf:
            z = x + self.eps * (2 * rand(*x.shape) - 1)
        elif self.p == 2:
            d = _flat(x).shape[1]
            direction = torch.randn(x.shape, generator=generator, device=x.device,
                                    dtype=x.dtype)
            norms = torch.clamp(_flat(direction).norm(p=2, dim=1), min=1e-12)
            radius = self.eps * rand(x.shape[0]) ** (1.0 / d)
            z = x + direction * _per_sample(radius / norms, x)
        else:
            if self.lower is None or self.upper is None:
                raise InvalidInputError(
                    "p=0 random starts need finite lower and upper bounds; got "
                    f"lower={self.lower}, upper={self.upper}"
                )
            flat = _flat(x)
            k = flat.shape[1] if not self.bounded else min(int(self.eps), flat.shape[1])
            order = rand(*flat.shape).argsort(dim=1)
            sel = torch.zeros_like(flat, dtype=torch.bool)
            if k > 0:
                sel.scatter_(1, order[:, :k], True)
            ends = torch.where(rand(*flat.shape) < 0.5, self.lower, self.upper).to(x.dtype)
            z = torch.where(sel, ends, flat).reshape(x.shape)
        return self.project(z, x)

    # ------------------------------------------------------------------ check
    def norms(self, x_adv: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Per-sample ``||x_adv - x||_p`` (changed-coordinate count for ``p = 0``)."""
        delta = _flat(x_adv - x)
        if self.p == math.inf:
            return delta.abs().amax(dim=1) if delta.shape[1] else delta.new_zeros(len(delta))
        if self.p == 2:
            return delta.norm(p=2, dim=1)
        return (delta != 0).sum(dim=1).to(x.dtype)

    def check(self, x_adv: torch.Tensor, x: torch.Tensor) -> None:
        """Raise ``RuntimeError`` naming the violation if ``x_adv`` is not feasible.

        Tolerances: ``1e-5`` absolute on the box and on the l_inf radius, ``1e-5`` relative
        plus ``1e-5`` absolute on the l_2 radius, none on the l_0 count.
        """
        if x_adv.shape != x.shape:
            raise RuntimeError(f"perturbed batch has shape {tuple(x_adv.shape)}, "
                               f"expected {tuple(x.shape)}")
        if not torch.isfinite(x_adv).all():
            raise RuntimeError("perturbed batch contains NaN or inf")
        if self.lower is not None:
            low = float(x_adv.min()) if x_adv.numel() else self.lower
            if low < self.lower - _ATOL:
                raise RuntimeError(f"perturbed input below the box: min {low} < lower "
                                   f"{self.lower}")
        if self.upper is not None:
            high = float(x_adv.max()) if x_adv.numel() else self.upper
            if high > self.upper + _ATOL:
                raise RuntimeError(f"perturbed input above the box: max {high} > upper "
                                   f"{self.upper}")
        if not self.bounded or x.shape[0] == 0:
            return
        worst = float(self.norms(x_adv, x).max())
        tol = 0.0 if self.p == 0 else (_ATOL + (_ATOL * self.eps if self.p == 2 else 0.0))
        if worst > self.eps + tol:
            raise RuntimeError(
                f"perturbation outside the l_{'inf' if self.p == math.inf else int(self.p)} "
                f"ball: norm {worst} > eps {self.eps}"
            )
