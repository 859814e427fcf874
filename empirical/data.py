"""Data sets for the experiments: MNIST and CIFAR-10 through torchvision, and synthetic
samples from :mod:`optrobust`'s Gaussian and Bernoulli models.

Everything is returned as in-memory ``TensorDataset``s on the CPU: inputs float32, labels
int64 class indices.  Images are scaled to ``[0, 1]`` (box ``lower=0, upper=1``); synthetic
data are unbounded (Gaussian) or live on ``{-1,1}^d`` (Bernoulli, box ``[-1, 1]``).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import TensorDataset

from empirical.errors import MissingFileError
from optrobust.errors import InvalidInputError, InvalidTypeError, ResourceLimitError

__all__ = ["DATA_NAMES", "DataBundle", "DataSpec", "build_data", "default_data_root",
           "stratified_indices"]

#: Names accepted by :class:`DataSpec`.
DATA_NAMES: tuple[str, ...] = ("mnist", "cifar10", "gaussian", "bernoulli")

#: Default sizes of synthetic train / test sets when ``train_size``/``test_size`` are None.
SYNTHETIC_DEFAULT_SIZES = (10000, 2000)

_FILES = {
    "mnist": ("MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte (the four files, "
              "gunzipped, from http://yann.lecun.com/exdb/mnist/)"),
    "cifar10": ("cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta} (extract "
                "cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html)"),
}


#: ``DataSpec.data_root`` meaning "the default location" (also the value runs recorded
#: before the default was resolved from the package location).
DEFAULT_DATA_ROOT = "../shared/data"


def default_data_root() -> Path:
    """Where MNIST / CIFAR-10 are read from when no ``data_root`` is given.

    ``$OPTROBUST_DATA_ROOT`` if set; else ``shared/data`` beside the repository (the
    folder above the one holding the ``empirical`` package), whatever the current directory.
    """
    env = os.environ.get("OPTROBUST_DATA_ROOT")
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def _root(spec_root: str) -> Path:
    return default_data_root() if spec_root == DEFAULT_DATA_ROOT else Path(spec_root).expanduser()


@dataclass(frozen=True)
class DataSpec:
    """What data to build (see :func:`build_data`).

    Attributes
    ----------
    name : {"mnist", "cifar10", "gaussian", "bernoulli"}
    data_root : str
        Folder in torchvision's layout (``MNIST/raw/``, ``cifar-10-batches-py/``); the
        default ``"../shared/data"`` stands for :func:`default_data_root` (resolved from the
        package location, not the current directory).
    train_size, test_size : int or None
        Seeded stratified subset sizes; ``None`` = everything (images) or 10000 / 2000
        samples (synthetic).
    seed : int
        Seed of the subset choice and of the synthetic sampler.
    binarize : bool
        Images: threshold at 1/2 to ``{0, 1}``.
    download : bool
        Let torchvision download missing files.
    dim, distance, sigma : int, float, float
        Gaussian model: ``mu_pos = -mu_neg = distance / (2 sqrt(dim)) * (1, ..., 1)``, so
        ``||mu_pos - mu_neg||_2 = distance``; covariance ``sigma^2 I``.
    k, t : int, float
        Bernoulli model on ``{-1,1}^dim``: ``theta_pos = (1, ..., 1)`` and ``theta_neg``
        equal to it except for the first ``k`` coordinates (the effective dimensions);
        ``t`` is the bias in ``(0, 1/2]``.
    classes : tuple of int or None
        Keep only these classes, relabelled ``0..c-1`` in the given order.
    """

    name: str
    data_root: str = DEFAULT_DATA_ROOT
    train_size: int | None = None
    test_size: int | None = None
    seed: int = 0
    binarize: bool = False
    download: bool = False
    dim: int = 10
    distance: float = 3.0
    sigma: float = 1.0
    k: int = 50
    t: float = 0.3
    classes: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.name not in DATA_NAMES:
            raise InvalidInputError(f"name must be one of {', '.join(DATA_NAMES)}; "
                                    f"got {self.name!r}")
        for field in ("train_size", "test_size"):
            v = getattr(self, field)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise InvalidInputError(f"{field} must be a positive integer or None; got {v!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InvalidInputError(f"seed must be an integer >= 0; got {self.seed!r}")
        if isinstance(self.dim, bool) or not isinstance(self.dim, int) or self.dim < 1:
            raise InvalidInputError(f"dim must be an integer >= 1; got {self.dim!r}")
        if self.classes is not None:
            cls = tuple(self.classes)
            if len(cls) < 2 or len(set(cls)) != len(cls) or any(
                    isinstance(c, bool) or not isinstance(c, int) or c < 0 for c in cls):
                raise InvalidInputError("classes must be None or at least two distinct class "
                                 f"indices >= 0; got {self.classes!r}")
            object.__setattr__(self, "classes", cls)
        if self.name == "gaussian":
            if not (math.isfinite(self.distance) and self.distance >= 0):
                raise InvalidInputError(f"distance must be a finite real >= 0; "
                                        f"got {self.distance!r}")
            if not (math.isfinite(self.sigma) and self.sigma > 0):
                raise InvalidInputError(f"sigma must be a finite real > 0; got {self.sigma!r}")
        if self.name == "bernoulli":
            if isinstance(self.k, bool) or not isinstance(self.k, int) or not (
                    1 <= self.k <= self.dim):
                raise InvalidInputError(f"k must be an integer in [1, dim={self.dim}]; "
                                        f"got {self.k!r}")
            if not (0 < self.t <= 0.5):
                raise InvalidInputError(f"t must be in (0, 1/2]; got {self.t!r}")


@dataclass
class DataBundle:
    """Train and test sets plus what attacks and comparisons need to know about them."""

    train: TensorDataset
    test: TensorDataset
    num_classes: int
    input_shape: tuple[int, ...]
    lower: float | None
    upper: float | None
    theory: object | None


def stratified_indices(labels: np.ndarray, size: int | None, rng: np.random.Generator
                       ) -> np.ndarray:
    """Seeded stratified subset of ``size`` indices (sorted), all if ``size`` is None.

    Class ``c`` gets ``floor(size * n_c / n)`` indices; the remaining ones go to the classes
    with the largest fractional parts (largest-remainder rounding), so class proportions are
    kept up to one sample.
    """
    n = len(labels)
    if size is None or size >= n:
        return np.arange(n)
    classes, counts = np.unique(labels, return_counts=True)
    quota = size * counts / n
    alloc = np.floor(quota).astype(int)
    rest = size - int(alloc.sum())
    order = np.argsort(-(quota - alloc), kind="stable")
    alloc[order[:rest]] += 1
    picked = [rng.permutation(np.flatnonzero(labels == c))[:a]
              for c, a in zip(classes, alloc, strict=True)]
    return np.sort(np.concatenate(picked))


def _torchvision_split(spec: DataSpec, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    from torchvision import datasets

    root = _root(spec.data_root)
    cls = datasets.MNIST if spec.name == "mnist" else datasets.CIFAR10
    try:
        ds = cls(str(root), train=train, download=spec.download)
    except (RuntimeError, OSError) as exc:  # OSError: URLError of a failed download
        if spec.download:
            first = " ".join(str(exc).split())[:200]
            raise MissingFileError(
                f"{spec.name} not found under {root} and the download failed (no network? "
                f"{first}); put {_FILES[spec.name]} there by hand") from None
        raise MissingFileError(
            f"{spec.name} not found under {root}: put {_FILES[spec.name]} there, or allow "
            f"torchvision to download it (download=True)") from None
    data = ds.data
    if isinstance(data, np.ndarray):  # CIFAR-10: (n, 32, 32, 3) uint8
        x = torch.from_numpy(data).permute(0, 3, 1, 2).contiguous()
    else:  # MNIST: (n, 28, 28) uint8
        x = data.unsqueeze(1)
    y = torch.as_tensor(np.asarray(ds.targets), dtype=torch.int64)
    return x.to(torch.float32).div_(255.0), y


def _select_classes(x: torch.Tensor, y: torch.Tensor, classes: tuple[int, ...] | None
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    if classes is None:
        return x, y
    mapping = torch.full((int(max(int(y.max()), *classes)) + 1,), -1, dtype=torch.int64)
    for new, old in enumerate(classes):
        mapping[old] = new
    y_new = mapping[y]
    keep = y_new >= 0
    return x[keep], y_new[keep]


def _images(spec: DataSpec) -> DataBundle:
    rng = np.random.default_rng(spec.seed)
    splits = []
    for train, size in ((True, spec.train_size), (False, spec.test_size)):
        x, y = _torchvision_split(spec, train)
        if spec.classes is not None:
            if max(spec.classes) >= 10:
                raise InvalidInputError(f"classes must be in 0..9 for {spec.name}; "
                                        f"got {spec.classes}")
            x, y = _select_classes(x, y, spec.classes)
        idx = torch.from_numpy(stratified_indices(y.numpy(), size, rng))
        x, y = x[idx], y[idx]
        if spec.binarize:
            x = (x > 0.5).to(torch.float32)
        splits.append(TensorDataset(x, y))
    n_classes = 10 if spec.classes is None else len(spec.classes)
    return DataBundle(train=splits[0], test=splits[1], num_classes=n_classes,
                      input_shape=tuple(splits[0].tensors[0].shape[1:]), lower=0.0, upper=1.0,
                      theory=None)


def synthetic_model(spec: DataSpec) -> Any:
    """The :mod:`optrobust` model a synthetic :class:`DataSpec` samples from."""
    import optrobust

    if spec.name == "gaussian":
        mu = np.full(spec.dim, spec.distance / (2.0 * math.sqrt(spec.dim)))
        return optrobust.GaussianModel(mu, -mu, sigma=spec.sigma)
    if spec.name == "bernoulli":
        theta_pos = np.ones(spec.dim, dtype=int)
        theta_neg = theta_pos.copy()
        theta_neg[: spec.k] = -1
        return optrobust.BernoulliModel(theta_pos, theta_neg, spec.t)
    raise InvalidInputError(f"name must be 'gaussian' or 'bernoulli' for a synthetic model; "
                            f"got {spec.name!r}")


def _memory_bytes() -> int:
    """Physical memory of the machine (8 GiB where it cannot be read)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):
        return 8 << 30


