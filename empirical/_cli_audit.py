"""``optrobust-empirical audit``: audit any model against the exact optimum of its test images.

::

    optrobust-empirical audit --model mynet.py:Net --weights mynet.pt --dataset mnist \\
        --data-root ../shared/data --norm linf --eps 0.1,0.2,0.3 --n 1000 --out runs/audit
    optrobust-empirical audit --model model.ts --dataset test.npz --eps 8/255 \\
        --normalize 0.49,0.48,0.45,0.25,0.24,0.26 --autoattack reduced --out runs/audit

``--model`` is ``MODULE:FACTORY`` (a dotted module or a path to a ``.py`` file, and a
callable in it that returns the ``nn.Module`` when called without arguments) or a TorchScript
file.  ``--weights`` is a plain ``state_dict``, a ``{"model": state_dict}`` dict or the
library's own checkpoint (then ``--model`` may be left out).  Every user error exits with
status 2 and one line naming the problem.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import math
import sys
from pathlib import Path
from typing import Any

from empirical._cli_common import at_least
from optrobust.parsing import CliError, add_norm_option, parse_number, parse_number_list

__all__ = ["load_model", "load_npz", "register", "run"]

_SCRIPT_SUFFIXES = (".pt", ".pth", ".ts", ".jit", ".torchscript")


def register(sub: Any, add_common: Any) -> None:
    """Add the ``audit`` sub-command to ``sub`` (an argparse sub-parsers object)."""
    from empirical.choices import AUTOATTACK_MODES

    p = sub.add_parser(
        "audit", help="audit your own model: PGD and AutoAttack beside the exact optimal "
                      "robust accuracy of the same test images, the gap and the checklist",
        description="Audit any model: clean and robust accuracy (PGD with restarts, "
                    "AutoAttack), the per-sample worst case, the exact optimal robust "
                    "accuracy of the same test images (optrobust), the gap, a broken-"
                    "evaluation flag and the Appendix-C checklist.  Writes audit.json, "
                    "audit.md and audit.png to --out.")
    g = p.add_argument_group("model")
    g.add_argument("--model", metavar="MODULE:FACTORY|FILE.pt",
                   help="a callable returning the nn.Module (MODULE dotted or a .py path), "
                        "or a TorchScript file; optional with a library checkpoint")
    g.add_argument("--weights", metavar="FILE",
                   help="a state_dict, a {'model': state_dict} dict or an optrobust-"
                        "empirical checkpoint (default: the factory's own weights)")
    g.add_argument("--normalize", metavar="MEAN,STD",
                   help="the model's input normalization, applied inside the attacked "
                        "function: two numbers, or C means then C stds (e.g. "
                        "0.49,0.48,0.45,0.25,0.24,0.26); default none")
    g = p.add_argument_group("data")
    g.add_argument("--dataset", required=True, metavar="mnist|cifar10|FILE.npz",
                   help="mnist, cifar10 (torchvision files under --data-root) or an .npz "
                        "with x_test, y_test (or x, y) in [0, 1] and optionally x_train, "
                        "y_train")
    g.add_argument("--data-root", default=None,
                   help="directory of the MNIST/CIFAR-10 files (default: the library's "
                        "data directory)")
    g.add_argument("--n", type=at_least(1), default=1000,
                   help="test images (a class-stratified subset; default 1000)")
    g.add_argument("--train-n", type=at_least(1), default=None, metavar="N",
                   help="training images for the held-out bracket (default: none)")
    g = p.add_argument_group("threat model and attacks")
    add_norm_option(p, default="linf", choices="l0, l2, linf")
    g.add_argument("--eps", required=True,
                   help="budgets in pixel units, e.g. 0.1,0.2,0.3 or 8/255")
    g.add_argument("--box", default="0,1", metavar="LOWER,UPPER",
                   help="valid inputs (default 0,1); 'none' for no box")
    g.add_argument("--force", action="store_true",
                   help="accept an l_inf eps at least the box width (default: refused, "
                        "the 0-255 mistake)")
    g.add_argument("--autoattack", choices=AUTOATTACK_MODES, default="full",
                   help="full: ART's ensemble at its standard budget (slow on a CPU); "
                        "reduced: 20 iterations; torchattacks: the reference standard "
                        "AutoAttack; off (default full)")
    g.add_argument("--steps", type=at_least(1), default=50, help="PGD steps (default 50)")
    g.add_argument("--restarts", type=at_least(1), default=3,
                   help="PGD restarts (default 3)")
    g.add_argument("--no-checklist", dest="checklist", action="store_false",
                   help="skip the Appendix-C checklist (default: run it)")
    g.add_argument("--checklist-n", type=at_least(1), default=100,
                   help="images the checklist uses (default 100)")
    g.add_argument("--time-limit", type=_positive_number, default=600.0, metavar="SECONDS",
                   help="per eps, for the optimum (certified bounds after it; default 600)")
    g.add_argument("--batch-size", type=at_least(1), default=256,
                   help="evaluation batch size (default 256)")
    g.add_argument("--seed", type=at_least(0), default=0,
                   help="seed of the subset and the attacks (default 0)")
    p.add_argument("--out", required=True, help="output directory")
    add_common(p)
    p.set_defaults(func=run)


def _positive_number(text: str) -> float:
    try:
        v = parse_number(text, name="value")
    except CliError:
        v = -1.0
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return v


def _one_line(exc: BaseException, limit: int = 240) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _import_module(spec: str) -> Any:
    """A dotted module, or a ``.py`` file (imported under a private name)."""
    path = Path(spec).expanduser()
    if spec.endswith(".py") or "/" in spec or "\\" in spec:
        if not path.is_file():
            raise CliError(f"--model: no such Python file {spec!r}")
        name = "_optrobust_audit_" + path.stem.replace("-", "_")
        mod_spec = importlib.util.spec_from_file_location(name, path)
        if mod_spec is None or mod_spec.loader is None:
            raise CliError(f"--model: cannot import {spec!r} as a Python module")
        module = importlib.util.module_from_spec(mod_spec)
        sys.modules[name] = module
        try:
            mod_spec.loader.exec_module(module)
        except Exception as exc:  # the user's code: any failure is theirs
            sys.modules.pop(name, None)
            raise CliError(f"--model: importing {spec!r} failed: {type(exc).__name__}: "
                           f"{_one_line(exc)}") from None
        return module
    try:
        return importlib.import_module(spec)
    except ModuleNotFoundError as exc:
        raise CliError(f"--model: cannot import module {spec!r} ({_one_line(exc)}); give a "
                       "dotted module on the Python path or a path to a .py file") from None
    except Exception as exc:  # the user's code
        raise CliError(f"--model: importing {spec!r} failed: {type(exc).__name__}: "
                       f"{_one_line(exc)}") from None


def _state_dict(obj: Any, path: str) -> dict[str, Any]:
    import torch

    if isinstance(obj, dict) and isinstance(obj.get("model"), dict):
        obj = obj["model"]
    elif isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not obj or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()):
        raise CliError(f"--weights {path}: not a state_dict (a dict of parameter names to "
                       "tensors, or {'model': state_dict})")
    return obj


def _read_weights(path: str) -> Any:
    import pickle

    import torch

    p = Path(path).expanduser()
    if not p.is_file():
        raise CliError(f"--weights: no such file {path!r}")
    with open(p, "rb") as fh:
        magic = fh.read(4)
    if not (magic.startswith(b"PK") or magic.startswith(b"\x80")):  # zip / legacy pickle
        raise CliError(f"--weights {path}: not a torch file (expected what torch.save "
                       "writes)")
    try:
        return torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights_only" in str(exc) or "Unsupported global" in str(exc):
            raise CliError(f"--weights {path}: holds pickled Python objects, not a "
                           "state_dict; save model.state_dict() instead") from None
        raise CliError(f"--weights {path}: not a torch file ({_one_line(exc, 120)})") from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise CliError(f"--weights {path}: not a torch file ({_one_line(exc, 120)})") from None


def load_model(model: str | None, weights: str | None, *, input_shape: tuple[int, ...],
               num_classes: int) -> Any:
    """The ``nn.Module`` named by ``--model`` with ``--weights`` loaded (CPU).

    Raises
    ------
    CliError
        A factory that does not import or does not return a module, a TorchScript file that
        does not load, weights that are not a state dict or do not fit the module.
    """
    import torch
    from torch import nn

    if model is None:
        if weights is None:
            raise CliError("--model is required (MODULE:FACTORY or a TorchScript file), "
                           "unless --weights is an optrobust-empirical checkpoint")
        obj = _read_weights(weights)
        if not (isinstance(obj, dict) and "config" in obj and "model" in obj):
            raise CliError(f"--weights {weights} is not an optrobust-empirical checkpoint: "
                           "name the model class with --model MODULE:FACTORY")
        from empirical.checklist import load_source_model

        return load_source_model(weights, input_shape=input_shape, num_classes=num_classes)
    if ":" not in model and model.lower().endswith(_SCRIPT_SUFFIXES):
        if not Path(model).expanduser().is_file():
            raise CliError(f"--model: no such TorchScript file {model!r}")
        try:
            net = torch.jit.load(str(Path(model).expanduser()), map_location="cpu")
        except (RuntimeError, ValueError, OSError) as exc:
            raise CliError(f"--model {model}: not a TorchScript file ({_one_line(exc, 120)}); "
                           "for a state_dict use --model MODULE:FACTORY --weights FILE"
                           ) from None
    else:
        if ":" not in model:
            raise CliError(f"--model must be MODULE:FACTORY (e.g. mynet.py:Net) or a "
                           f"TorchScript file (.pt); got {model!r}")
        mod_name, _, attr = model.rpartition(":")
        if not mod_name or not attr:
            raise CliError(f"--model must be MODULE:FACTORY; got {model!r}")
        obj: Any = _import_module(mod_name)
        for part in attr.split("."):
            if not hasattr(obj, part):
                raise CliError(f"--model: {mod_name!r} has no attribute {attr!r}")
            obj = getattr(obj, part)
        if not callable(obj):
            raise CliError(f"--model: {model!r} is not callable")
        try:
            net = obj() if not isinstance(obj, nn.Module) else obj
        except Exception as exc:  # the user's code
            raise CliError(f"--model: calling {attr}() failed: {type(exc).__name__}: "
                           f"{_one_line(exc)}") from None
        if not isinstance(net, nn.Module):
            raise CliError(f"--model: {attr}() returned {type(net).__name__}, not a "
                           "torch.nn.Module")
    if weights is not None:
        state = _state_dict(_read_weights(weights), weights)
        try:
            net.load_state_dict(state)
        except (RuntimeError, KeyError, ValueError) as exc:
            raise CliError(f"--weights {weights} do not fit the model: "
                           f"{_one_line(exc, 200)}") from None
    return net


def load_npz(path: str) -> dict[str, Any]:
    """``x_test, y_test`` (or ``x, y``) and optional ``x_train, y_train`` from an ``.npz``,
    images as float32 ``(n, C, H, W)`` in the file's scale (uint8 divided by 255)."""
    import numpy as np
    import torch

    p = Path(path).expanduser()
    if not p.is_file():
        raise CliError(f"--dataset: no such file {path!r}")
    try:
        with np.load(p, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (ValueError, OSError, EOFError) as exc:
        raise CliError(f"--dataset {path}: not a numpy .npz archive ({_one_line(exc, 100)})"
                       ) from None
    out: dict[str, Any] = {}
    for split, keys in (("test", (("x_test", "y_test"), ("x", "y"))),
                        ("train", (("x_train", "y_train"),))):
        for kx, ky in keys:
            if kx in arrays and ky in arrays:
                x, y = arrays[kx], arrays[ky]
                if x.dtype == np.uint8:
                    x = x.astype(np.float32) / 255.0
                if x.dtype.kind not in "fiu" or y.dtype.kind not in "iu":
                    raise CliError(f"--dataset {path}: {kx} must be numbers and {ky} integer "
                                   f"labels; got {x.dtype} and {y.dtype}")
                if x.ndim == 3:
                    x = x[:, None]
                elif x.ndim == 4 and x.shape[-1] in (1, 3) and x.shape[1] not in (1, 3):
                    x = np.transpose(x, (0, 3, 1, 2))
                if len(x) != len(y) or y.ndim != 1 or len(x) == 0:
                    raise CliError(f"--dataset {path}: {kx} and {ky} must be non-empty with "
                                   f"one label per image; got {x.shape} and {y.shape}")
                out[split] = (torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32),
                              torch.as_tensor(y.astype(np.int64)))
                break
    if "test" not in out:
        raise CliError(f"--dataset {path}: needs arrays x_test and y_test (or x and y); has "
                       f"{', '.join(sorted(arrays)) or 'none'}")
    return out


