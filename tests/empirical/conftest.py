"""Shared fixtures for the empirical tests: tiny models trained in well under a second."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from empirical.data import DataSpec, build_data  # noqa: E402
from empirical.models import build_model  # noqa: E402

#: MNIST in torchvision's layout, beside the clone (CI has ../shared next to the repository).
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _fit(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int,
         lr: float = 1e-2) -> torch.nn.Module:
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    model.eval()
    return model


@pytest.fixture(scope="session")
def gaussian_bundle():
    """Gaussian model, d=10, ||mu_+ - mu_-|| = 3, sigma=1 (Bayes error Phi(-1.5) = 0.0668)."""
    return build_data(DataSpec(name="gaussian", dim=10, distance=3.0, sigma=1.0,
                               train_size=2000, test_size=500, seed=0))


@pytest.fixture(scope="session")
def gaussian_mlp(gaussian_bundle):
    """An MLP trained (full batch, 150 Adam steps) on the Gaussian bundle; >85% accurate."""
    torch.manual_seed(0)
    x, y = gaussian_bundle.train.tensors
    model = build_model("mlp", input_shape=(10,), num_classes=2)
    return _fit(model, x, y, steps=150)


@pytest.fixture(scope="session")
def box_mlp():
    """A 3-class MLP on 12-dim inputs in the box [0, 1], trained on a separable rule."""
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(400, 12, generator=gen)
    y = (x[:, :4].sum(1) > 2).long() + (x[:, 4:8].sum(1) > 2).long()
    torch.manual_seed(1)
    model = build_model("mlp", input_shape=(12,), num_classes=3)
    model = _fit(model, x, y, steps=100, lr=2e-2)
    return model, x[:200], y[:200]