def _check_synthetic_size(dim: int, sizes: tuple[int, int]) -> None:
    """Refuse, before allocating, a sample larger than half the machine's memory.

    Sampling holds ``dim * n`` float64 values and their float32 copy: 12 bytes each.
    """
    need = 12 * dim * (sizes[0] + sizes[1])
    limit = _memory_bytes() // 2
    if need > limit:
        raise ResourceLimitError(
            f"dim * (train_size + test_size) = {dim} * {sizes[0] + sizes[1]} values need about "
            f"{need / 2**30:.3g} GiB, more than half of this machine's memory "
            f"({limit / 2**30:.3g} GiB); lower dim or the sample sizes")


def _synthetic(spec: DataSpec) -> DataBundle:
    sizes = (spec.train_size or SYNTHETIC_DEFAULT_SIZES[0],
             spec.test_size or SYNTHETIC_DEFAULT_SIZES[1])
    _check_synthetic_size(spec.dim, sizes)
    model = synthetic_model(spec)
    rng_train, rng_test = (np.random.default_rng(s)
                           for s in np.random.SeedSequence(spec.seed).spawn(2))
    splits = []
    for rng, n in zip((rng_train, rng_test), sizes, strict=True):
        X, y = model.sample(n, rng=rng)
        x_t = torch.as_tensor(np.asarray(X, dtype=np.float32))
        y_t = torch.as_tensor((np.asarray(y) == 1).astype(np.int64))  # +1 -> 1, -1 -> 0
        splits.append(TensorDataset(x_t, y_t))
    lower, upper = (None, None) if spec.name == "gaussian" else (-1.0, 1.0)
    return DataBundle(train=splits[0], test=splits[1], num_classes=2, input_shape=(spec.dim,),
                      lower=lower, upper=upper, theory=model)