def _subset(x: Any, y: Any, n: int | None, seed: int) -> tuple[Any, Any]:
    import numpy as np
    import torch

    from empirical.data import stratified_indices

    idx = stratified_indices(y.numpy(), n, np.random.default_rng(seed))
    t = torch.from_numpy(idx)
    return x[t], y[t]


def _data(args: argparse.Namespace) -> tuple[Any, Any, Any, Any]:
    """Test (and training) tensors of ``--dataset``."""
    if args.dataset in ("mnist", "cifar10"):
        from empirical.data import DataSpec, build_data

        kw = {} if args.data_root is None else {"data_root": args.data_root}
        spec = DataSpec(name=args.dataset, test_size=args.n, train_size=args.train_n or 10,
                        seed=args.seed, **kw)
        try:
            bundle = build_data(spec)
        except FileNotFoundError as exc:
            raise CliError(f"--data-root: {_one_line(exc, 200)}") from None
        x, y = bundle.test.tensors
        xt, yt = bundle.train.tensors if args.train_n else (None, None)
        return x, y, xt, yt
    if not args.dataset.endswith(".npz"):
        raise CliError(f"--dataset must be mnist, cifar10 or a .npz file; got "
                       f"{args.dataset!r}")
    arrays = load_npz(args.dataset)
    x, y = _subset(*arrays["test"], args.n, args.seed)
    xt = yt = None
    if args.train_n:
        if "train" not in arrays:
            raise CliError(f"--train-n needs x_train and y_train in {args.dataset}")
        xt, yt = _subset(*arrays["train"], args.train_n, args.seed)
    return x, y, xt, yt


