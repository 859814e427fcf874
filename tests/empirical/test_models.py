"""Tests of the model zoo: shapes, parameter counts from hand derivations, bad names."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from empirical.models import MODEL_NAMES, build_model  # noqa: E402


def _n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def test_paper_cnn_parameter_count():
    # Hand count (28x28 input, SAME padding, two 2x2 poolings -> 7x7x64):
    # conv1 5*5*1*32 + 32 = 832; conv2 5*5*32*64 + 64 = 51264;
    # fc 7*7*64*1024 + 1024 = 3212288; logits 1024*10 + 10 = 10250; total 3274634.
    model = build_model("paper-cnn", input_shape=(1, 28, 28), num_classes=10)
    assert _n_params(model) == 3274634
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)


def test_small_cnn_and_mlp():
    small = build_model("small-cnn", input_shape=(1, 28, 28), num_classes=10)
    # 3*3*16+16 + 3*3*16*32+32 + 7*7*32*128+128 + 128*10+10 = 160+4640+200832+1290.
    assert _n_params(small) == 206922
    mlp = build_model("mlp", input_shape=(10,), num_classes=2)
    assert _n_params(mlp) == 10 * 128 + 128 + 128 * 128 + 128 + 128 * 2 + 2
    assert mlp(torch.zeros(4, 10)).shape == (4, 2)
    cifar_small = build_model("small-cnn", input_shape=(3, 32, 32), num_classes=10)
    assert cifar_small(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_resnets_on_32x32():
    for name, count in (("resnet18", 11173962), ("resnet50", 23520842)):
        # torchvision's ResNet with a 3x3 stride-1 stem (64*3*3*3 instead of 64*3*7*7
        # weights): 11689512 - 9408 + 1728 - 513000 + 5130 for resnet18 / 10 classes.
        model = build_model(name, input_shape=(3, 32, 32), num_classes=10).eval()
        assert _n_params(model) == count
        assert model.maxpool.__class__.__name__ == "Identity"
    assert model(torch.zeros(1, 3, 32, 32)).shape == (1, 10)


def test_bad_arguments():
    assert set(MODEL_NAMES) == {"paper-cnn", "small-cnn", "mlp", "resnet18", "resnet50"}
    with pytest.raises(ValueError, match="name"):
        build_model("vgg", input_shape=(1, 28, 28), num_classes=10)
    with pytest.raises(ValueError, match="num_classes"):
        build_model("mlp", input_shape=(4,), num_classes=1)
    with pytest.raises(ValueError, match="input_shape"):
        build_model("paper-cnn", input_shape=(784,), num_classes=10)
