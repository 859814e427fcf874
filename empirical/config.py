"""Training configuration: :class:`TrainConfig`, the paper's presets, method and norm names.

``paper-mnist`` follows Section 3.1.1 of the paper: the TensorFlow-tutorial
CNN, inputs in [0, 1], Adam with learning rate 1e-3, batch 128, signed PGD
(l_inf) with random start, step 0.05 and ``steps = 2.5 * eps / 0.05``;
5 epochs of standard training, 30 of adversarial training, 5 of extended
training; IAT grows eps by 0.01 per epoch (Section 3.4).

``paper-cifar10``: ResNet-50, SGD with learning rate 0.1 / 0.01 / 0.001 for
epochs 1-50 / 51-100 / 101-150, weight decay 5e-4, batch 128, data
augmentation, signed PGD with random start, step 2/255 and
``steps = 2.5 * eps / (2/255)``; extended training: 5 epochs *without*
augmentation.  The paper does not state SGD momentum; we use 0.9 (the
setting of Engstrom et al.'s robustness library, which the paper says it
follows).  The authors' public code could not be checked offline; where it
differs from the text, the text is what these presets implement.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from empirical.data import DataSpec
from empirical.schedules import EpsSchedule, detect_rise, paper_pgd_steps
from optrobust.errors import InvalidInputError, InvalidTypeError
from optrobust.norms import parse_p

__all__ = ["METHODS", "NORMS", "PRESETS", "TrainConfig", "apply_preset", "config_from_dict"]

METHODS = ("standard", "adversarial", "extended", "iterative")
#: The norms training supports, by their boundary spelling; exponents from the one name
#: table, :func:`optrobust.norms.parse_p`.
NORMS: dict[str, float] = {name: parse_p(name) for name in ("l0", "l2", "linf")}

#: Per preset: config defaults, then per-method overrides (``"by_method"``).
PRESETS: dict[str, dict[str, Any]] = {
    "paper-mnist": {
        "data": {"name": "mnist"},
        "model": "paper-cnn",
        "norm": "linf",
        "optimizer": "adam",
        "lr": 1e-3,
        "batch_size": 128,
        "pgd_steps": None,
        "pgd_step_size": 0.05,
        "random_start": True,
        "by_method": {
            "standard": {"epochs": 5},
            "adversarial": {"epochs": 30},
            "extended": {"epochs": 5},
            "iterative": {"epochs": 30, "eps_increment": 0.01},
        },
    },
    "paper-cifar10": {
        "data": {"name": "cifar10"},
        "model": "resnet50",
        "norm": "linf",
        "optimizer": "sgd",
        "lr": 0.1,
        "momentum": 0.9,
        "weight_decay": 5e-4,
        "lr_milestones": (50, 100),
        "lr_gamma": 0.1,
        "batch_size": 128,
        "pgd_steps": None,
        "pgd_step_size": 2 / 255,
        "random_start": True,
        "augment": True,
        "by_method": {
            "standard": {"epochs": 150},
            "adversarial": {"epochs": 150},
            "extended": {"epochs": 5, "augment": False},
            "iterative": {"epochs": 150},
        },
    },
}


def apply_preset(name: str | None, method: str, explicit: Mapping[str, Any]) -> dict[str, Any]:
    """Merge a preset's defaults with explicitly given settings (explicit wins).

    Parameters
    ----------
    name : str or None
        A key of :data:`PRESETS`, or ``None`` for no preset.
    method : str
        Training method (selects the per-method overrides).
    explicit : mapping
        Settings given by the user; ``"data"`` is merged key by key.

    Returns
    -------
    dict
        Keyword arguments for :class:`empirical.train.TrainConfig` (``data``
        as a dict of :class:`empirical.data.DataSpec` fields).
    """
    if name is None:
        merged: dict[str, Any] = {}
    else:
        if name not in PRESETS:
            raise InvalidInputError(f"preset must be one of {', '.join(PRESETS)}, got {name!r}")
        preset = dict(PRESETS[name])
        by_method = preset.pop("by_method", {})
        merged = {**preset, **by_method.get(method, {})}
        merged["data"] = dict(preset.get("data", {}))
        merged["preset"] = name
    data = {**merged.get("data", {}), **dict(explicit.get("data", {}))}
    merged.update({k: v for k, v in explicit.items() if k != "data"})
    merged["data"] = data
    merged["method"] = method
    return merged


def _check_pos(value: Any, name: str, *, allow_zero: bool = False) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        rng = ">= 0" if allow_zero else "> 0"
        raise InvalidInputError(f"{name} must be a finite number {rng}, got {value!r}")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (and nothing that does not).

    The device, output directory, progress bar and resume flag are arguments
    of :func:`train`, not part of the config, so a run resumed elsewhere
    compares equal.  ``pgd_steps=None`` uses the paper's rule
    ``steps = 2.5 * eps / pgd_step_size`` per epoch; ``pgd_step_size=None``
    uses ``2.5 * eps / pgd_steps`` (Madry et al.'s convention).
    """

    data: DataSpec
    model: str = "mlp"
    method: str = "standard"
    eps: float = 0.0
    norm: str = "linf"
    epochs: int = 3
    batch_size: int = 128
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 0.0
    lr_milestones: tuple[int, ...] = ()
    lr_gamma: float = 0.1
    pgd_steps: int | None = 10
    pgd_step_size: float | None = None
    random_start: bool = True
    eps_start: float | None = None
    eps_increment: float | None = None
    stop_on_rise: float | None = None
    init_from: str | None = None
    carry_optimizer: bool = False
    augment: bool = False
    eval_size: int | None = None
    seed: int = 0
    preset: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.data, DataSpec):
            raise InvalidTypeError(f"data must be a DataSpec, got {type(self.data).__name__}")
        if self.method not in METHODS:
            raise InvalidInputError(
                f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.norm not in NORMS:
            raise InvalidInputError(f"norm must be one of {', '.join(NORMS)}, got {self.norm!r}")
        _check_pos(self.eps, "eps", allow_zero=True)
        if self.method != "standard" and self.eps == 0:
            raise InvalidInputError(f"eps must be > 0 for method {self.method!r}")
        for name in ("epochs", "batch_size", "seed"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < (0 if name == "seed" else 1):
                raise InvalidInputError(
                    f"{name} must be an integer >= {0 if name == 'seed' else 1}")
        if self.optimizer not in ("adam", "sgd"):
            raise InvalidInputError(f"optimizer must be 'adam' or 'sgd', got {self.optimizer!r}")
        _check_pos(self.lr, "lr")
        _check_pos(self.momentum, "momentum", allow_zero=True)
        _check_pos(self.weight_decay, "weight_decay", allow_zero=True)
        _check_pos(self.lr_gamma, "lr_gamma")
        object.__setattr__(self, "lr_milestones", tuple(int(m) for m in self.lr_milestones))
        if any(m < 1 for m in self.lr_milestones):
            raise InvalidInputError("lr_milestones must be epochs >= 1")
        if self.pgd_steps is None and self.pgd_step_size is None:
            raise InvalidInputError("pgd_steps and pgd_step_size cannot both be None")
        if self.pgd_steps is not None and (
            isinstance(self.pgd_steps, bool) or not isinstance(self.pgd_steps, int)
            or self.pgd_steps < 1
        ):
            raise InvalidInputError(f"pgd_steps must be an integer >= 1, got {self.pgd_steps!r}")
        if self.pgd_step_size is not None:
            _check_pos(self.pgd_step_size, "pgd_step_size")
        if self.method == "extended" and not self.init_from:
            raise InvalidInputError(
                "method 'extended' needs init_from (a checkpoint at a smaller eps)")
        if self.carry_optimizer and not self.init_from:
            raise InvalidInputError("carry_optimizer needs init_from")
        if self.method == "iterative":
            if self.eps_start is None:
                object.__setattr__(self, "eps_start", 0.0)
        elif self.eps_start is not None or self.eps_increment is not None:
            raise InvalidInputError("eps_start/eps_increment are only for method 'iterative'")
        if self.stop_on_rise is not None and self.method != "iterative":
            raise InvalidInputError("stop_on_rise is only for method 'iterative'")
        if self.stop_on_rise is not None:
            detect_rise([], self.stop_on_rise)  # validates the factor
        if self.eval_size is not None and (not isinstance(self.eval_size, int) or
                                           self.eval_size < 1):
            raise InvalidInputError(f"eval_size must be an integer >= 1, got {self.eval_size!r}")
        self.schedule()  # validates eps_start / eps_increment

    @property
    def p(self) -> float:
        """The norm exponent (0, 2 or inf)."""
        return NORMS[self.norm]

    def schedule(self) -> EpsSchedule:
        """The budget per epoch."""
        if self.method == "iterative":
            return EpsSchedule(self.eps, self.epochs, self.eps_start, self.eps_increment)
        return EpsSchedule(self.eps, self.epochs)

    def pgd_settings(self, eps: float) -> tuple[int, float]:
        """``(steps, step_size)`` of the training PGD at budget ``eps > 0``."""
        if self.pgd_steps is None:
            assert self.pgd_step_size is not None  # checked in __post_init__
            return paper_pgd_steps(eps, self.pgd_step_size), self.pgd_step_size
        step = self.pgd_step_size if self.pgd_step_size is not None else 2.5 * eps / self.pgd_steps
        return self.pgd_steps, step

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (round-trips through :func:`config_from_dict`)."""
        d = asdict(self)
        d["lr_milestones"] = list(self.lr_milestones)
        if d["data"].get("classes") is not None:
            d["data"]["classes"] = list(d["data"]["classes"])
        return d


def config_from_dict(d: Mapping[str, Any]) -> TrainConfig:
    """Inverse of :meth:`TrainConfig.to_dict`; unknown keys raise ``ValueError``."""
    d = dict(d)
    data = dict(d.pop("data"))
    if data.get("classes") is not None:
        data["classes"] = tuple(data["classes"])
    known = {f.name for f in fields(TrainConfig)}
    unknown = set(d) - known
    if unknown:
        raise InvalidInputError(f"config has unknown keys: {', '.join(sorted(unknown))}")
    d["lr_milestones"] = tuple(d.get("lr_milestones", ()))
    return TrainConfig(data=DataSpec(**data), **d)