def _normalize(text: str | None) -> Any:
    if text is None:
        return None
    values = parse_number_list(text, name="--normalize")
    if len(values) % 2 or not all(math.isfinite(v) for v in values):
        raise CliError(f"--normalize must be MEAN,STD or C means then C stds (an even count "
                       f"of finite numbers); got {text!r}")
    k = len(values) // 2
    mean, std = values[:k], values[k:]
    if min(std) <= 0:
        raise CliError(f"--normalize: std must be > 0; got {std}")
    return (mean[0], std[0]) if k == 1 else (mean, std)


def _box(text: str) -> Any:
    if text.strip().lower() == "none":
        return None
    values = parse_number_list(text, name="--box")
    if len(values) != 2 or not all(math.isfinite(v) for v in values) or values[0] >= values[1]:
        raise CliError(f"--box must be LOWER,UPPER with LOWER < UPPER, or none; got {text!r}")
    return tuple(values)


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """Run the audit; the payload is :meth:`empirical.audit.AuditResult.to_dict`."""
    import torch

    from empirical.audit import audit
    from empirical.threat import check_eps_scale
    from optrobust.errors import InvalidInputError
    from optrobust.norms import parse_p

    try:
        p = parse_p(args.norm, allowed=(0, 2, math.inf), name="--norm")
    except InvalidInputError:
        raise CliError(f"--norm must be l0, l2 or linf; got {args.norm!r}") from None
    eps = parse_number_list(args.eps, name="--eps")
    if any(not math.isfinite(e) or e < 0 for e in eps):
        raise CliError(f"--eps must be finite numbers >= 0; got {args.eps!r}")
    box = _box(args.box)
    normalize = _normalize(args.normalize)
    x, y, xt, yt = _data(args)
    lo, hi = (None, None) if box is None else box
    for e in eps:
        try:
            check_eps_scale(e, p, lo, hi, dim=math.prod(x.shape[1:]), force=args.force)
        except InvalidInputError as exc:
            raise CliError("--eps: " + str(exc).replace("pass force=True", "pass --force")
                           ) from None
    num_classes = int(y.max()) + 1
    model = load_model(args.model, args.weights, input_shape=tuple(x.shape[1:]),
                       num_classes=max(num_classes, 2))
    if args.device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    elif args.device == "cuda" and not torch.cuda.is_available():
        raise CliError("--device cuda: CUDA is not available")
    else:
        device = args.device
    model = model.to(device)
    try:
        res = audit(model, x, y, eps=eps, p=p, box=box, normalize=normalize,
                    autoattack=args.autoattack, steps=args.steps, restarts=args.restarts,
                    checklist=args.checklist, checklist_n=args.checklist_n,
                    train_points=xt, train_labels=yt, time_limit=args.time_limit,
                    device=device, batch_size=args.batch_size, seed=args.seed,
                    force=args.force, progress=not args.quiet, out=args.out)
    except InvalidInputError as exc:
        raise CliError(_one_line(exc, 300)) from None
    except ImportError as exc:  # an optional extra (ART, torchattacks) missing
        raise CliError(f"--autoattack {args.autoattack}: {_one_line(exc, 200)}") from None
    except OSError as exc:
        raise CliError(f"--out {args.out}: {_one_line(exc, 200)}") from None
    payload = {**res.to_dict(), "model": args.model, "weights": args.weights,
               "dataset": args.dataset}
    text = res.to_markdown() + "\n" + "\n".join(f"{k}: {v}" for k, v in res.files.items())
    if res.broken_evaluation:
        text += ("\nBROKEN EVALUATION: the model appears more robust than any classifier can "
                 "be on these images; the attacks are too weak (see the checklist)")
    return payload, text
