"""CLI fuzz cases: every optrobust command, every option, hostile text and files.

The rule: exit 0 with output, or exit 2 with exactly one line on stderr (and
nothing on stdout); never a traceback, never another status.  Commands run in
process through :func:`optrobust.cli.main` (fast); ``test_fuzz_cli`` adds a
few real subprocess runs.  ``python -m tests.fuzz.cli_cases`` prints counts.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.fuzz.cases import _STRINGS

TEXT = {**_STRINGS, "neg_list": "-1,0", "empty_items": "1,,2", "nan_list": "nan,1",
        "inf_list": "inf,inf", "many": ",".join(["1"] * 300)}


def data_files(root: Path) -> dict[str, str]:
    """Valid and hostile .npz / text files for ``--data`` and ``--train``."""
    root.mkdir(parents=True, exist_ok=True)
    pts = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [3.0, 3.0]])
    lab = np.array([0, 1, 0, 1])

    def npz(name: str, **arrays) -> str:
        path = root / f"{name}.npz"
        np.savez(path, **arrays)
        return str(path)

    text = root / "text.npz"
    text.write_text("points,labels\n0,1\n")
    empty = root / "empty.npz"
    empty.write_bytes(b"")
    return {
        "valid": npz("valid", points=pts, labels=lab),
        "missing": str(root / "missing.npz"),
        "directory": str(root),
        "text_as_npz": str(text),
        "empty_file": str(empty),
        "no_labels": npz("nolabels", points=pts),
        "no_points": npz("nopoints", labels=lab),
        "nan_points": npz("nanpts", points=np.where(pts == 3.0, np.nan, pts), labels=lab),
        "inf_points": npz("infpts", points=np.where(pts == 3.0, np.inf, pts), labels=lab),
        "huge_points": npz("hugepts", points=pts * 1e300, labels=lab),
        "mismatch": npz("mismatch", points=pts, labels=lab[:3]),
        "one_class": npz("oneclass", points=pts, labels=np.zeros(4, dtype=int)),
        "empty_arrays": npz("emptyarr", points=np.empty((0, 2)), labels=np.empty(0)),
        "string_labels": npz("strlab", points=pts, labels=np.array(["a", "b", "a", "b"])),
        "complex_points": npz("cpx", points=pts + 1j, labels=lab),
        "bool_points": npz("boolpts", points=pts > 0, labels=lab),
        "3d_points": npz("pts3d", points=pts[:, :, None], labels=lab),
        "object_array": npz("obj", points=np.array([object()] * 4, dtype=object), labels=lab),
        "negative_weights": npz("negw", points=pts, labels=lab, weights=-np.ones(4)),
        "float_labels": npz("floatlab", points=pts, labels=lab + 0.5),
    }


@dataclass(frozen=True)
class CliCase:
    id: str
    command: str
    argv: tuple[str, ...]


def _with(argv: list[str], option: str, value: str) -> list[str]:
    out = list(argv)
    if option in out:
        out[out.index(option) + 1] = value
    else:
        out += [option, value]
    return out


def _without(argv: list[str], option: str) -> list[str]:
    out = list(argv)
    i = out.index(option)
    return out[:i] + out[i + 2:]


def cli_cases(root: Path) -> list[CliCase]:
    files = data_files(root / "data")
    png = str(root / "out.png")
    bases: dict[str, tuple[list[str], list[str], dict[str, dict[str, str]]]] = {
        # name: (argv, options fuzzed with TEXT, options fuzzed with special values)
        "limits bernoulli": (
            ["limits", "bernoulli", "--k", "50", "--t", "0.3", "--eps", "10", "--norm", "l0"],
            ["--k", "--t", "--eps", "--norm", "--dim", "--values"], {}),
        "limits gaussian (means)": (
            ["limits", "gaussian", "--mu-pos", "1,0.5", "--mu-neg", "-1,0", "--norm", "linf",
             "--eps", "1/4"],
            ["--mu-pos", "--mu-neg", "--sigma", "--eps", "--norm"], {}),
        "limits gaussian (distance)": (
            ["limits", "gaussian", "--distance", "2", "--p", "2", "--eps", "0.5"],
            ["--distance", "--sigma", "--eps"], {}),
        "table bernoulli": (
            ["table", "bernoulli", "--k", "10,50", "--t", "0.1,0.3", "--norm", "l0"],
            ["--k", "--t", "--norm", "--values"],
            {"--plot": {"png": png, "no_dir": "/nonexistent/dir/x.png", "directory": str(root),
                        "bad_ext": str(root / "x.unknownext")}}),
        "exact": (
            ["exact", "--data", files["valid"], "--eps", "0.4", "--norm", "2"],
            ["--eps", "--norm", "--domain", "--solver", "--time-limit"],
            {"--data": files, "--train": files,
             "--plot": {"png": png, "no_dir": "/nonexistent/dir/x.png"}}),
        "hardness": (
            ["hardness", "--graph", "petersen", "--p", "2"],
            ["--graph", "--p", "--eps", "--domain"],
            {"--graph": {"cycle_huge": "cycle:100000000000", "gnp_3000": "gnp:3000,0.5,1",
                         "cycle_100000": "cycle:100000", "gnp_p": "gnp:10,2,1",
                         "missing_file": files["missing"], "text_file": files["text_as_npz"],
                         "path_1": "path:1", "cycle_2": "cycle:2"},
             "--eps": {"tiny": "1e-300", "denormal": "5e-324", "huge": "1e300"}}),
    }
    cases: list[CliCase] = []
    for name, (argv, fuzzed, special) in bases.items():
        cases.append(CliCase(f"{name}[base]", name, tuple(argv)))
        cases.append(CliCase(f"{name}[--json]", name, tuple(argv + ["--json"])))
        cases.append(CliCase(f"{name}[--help]", name, tuple(argv[:2] + ["--help"])))
        cases.append(CliCase(f"{name}[unknown option]", name, tuple(argv + ["--bogus", "1"])))
        cases.append(CliCase(f"{name}[dangling option]", name, tuple(argv + [argv[-2]])))
        for i in range(len(argv)):
            if argv[i].startswith("--") and i + 1 < len(argv):
                cases.append(CliCase(f"{name}[without {argv[i]}]", name,
                                     tuple(_without(argv, argv[i]))))
        for opt in fuzzed:
            for vname, v in TEXT.items():
                cases.append(CliCase(f"{name}[{opt}={vname}]", name, tuple(_with(argv, opt, v))))
        for opt, values in special.items():
            for vname, v in values.items():
                cases.append(CliCase(f"{name}[{opt}={vname}]", name, tuple(_with(argv, opt, v))))
    cases += [CliCase("optrobust[no command]", "optrobust", ()),
              CliCase("optrobust[bogus command]", "optrobust", ("bogus",)),
              CliCase("optrobust[--version]", "optrobust", ("--version",)),
              CliCase("limits[no model]", "limits bernoulli", ("limits",))]
    return cases


def run_cli(argv: tuple[str, ...]) -> tuple[int, str, str]:
    """``optrobust.cli.main(argv)`` in process: ``(status, stdout, stderr)``."""
    from optrobust.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            rc = main(list(argv))
        except SystemExit as exc:  # argparse: --help, --version (0) and usage errors (2)
            rc = exc.code if isinstance(exc.code, int) else 1
    return rc, out.getvalue(), err.getvalue()


def check_cli(argv: tuple[str, ...], rc: int, out: str, err: str) -> str:
    """The CLI rule; returns ``"exit 0"`` or ``"exit 2"`` or raises AssertionError."""
    assert "Traceback" not in err, err
    if rc == 0:
        assert out.strip(), "exit 0 without output"
        if "--json" in argv and "--help" not in argv:
            json.loads(out)
        return "exit 0"
    assert rc == 2, f"exit status {rc}: {err!r}"
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].strip(), f"stderr must be one line, got {err!r}"
    assert not out.strip() or "--help" in argv, f"stdout on error: {out!r}"
    return "exit 2"


if __name__ == "__main__":  # pragma: no cover - counts for docs/reliability.md
    with tempfile.TemporaryDirectory() as tmp:
        counts: dict[str, Counter] = {}
        for case in cli_cases(Path(tmp)):
            try:
                res = check_cli(case.argv, *run_cli(case.argv))
            except AssertionError as exc:
                res = "FAIL"
                print("FAIL", case.id, str(exc)[:150])
            except Exception as exc:  # noqa: BLE001
                res = "FAIL"
                print("FAIL", case.id, type(exc).__name__, str(exc)[:150])
            counts.setdefault(case.command, Counter())[res] += 1
        for cmd, c in counts.items():
            print(f"| `{cmd}` | {sum(c.values())} | {c['exit 0']} | {c['exit 2']} | {c['FAIL']} |")
