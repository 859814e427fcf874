"""Dataset limits of MNIST / CIFAR-10: where robust learning becomes impossible.

:func:`run_limits` loads a data set through :mod:`empirical.data` (read-only), flattens the
images to float64 pixels in ``[0, 1]`` and, over an eps grid, computes

* the optimal robust error of the **test sample** over deterministic classifiers on
  ``R^d``, exact or as a certified interval
  (:func:`optrobust.finite.dataset_limits.dataset_limits`): on average *below* the
  population limit;
* the **held-out estimate** (:func:`optrobust.finite.pruned_nn.held_out_estimate`): the
  certified robust error on the test sample of adversarial pruning + 1-NN fitted on the
  training sample, with attacks kept in the pixel box ``[0, 1]^d``: on average *above* the
  population limit (the test sample's optimum does not change with the box, since two
  balls around box points meet iff they meet at their midpoint, which is in the box);

and writes ``results.json``, ``results.md`` (a markdown table) and ``limits.png`` (error
against eps: exact points, certified band, held-out curve with its 95% interval, the
constant classifier's line and ``eps0``) to the output folder: first with the test-sample
bounds, then again after each held-out estimate (the training sample's conflict graph is
built once, at the largest eps, :func:`optrobust.finite.pruned_nn.held_out_curve`).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["LIMITS_DATASETS", "flat_images", "format_limits_table", "run_limits"]

#: Data sets accepted by :func:`run_limits`.
LIMITS_DATASETS = ("mnist", "cifar10")


def flat_images(dataset: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(n, d)`` float64 pixels and int64 labels of a ``TensorDataset`` of images in ``[0, 1]``.

    The float32 pixels ``k / 255`` of :mod:`empirical.data` are rounded back to the exact
    float64 ``k / 255``, so distances do not depend on the float32 detour.
    """
    x, y = dataset.tensors
    flat = x.reshape(x.shape[0], -1).numpy().astype(np.float64)
    return np.rint(flat * 255.0) / 255.0, y.numpy().astype(np.int64)


def _norm_label(p: float) -> str:
    return "l_inf" if p == math.inf else f"l{int(p)}"


def format_limits_table(rows: Sequence[Any], *, meta: dict[str, Any]) -> str:
    """The markdown report of a run: header lines and one table row per eps."""
    from optrobust.finite.dataset_limits import feasible_eps

    lines = [f"# Dataset limits: {meta['dataset']}, {_norm_label(meta['p'])}",
             "",
             f"- test sample: {meta['n_test']} images; training sample: {meta['n_train']} "
             f"images; classes: {meta['classes']}",
             f"- eps0 (half the smallest test distance between labels; optimum 0 below): "
             f"{rows[0].eps0:.4g}" if rows else "- no rows",
             f"- constant classifier's error (1 - largest class share): "
             f"{rows[0].constant_error:.4f}" if rows else "",
             f"- feasible eps (first grid eps where the optimum equals the constant's "
             f"error): {feasible_eps(rows) if rows else None}",
             f"- command: `{meta.get('command', '')}`",
             "",
             "| eps | test-sample optimum | status | held-out error [95% CI] | kept / train "
             "| pruning | conflicts | seconds (graph + solve / held-out) |",
             "|---:|---|---|---|---|---|---:|---|"]
    for r in rows:
        opt = (f"{r.lower:.4f}" if r.status == "exact"
               else f"[{r.lower:.4f}, {r.upper:.4f}]")
        h = r.held_out
        if h is None:
            held, kept, prune, hs = "-", "-", "-", "-"
        else:
            held = f"{h.error:.4f} [{h.ci_low:.4f}, {h.ci_high:.4f}]"
            kept, prune, hs = f"{h.n_kept} / {h.n_train}", h.pruning_status, f"{h.seconds:.1f}"
        sec = r.seconds.get("graph", 0.0) + r.seconds.get("solve", 0.0)
        lines.append(f"| {r.eps:g} | {opt} | {r.status} | {held} | {kept} | {prune} | "
                     f"{r.conflicts} | {sec:.1f} / {hs} |")
    return "\n".join(lines) + "\n"


def _write(out: Path, rows: Sequence[Any], meta: dict[str, Any], *, plot: bool) -> dict:
    from optrobust.finite.dataset_limits import feasible_eps, plot_dataset_limits

    payload = dict(meta)
    payload["feasible_eps"] = feasible_eps(rows) if rows else None
    payload["rows"] = [r.to_dict() for r in rows]
    tmp = out / "results.json.tmp"
    tmp.write_text(json.dumps(payload, indent=1, default=float) + "\n")
    tmp.replace(out / "results.json")
    (out / "results.md").write_text(format_limits_table(rows, meta=meta))
    if plot and rows:
        title = f"{meta['dataset']} {_norm_label(meta['p'])}: test n = {meta['n_test']}"
        if any(r.held_out is not None for r in rows):  # the training sample was used
            title += f", train n = {meta['n_train']}"
        plot_dataset_limits(rows, out / "limits.png", title=title)
    return payload