def build_data(spec: DataSpec) -> DataBundle:
    """Build the train/test tensors described by ``spec``.

    Parameters
    ----------
    spec : DataSpec

    Returns
    -------
    DataBundle
        Images: inputs ``(n, C, H, W)`` in ``[0, 1]``, box ``[0, 1]``, ``theory=None``.
        Gaussian: inputs ``(n, dim)``, unbounded; Bernoulli: inputs in ``{-1,1}^dim``, box
        ``[-1, 1]``; ``theory`` is the :mod:`optrobust` model and labels map ``+1 -> 1``,
        ``-1 -> 0``.  Train and test synthetic samples use independent streams spawned
        from ``seed``.

    Raises
    ------
    MissingFileError
        Image files missing (a ``FileNotFoundError``; the message says which files to put
        where, and offers the download only when it was not already tried).

    References
    ----------
    .. [1] Source paper, Section 3.1.1 (MNIST and CIFAR-10 scaled to [0, 1]); Definitions 6
       and 7 (Gaussian and Bernoulli models).
    """
    if not isinstance(spec, DataSpec):
        raise InvalidTypeError(f"spec must be a DataSpec; got {type(spec).__name__}")
    if spec.name in ("mnist", "cifar10"):
        return _images(spec)
    return _synthetic(spec)
