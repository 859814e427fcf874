"""Network architectures used in the experiments.

* ``"paper-cnn"``: the MNIST CNN of the paper (TensorFlow tutorial / Madry et al.): conv
  5x5 with 32 channels, 2x2 max pooling, conv 5x5 with 64 channels, 2x2 max pooling, a
  1024-unit fully connected layer, then the logits.  ``padding=2`` ("SAME" in the tutorial).
* ``"small-cnn"``: a CPU-friendly CNN (conv 3x3 16 channels, pool, conv 3x3 32 channels,
  pool, 128 units), about 10x cheaper than ``paper-cnn`` on MNIST.
* ``"mlp"``: two hidden layers of 128 ReLU units, for synthetic vector data.
* ``"resnet18"``, ``"resnet50"``: torchvision ResNets adapted to 32x32 inputs (3x3 stem
  convolution with stride 1, no initial max pooling, as in Engstrom et al.'s robustness
  library used for the paper's CIFAR-10 models).
"""

from __future__ import annotations

import math

from torch import nn

from optrobust.errors import InvalidInputError

__all__ = ["MODEL_NAMES", "build_model"]

#: Names accepted by :func:`build_model`.
MODEL_NAMES: tuple[str, ...] = ("paper-cnn", "small-cnn", "mlp", "resnet18", "resnet50")


def _conv_net(in_ch: int, hw: tuple[int, int], channels: tuple[int, int], kernel: int,
              hidden: int, num_classes: int) -> nn.Module:
    pad = kernel // 2
    h, w = hw
    for _ in range(2):
        h, w = h // 2, w // 2
    if h < 1 or w < 1:
        raise InvalidInputError(f"input_shape spatial size must be >= 4x4 for a CNN; got {hw}")
    return nn.Sequential(
        nn.Conv2d(in_ch, channels[0], kernel, padding=pad), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(channels[0], channels[1], kernel, padding=pad), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(channels[1] * h * w, hidden), nn.ReLU(),
        nn.Linear(hidden, num_classes),
    )


def _resnet(name: str, in_ch: int, num_classes: int) -> nn.Module:
    from torchvision.models import resnet18, resnet50

    net = (resnet18 if name == "resnet18" else resnet50)(weights=None, num_classes=num_classes)
    net.conv1 = nn.Conv2d(in_ch, 64, kernel_size=3, stride=1, padding=1, bias=False)
    net.maxpool = nn.Identity()
    return net


def build_model(name: str, *, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    """Build a freshly initialized network.

    Parameters
    ----------
    name : str
        One of :data:`MODEL_NAMES`.
    input_shape : tuple of int
        Shape of one input without the batch dimension: ``(C, H, W)`` for the CNNs and
        ResNets, any shape for ``"mlp"`` (it is flattened).
    num_classes : int
        Number of logits, ``>= 2``.

    Returns
    -------
    torch.nn.Module
        Maps a batch of shape ``(n, *input_shape)`` to logits of shape ``(n, num_classes)``.

    References
    ----------
    .. [1] Source paper, Section 3.1.1 (MNIST CNN, ResNet-50 for CIFAR-10); Appendix B
       (ResNet-18 on MNIST).
    """
    if name not in MODEL_NAMES:
        raise InvalidInputError(f"name must be one of {', '.join(MODEL_NAMES)}; got {name!r}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise InvalidInputError(f"num_classes must be an integer >= 2; got {num_classes!r}")
    shape = tuple(input_shape)
    if not shape or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in shape):
        raise InvalidInputError(f"input_shape must be a non-empty tuple of positive ints; got "
                         f"{input_shape!r}")
    if name == "mlp":
        d = math.prod(shape)
        return nn.Sequential(nn.Flatten(), nn.Linear(d, 128), nn.ReLU(), nn.Linear(128, 128),
                             nn.ReLU(), nn.Linear(128, num_classes))
    if len(shape) != 3:
        raise InvalidInputError(f"input_shape must be (channels, height, width) for {name}; got "
                         f"{input_shape!r}")
    c, h, w = shape
    if name == "paper-cnn":
        return _conv_net(c, (h, w), (32, 64), 5, 1024, num_classes)
    if name == "small-cnn":
        return _conv_net(c, (h, w), (16, 32), 3, 128, num_classes)
    return _resnet(name, c, num_classes)
