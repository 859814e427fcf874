"""Tests of the data module: MNIST from ../shared/data, CIFAR-10 on generated files,
stratified subsets, synthetic samplers against the optrobust theory."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from scipy.special import ndtr  # noqa: E402

from empirical.data import DataSpec, build_data, stratified_indices  # noqa: E402

#: MNIST in torchvision's layout beside the clone (CI has ../shared next to the repository).
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

needs_mnist = pytest.mark.skipif(not (SHARED_DATA / "MNIST" / "raw").is_dir(),
                                 reason="../shared/data/MNIST not present")


def _mnist_train_labels() -> np.ndarray:
    from torchvision import datasets

    return np.asarray(datasets.MNIST(str(SHARED_DATA), train=True).targets)


@needs_mnist
def test_mnist_subset_is_stratified_scaled_and_seeded():
    spec = DataSpec(name="mnist", data_root=str(SHARED_DATA), train_size=500, test_size=100,
                    seed=3)
    b = build_data(spec)
    x, y = b.train.tensors
    assert x.shape == (500, 1, 28, 28) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert b.test.tensors[0].shape == (100, 1, 28, 28)
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    assert (b.num_classes, b.input_shape, b.lower, b.upper, b.theory) == (10, (1, 28, 28), 0.0,
                                                                         1.0, None)
    # Stratified: every class gets its quota 500 * n_c / 60000 rounded down or up (MNIST
    # train has 5421 fives -> 45.2 and 6742 ones -> 56.2).
    counts = torch.bincount(y, minlength=10).double()
    quota = 500 * torch.bincount(torch.as_tensor(_mnist_train_labels())).double() / 60000
    assert bool(((counts - quota).abs() < 1).all())
    assert int(counts[5]) == 45 and int(counts[1]) in (56, 57)
    again = build_data(spec)
    assert torch.equal(again.train.tensors[0], x)
    other = build_data(DataSpec(name="mnist", data_root=str(SHARED_DATA), train_size=500,
                                test_size=100, seed=4))
    assert not torch.equal(other.train.tensors[0], x)


@needs_mnist
def test_mnist_classes_and_binarize():
    b = build_data(DataSpec(name="mnist", data_root=str(SHARED_DATA), train_size=200,
                            test_size=50, classes=(7, 3), binarize=True))
    x, y = b.train.tensors
    assert b.num_classes == 2
    assert set(y.unique().tolist()) == {0, 1}
    assert set(x.unique().tolist()) == {0.0, 1.0}
    # MNIST train has 6265 sevens and 6131 threes: class 0 (= 7) is the larger one.
    assert int((y == 0).sum()) in (101, 102)
    full = build_data(DataSpec(name="mnist", data_root=str(SHARED_DATA), test_size=50))
    assert len(full.train) == 60000  # None = the whole split


def test_missing_files_message(tmp_path):
    for name in ("mnist", "cifar10"):
        with pytest.raises(FileNotFoundError, match=r"download=True") as err:
            build_data(DataSpec(name=name, data_root=str(tmp_path)))
        assert "\n" not in str(err.value) and str(tmp_path) in str(err.value)


def _write_cifar(root, n_per_batch: int, rng: np.random.Generator) -> list[np.ndarray]:
    folder = root / "cifar-10-batches-py"
    folder.mkdir()
    images = []
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(n_per_batch, 3072), dtype=np.uint8)
        labels = [int(i % 10) for i in range(n_per_batch)]
        images.append(data)
        with open(folder / name, "wb") as fh:
            pickle.dump({"data": data, "labels": labels}, fh)
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({"label_names": [f"c{i}" for i in range(10)]}, fh)
    return images


def test_cifar10_loader_on_generated_files(tmp_path, monkeypatch):
    # The files are in torchvision's layout but are not the real ones, so only the md5
    # checks are bypassed (in this test only); reading goes through torchvision.
    from torchvision import datasets
    from torchvision.datasets import cifar

    images = _write_cifar(tmp_path, 20, np.random.default_rng(0))
    with pytest.raises(FileNotFoundError):  # the md5 check rejects the fake files
        build_data(DataSpec(name="cifar10", data_root=str(tmp_path)))
    monkeypatch.setattr(datasets.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(cifar, "check_integrity", lambda *args, **kwargs: True)
    b = build_data(DataSpec(name="cifar10", data_root=str(tmp_path), test_size=10, seed=1))
    x, y = b.train.tensors
    assert x.shape == (100, 3, 32, 32) and b.test.tensors[0].shape == (10, 3, 32, 32)
    assert b.input_shape == (3, 32, 32) and b.num_classes == 10
    # Pixel (channel 1, row 2, col 3) of the first training image, from the raw row-major
    # CHW bytes written above.
    assert float(x[0, 1, 2, 3]) == pytest.approx(images[0][0, 1024 + 2 * 32 + 3] / 255)
    assert torch.equal(y[:10], torch.arange(10))
    assert torch.bincount(b.test.tensors[1]).tolist() == [1] * 10


def test_gaussian_sampler_matches_theory():
    spec = DataSpec(name="gaussian", dim=4, distance=2.0, sigma=1.5, train_size=20000,
                    test_size=100, seed=5)
    b = build_data(spec)
    x, y = b.train.tensors
    assert b.input_shape == (4,) and b.lower is None and b.upper is None
    mu = torch.full((4,), 2.0 / (2 * math.sqrt(4)))  # ||mu_+ - mu_-|| = distance
    n1 = int((y == 1).sum())
    assert abs(n1 - 10000) < 4 * math.sqrt(5000)
    se = 4 * 1.5 / math.sqrt(n1)
    assert float((x[y == 1].mean(0) - mu).abs().max()) < se
    assert float((x[y == 0].mean(0) + mu).abs().max()) < se
    assert float(x[y == 1].std(0).mean()) == pytest.approx(1.5, rel=0.03)
    # Bayes rule sign(w.x) errs with probability Phi(-distance / (2 sigma)) (Theorem 2).
    err = float(((x.sum(1) > 0).long() != y).double().mean())
    bayes = float(ndtr(-2.0 / 3.0))
    assert abs(err - bayes) < 4 * math.sqrt(bayes * (1 - bayes) / 20000)
    assert b.theory.bayes_error() == pytest.approx(bayes)


def test_bernoulli_sampler_matches_theory():
    b = build_data(DataSpec(name="bernoulli", dim=12, k=5, t=0.3, train_size=20000,
                            test_size=10, seed=2))
    x, y = b.train.tensors
    assert set(x.unique().tolist()) == {-1.0, 1.0} and (b.lower, b.upper) == (-1.0, 1.0)
    assert b.theory.k == 5
    # theta_+ = (1,...,1) and theta_- differs on the first k coordinates: each coordinate
    # equals theta_y with probability 1/2 + t = 0.8.
    theta = torch.ones(len(y), 12)
    theta[y == 0, :5] = -1
    agree = float((x == theta).double().mean())
    assert abs(agree - 0.8) < 4 * math.sqrt(0.16 / x.numel())


def test_synthetic_train_and_test_are_independent_and_seeded():
    a = build_data(DataSpec(name="gaussian", train_size=50, test_size=50, seed=0))
    b = build_data(DataSpec(name="gaussian", train_size=50, test_size=50, seed=0))
    assert torch.equal(a.train.tensors[0], b.train.tensors[0])
    assert not torch.equal(a.train.tensors[0], a.test.tensors[0])


@given(labels=st.lists(st.integers(0, 4), min_size=1, max_size=200),
       frac=st.floats(0.01, 1.0), seed=st.integers(0, 10))
def test_stratified_indices_keep_class_proportions(labels, frac, seed):
    labels = np.array(labels)
    size = max(1, int(frac * len(labels)))
    idx = stratified_indices(labels, size, np.random.default_rng(seed))
    assert len(idx) == size == len(set(idx.tolist()))
    for c in np.unique(labels):
        quota = size * np.mean(labels == c)
        assert math.floor(quota) <= np.sum(labels[idx] == c) <= math.ceil(quota)


def test_bad_specs():
    with pytest.raises(ValueError, match="name"):
        DataSpec(name="imagenet")
    with pytest.raises(ValueError, match="train_size"):
        DataSpec(name="mnist", train_size=0)
    with pytest.raises(ValueError, match="k must"):
        DataSpec(name="bernoulli", dim=10, k=11)
    with pytest.raises(ValueError, match="sigma"):
        DataSpec(name="gaussian", sigma=0.0)
    with pytest.raises(ValueError, match="classes"):
        DataSpec(name="mnist", classes=(3,))
    with pytest.raises(TypeError, match="spec"):
        build_data("mnist")


def test_oversized_synthetic_sample_is_refused_before_allocating():
    """dim = 1e11 grew a numpy MemoryError (745 GiB); now a named error up front."""
    from optrobust.errors import ResourceLimitError

    with pytest.raises(ResourceLimitError, match=r"lower dim or the sample sizes"):
        build_data(DataSpec(name="gaussian", dim=10**11, train_size=10, test_size=10))
    small = build_data(DataSpec(name="gaussian", dim=3, train_size=10, test_size=10))
    assert small.train.tensors[0].shape == (10, 3)
