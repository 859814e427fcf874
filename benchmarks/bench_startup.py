"""Start-up time of ``import optrobust`` and ``optrobust-empirical --help`` (issue 14).

Each command runs in a fresh interpreter, interleaved with the baseline ``python -c pass``
in the same run (``OMP_NUM_THREADS=1``); the script prints the median wall time of each and
its ratio to the baseline's.  Goals: ``import optrobust`` < 0.3 s, ``--help`` and argument
errors < 0.5 s.

    OMP_NUM_THREADS=1 python benchmarks/bench_startup.py --repeats 15
    # before/after in the same run: an export of an older commit as the second tree
    git archive 9f31cdb optrobust empirical | tar -x -C /tmp/before
    OMP_NUM_THREADS=1 python benchmarks/bench_startup.py --before /tmp/before

With ``--before DIR`` every command also runs with the packages of ``DIR`` imported instead
of the installed ones (the editable-install finder is removed, ``DIR`` put first on
``sys.path``), interleaved with the rest.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

PY = sys.executable
CASES = {
    "python -c pass (baseline)": [PY, "-c", "pass"],
    "import optrobust": [PY, "-c", "import optrobust"],
    "import optrobust; optrobust.BernoulliModel": [PY, "-c",
                                                   "import optrobust; optrobust.BernoulliModel"],
    "optrobust-empirical --help": [PY, "-m", "empirical", "--help"],
    "optrobust-empirical train --help": [PY, "-m", "empirical", "train", "--help"],
    "optrobust-empirical evaluate --eps abc (argument error)": [
        PY, "-m", "empirical", "evaluate", "--checkpoint", "x.pt", "--eps", "abc"],
    "import torch (for scale)": [PY, "-c", "import torch"],
}


def _before(cmd: list[str], tree: str) -> list[str]:
    """The same command, importing the packages of ``tree`` (an older export)."""
    prelude = (f"import sys; sys.meta_path[:] = [f for f in sys.meta_path "
               f"if 'editable' not in repr(f)]; sys.path.insert(0, {tree!r}); ")
    if cmd[1] == "-c":
        return [cmd[0], "-c", prelude + cmd[2]]
    mod, argv = cmd[2], cmd[3:]
    return [cmd[0], "-c", prelude + f"sys.argv = [{mod!r}, *{argv!r}]; import runpy; "
            f"runpy.run_module({mod!r}, run_name='__main__', alter_sys=True)"]


def _once(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                   env=env)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15, help="rounds (default 15)")
    ap.add_argument("--before", metavar="DIR",
                    help="also time each command with the packages of DIR (an older tree)")
    args = ap.parse_args()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    runs = [(name, cmd, env) for name, cmd in CASES.items()]
    if args.before:
        tree = os.path.abspath(args.before)
        runs += [(f"{name} [before]", _before(cmd, tree), env) for name, cmd in CASES.items()
                 if "baseline" not in name and "torch" not in name]
    times: dict[str, list[float]] = {name: [] for name, _, _ in runs}
    for _ in range(args.repeats):  # interleaved: one of each per round
        for name, cmd, e in runs:
            times[name].append(_once(cmd, e))
    base = statistics.median(times["python -c pass (baseline)"])
    print(f"{'command':58s} {'median s':>9s} {'min s':>7s} {'x baseline':>10s}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:58s} {med:9.3f} {min(ts):7.3f} {med / base:10.1f}")


if __name__ == "__main__":
    main()