def run_limits(*, dataset: str, data_root: str, p: Any, eps_grid: Sequence[Any], out: Any,
               classes: Sequence[int] | None = None, train_size: int | None = None,
               test_size: int | None = None, seed: int = 0, time_limit: float | None = 600.0,
               held_out: bool = True, progress: bool = True,
               command: str = "") -> dict[str, Any]:
    """Test-sample optimum, certified bounds and held-out estimate over an eps grid.

    Parameters
    ----------
    dataset : {"mnist", "cifar10"}
    data_root : str
        Folder in torchvision's layout (``MNIST/raw/``, ``cifar-10-batches-py/``).
    p : {0, 1, 2, inf} or str
    eps_grid : sequence of float
        Budgets in pixel units (images in ``[0, 1]``).
    out : str or Path
        Output folder (created); ``results.json``, ``results.md``, ``limits.png``.
    classes : sequence of int, optional
        Keep these classes (relabelled ``0..c-1``); all ten by default.
    train_size, test_size : int, optional
        Stratified seeded subsets (:func:`empirical.data.stratified_indices`); whole splits
        by default.
    seed : int
        Seed of the subsets.
    time_limit : float or None
        Seconds per eps for each independent-set solve (test-sample optimum and pruning).
    held_out : bool
        Also compute the held-out estimate (needs the training sample).
    progress : bool
        tqdm bars over the eps grid and over the held-out certification.
    command : str
        The command line, recorded in the outputs.

    Returns
    -------
    dict
        The ``results.json`` payload (meta data, ``feasible_eps``, one dict per eps).
    """
    from optrobust.errors import InvalidInputError
    from optrobust.finite.dataset_limits import dataset_limits
    from optrobust.finite.pruned_nn import held_out_curve
    from optrobust.norms import parse_p

    if dataset not in LIMITS_DATASETS:
        raise InvalidInputError(f"dataset must be one of {', '.join(LIMITS_DATASETS)}, "
                                f"got {dataset!r}")
    p = parse_p(p)
    grid = sorted({float(e) for e in eps_grid})
    if not grid:
        raise InvalidInputError("eps_grid must hold at least one budget")
    if p == math.inf and grid[-1] >= 1.0:
        raise InvalidInputError(f"eps_grid: an l_inf budget >= 1 (the pixel range) makes "
                                f"every image reach every other; got {grid[-1]:g}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    from empirical.data import DataSpec, build_data

    t0 = time.perf_counter()
    try:
        spec = DataSpec(name=dataset, data_root=str(data_root), train_size=train_size,
                        test_size=test_size, seed=seed,
                        classes=None if classes is None else tuple(classes))
        bundle = build_data(spec)
    except (ValueError, FileNotFoundError) as exc:
        raise InvalidInputError(str(exc)) from None
    x_train, y_train = flat_images(bundle.train)
    x_test, y_test = flat_images(bundle.test)
    load_s = time.perf_counter() - t0
    meta = {"dataset": dataset, "p": p, "norm": _norm_label(p), "eps_grid": grid,
            "classes": list(classes) if classes is not None else list(range(10)),
            "n_train": int(x_train.shape[0]), "n_test": int(x_test.shape[0]),
            "dim": int(x_test.shape[1]), "seed": seed, "time_limit": time_limit,
            "box": [0.0, 1.0], "command": command, "seconds": {"load": load_s}}

    t1 = time.perf_counter()
    rows = list(dataset_limits(x_test, y_test, eps=grid, p=p, time_limit=time_limit,
                               progress=progress or None))
    meta["seconds"]["bounds"] = time.perf_counter() - t1
    _write(out, rows, meta, plot=True)
    if held_out:
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(grid) * x_test.shape[0], desc="held-out (certify)",
                       unit="img")
        t2 = time.perf_counter()

        def phase(msg: str) -> None:
            if bar is not None:
                bar.set_postfix_str(msg.replace("graph", f"conflict graph of "
                                                f"{x_train.shape[0]} training images"))

        def save(e: float, est: Any) -> None:
            i = grid.index(e)
            rows[i] = dataclasses.replace(rows[i], held_out=est,
                                          seconds={**rows[i].seconds, "held_out": est.seconds})
            meta["seconds"]["held_out"] = time.perf_counter() - t2
            _write(out, rows, meta, plot=True)

        held_out_curve(x_train, y_train, x_test, y_test, eps=grid, p=p, time_limit=time_limit,
                       box=(0.0, 1.0), progress=None if bar is None else bar.update,
                       phase=phase, on_result=save)
        if bar is not None:
            bar.close()
    meta["seconds"]["total"] = time.perf_counter() - t0
    return _write(out, rows, meta, plot=True)
