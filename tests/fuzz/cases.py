"""The fuzz cases: every public entry point of ``optrobust``, every argument, every hostile value.

Each entry point has a valid base call; each case replaces ONE argument by one
hostile value (:mod:`tests.fuzz.hostile`) and states the property a correct
answer must satisfy.  ``python -m tests.fuzz.cases`` prints the counts recorded
in docs/reliability.md.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from tests.fuzz.hostile import SCALARS, arrays, is_rate, outcome


@dataclass(frozen=True)
class Case:
    id: str
    entry: str
    call: Callable[[], Any]
    check: Callable[[Any], None]

    def run(self) -> str:
        return outcome(self.call, self.check)


CASES: list[Case] = []
#: name -> (function, base kwargs, check, {argument: {value name: hostile value}}).
ENTRIES: dict[str, tuple[Callable[..., Any], dict[str, Any], Callable[[Any], None],
                         dict[str, dict[str, Any]]]] = {}


def _entry(name: str, fn: Callable[..., Any], base: dict[str, Any], check: Callable[[Any], None],
           *, scalars: tuple[str, ...] = (), arrays_of: dict[str, tuple[int, ...]] | None = None,
           extra: dict[str, dict[str, Any]] | None = None) -> None:
    """Register the base call and one case per (argument, hostile value)."""
    CASES.append(Case(f"{name}[base]", name, lambda: fn(**base), check))
    subs: list[tuple[str, str, Any]] = []
    for key in scalars:
        subs += [(key, vname, v) for vname, v in SCALARS.items()]
    for key, shape in (arrays_of or {}).items():
        subs += [(key, vname, v) for vname, v in arrays(shape, base[key]).items()]
    for key, values in (extra or {}).items():
        subs += [(key, vname, v) for vname, v in values.items()]
    pools: dict[str, dict[str, Any]] = {}
    for key, vname, v in subs:
        pools.setdefault(key, {})[vname] = v
    ENTRIES[name] = (fn, base, check, pools)
    for key, vname, v in subs:
        kw = dict(base)
        kw[key] = v
        CASES.append(Case(f"{name}[{key}={vname}]", name, lambda kw=kw: fn(**kw), check))


# ---------------------------------------------------------------- Bernoulli

def _bern_rates(theta_pos, theta_neg, t, values):
    from optrobust import BernoulliModel

    m = BernoulliModel(theta_pos, theta_neg, t, values=values)
    return m.bayes_error(), m.robust_error(eps=1, p=0), m.feasible_eps(0), m


def _check_bern_rates(res):
    bayes, robust, fe, m = res
    is_rate(bayes)
    is_rate(robust)
    assert bayes <= robust
    assert fe >= 0 and m.robust_error(eps=fe, p=0) == 0.5


_entry("BernoulliModel", _bern_rates,
       {"theta_pos": [1, 1, -1, 1], "theta_neg": [-1, 1, 1, -1], "t": 0.2, "values": "pm1"},
       _check_bern_rates, scalars=("t", "values"),
       arrays_of={"theta_pos": (4,), "theta_neg": (4,)})


def _bern_solution(k, t, d, values, eps, p):
    from optrobust import BernoulliModel

    m = BernoulliModel.symmetric(k, t, d=d, values=values)
    return m, m.robust_solution(eps=eps, p=p)


def _check_bern_solution(res):
    m, sol = res
    is_rate(sol.error)
    assert m.bayes_error() <= sol.error + 1e-15
    assert 0 <= sol.threshold <= m.k and 0 <= sol.radius <= m.k
    assert m.robust_error(eps=0, p=sol.p) <= sol.error


_entry("BernoulliModel.symmetric.robust_solution", _bern_solution,
       {"k": 20, "t": 0.2, "d": None, "values": "pm1", "eps": 3, "p": 0},
       _check_bern_solution, scalars=("k", "t", "d", "values", "eps", "p"))


def _bern_feasible(k, t, p, values):
    from optrobust import BernoulliModel

    m = BernoulliModel.symmetric(k, t, values=values)
    return m, m.feasible_eps(p), p


def _check_bern_feasible(res):
    m, fe, p = res
    assert fe >= 0 and math.isfinite(fe)
    assert m.robust_error(eps=fe, p=p) == 0.5


_entry("BernoulliModel.feasible_eps", _bern_feasible,
       {"k": 50, "t": 0.3, "p": 2, "values": "01"}, _check_bern_feasible,
       scalars=("k", "t", "p"))

_X = np.array([[1, -1, 1], [0.2, 0.3, -0.9], [-1, -1, -1], [1, 1, 1], [0.0, 0.0, 0.0]])


def _predict(X, p):
    from optrobust import BernoulliModel

    clf = BernoulliModel.symmetric(3, 0.2).robust_classifier(eps=0.6, p=p)
    return clf.predict(X), X


def _check_predict(res):
    labels, X = res
    assert labels.ndim == 1 and set(labels.tolist()) <= {-1, 1}
    assert len(labels) == (1 if np.ndim(X) == 1 else len(X))


for _p in (0, 1, 2, math.inf):
    _entry(f"HammingThresholdClassifier.predict[p={_p}]", _predict, {"X": _X, "p": _p},
           _check_predict, arrays_of={"X": (5, 3)})


def _sample(n, rng):
    from optrobust import BernoulliModel

    return BernoulliModel.symmetric(4, 0.2, d=6).sample(n, rng=rng), n


def _check_sample(res):
    (X, y), n = res
    assert X.shape == (n, 6) and y.shape == (n,) and set(np.unique(X)) <= {-1.0, 1.0}


_entry("BernoulliModel.sample", _sample, {"n": 7, "rng": 0}, _check_sample, scalars=("n", "rng"))


def _conflict_radius(eps, p, k, values):
    from optrobust.bernoulli import conflict_radius

    return conflict_radius(eps, p, k, values), k


def _check_radius(res):
    r, k = res
    assert isinstance(r, int) and 0 <= r <= k


_entry("conflict_radius", _conflict_radius, {"eps": 1.5, "p": 2, "k": 7, "values": "pm1"},
       _check_radius, scalars=("eps", "p", "k", "values"))


def _level_dp(k, t, r):
    from optrobust.bernoulli import level_dp_error

    return level_dp_error(k, t, r)


_entry("level_dp_error", _level_dp, {"k": 12, "t": 0.2, "r": 3}, is_rate, scalars=("k", "t", "r"))


# ----------------------------------------------------------------- Gaussian

def _gauss(mu_pos, mu_neg, sigma, eps, p):
    from optrobust import GaussianModel

    m = GaussianModel(mu_pos, mu_neg, sigma=sigma)
    return m, m.robust_error(eps=eps, p=p), p


def _gauss_cov(mu_pos, mu_neg, cov, eps, p):
    from optrobust import GaussianModel

    m = GaussianModel(mu_pos, mu_neg, cov=cov)
    return m, m.robust_error(eps=eps, p=p), p


def _check_gauss(res):
    m, err, p = res
    is_rate(err)
    assert m.bayes_error() <= err + 1e-12
    fe = m.feasible_eps(p)
    assert fe >= 0 and math.isfinite(fe)
    assert m.robust_error(eps=fe, p=p) == 0.5


_entry("GaussianModel", _gauss,
       {"mu_pos": np.array([1.0, 0.5]), "mu_neg": np.array([-1.0, 0.0]), "sigma": 1.0,
        "eps": 0.3, "p": 2},
       _check_gauss, scalars=("sigma", "eps", "p"),
       arrays_of={"mu_pos": (2,), "mu_neg": (2,)})
_entry("GaussianModel[diag sigma]", _gauss,
       {"mu_pos": np.array([1.0, 0.5]), "mu_neg": np.array([-1.0, 0.0]),
        "sigma": np.array([1.0, 2.0]), "eps": 0.3, "p": math.inf},
       _check_gauss, arrays_of={"sigma": (2,)})
_entry("GaussianModel[cov]", _gauss_cov,
       {"mu_pos": np.array([1.0, 0.5]), "mu_neg": np.array([-1.0, 0.0]),
        "cov": np.array([[2.0, 0.3], [0.3, 1.0]]), "eps": 0.3, "p": 1},
       _check_gauss, scalars=("eps", "p"), arrays_of={"cov": (2, 2)})


def _gauss_predict(X, p):
    from optrobust import GaussianModel

    clf = GaussianModel(np.array([1.0, 0.5]), np.array([-1.0, 0.0])).robust_classifier(
        eps=0.3, p=p)
    return clf.predict(X), X


def _check_linear_predict(res):
    """Labels +-1, one per row; a linear rule also broadcasts over extra leading axes."""
    labels, X = res
    assert set(np.unique(labels).tolist()) <= {-1, 1}
    assert labels.shape == np.shape(X)[:-1] or (np.ndim(X) == 1 and labels.size == 1)


for _p in (1, 2, math.inf):
    _entry(f"LinearClassifier.predict[p={_p}]", _gauss_predict,
           {"X": np.array([[1.0, 0.0], [-1.0, 0.2], [0.0, 0.0]]), "p": _p}, _check_linear_predict,
           arrays_of={"X": (3, 2)})


def _gauss_sample(n, rng):
    from optrobust import GaussianModel

    return GaussianModel(np.array([1.0, 0.5]), np.array([-1.0, 0.0])).sample(n, rng=rng), n


def _check_gauss_sample(res):
    (X, y), n = res
    assert X.shape == (n, 2) and y.shape == (n,) and np.all(np.isfinite(X))
    assert set(np.unique(y).tolist()) <= {-1, 1}


_entry("GaussianModel.sample", _gauss_sample, {"n": 5, "rng": 0}, _check_gauss_sample,
       scalars=("n", "rng"))


# --------------------------------------------------------- finite distributions

_PTS = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [3.0, 3.0]])
_LAB = np.array([0, 1, 0, 1])
_W = np.array([1.0, 2.0, 1.0, 1.0])


def _constant_error(dist) -> float:
    w = np.asarray(dist.weights, dtype=float)
    w = w / w.sum()
    labels = np.asarray(dist.labels)
    return 1.0 - max(float(w[labels == c].sum()) for c in np.unique(labels))


def _finite(points, labels, weights, eps, p, domain, solver):
    from optrobust import FiniteDistribution, optimal_robust_error

    dist = FiniteDistribution(points, labels, weights)
    return dist, optimal_robust_error(dist, eps=eps, p=p, domain=domain, solver=solver)


def _check_finite(res):
    dist, sol = res
    is_rate(sol.error, hi=1.0)
    assert sol.error <= _constant_error(dist) + 1e-12


_FIN = {"points": _PTS, "labels": _LAB, "weights": _W, "eps": 0.4, "p": 2,
        "domain": "continuous", "solver": "auto"}
_entry("optimal_robust_error", _finite, _FIN, _check_finite,
       scalars=("eps", "p", "domain", "solver"),
       arrays_of={"points": (4, 2), "labels": (4,), "weights": (4,)})


def _finite_predict(X):
    from optrobust import FiniteDistribution, optimal_robust_error

    sol = optimal_robust_error(FiniteDistribution(_PTS, _LAB, _W), eps=0.4, p=2)
    return sol.classifier.predict(X), X


def _check_finite_predict(res):
    labels, X = res
    assert labels.ndim == 1 and set(labels.tolist()) <= {0, 1}
    assert len(labels) == (1 if np.ndim(X) == 1 else len(X))


_entry("NearestRobustCenterClassifier.predict", _finite_predict,
       {"X": np.array([[0.0, 0.0], [3.0, 3.0], [0.4, 0.1]])}, _check_finite_predict,
       arrays_of={"X": (3, 2)})


def _relabeled(labels):
    from optrobust import FiniteDistribution, optimal_robust_error

    dist = FiniteDistribution(_PTS, labels, _W)
    base = optimal_robust_error(FiniteDistribution(_PTS, _LAB, _W), eps=0.4, p=2)
    return optimal_robust_error(dist, eps=0.4, p=2), base, labels


def _check_relabeled(res):
    """Label *values* do not matter, only which points share one: same answer as 0/1."""
    sol, base, labels = res
    assert sol.error == base.error, (labels, sol.error, base.error)


_entry("optimal_robust_error[relabel]", _relabeled, {"labels": _LAB}, _check_relabeled,
       extra={"labels": {
           "1e300_2e300": [1e300, 2e300, 1e300, 2e300], "beyond_int64": [2**63, 2**64, 2**63, 2**64],
           "int64_edges": [-(2**63), 2**63 - 1, -(2**63), 2**63 - 1], "halves": [0.5, 1.5, 0.5, 1.5],
           "negative": [-7, 3, -7, 3], "near_ulp": [1.0, 1.0 + 2**-52, 1.0, 1.0 + 2**-52],
           "np_uint64": np.array([2**64 - 1, 0, 2**64 - 1, 0], dtype=np.uint64)}})


def _soft(points, labels, eps, p):
    from optrobust import FiniteDistribution, optimal_robust_error
    from optrobust.finite import soft_robust_error_lower_bound

    dist = FiniteDistribution(points, labels)
    return (soft_robust_error_lower_bound(dist, eps=eps, p=p),
            optimal_robust_error(dist, eps=eps, p=p))


def _check_soft(res):
    soft, det = res
    is_rate(soft.error, hi=1.0)
    assert soft.error <= det.error + 1e-9


_entry("soft_robust_error_lower_bound", _soft,
       {"points": _PTS, "labels": _LAB, "eps": 0.6, "p": math.inf}, _check_soft,
       scalars=("eps", "p"), arrays_of={"points": (4, 2), "labels": (4,)})


def _dataset_limits(test_points, test_labels, eps, p):
    from optrobust.finite import dataset_limits

    return dataset_limits(test_points, test_labels, eps=eps, p=p, time_limit=20.0)


def _check_limits(rows):
    assert len(rows) >= 1
    for row in rows:
        assert 0 <= row.lower <= row.upper <= 1, row


_PTS_FAR = np.array([[0.0, 0.0], [1.0, 0.0], [10.0, 10.0], [11.0, 10.0]])


def _dataset_relabeled(test_labels):
    from optrobust.finite import dataset_limits

    got = dataset_limits(_PTS_FAR, test_labels, eps=0.5, p=2, time_limit=20.0)
    want = dataset_limits(_PTS_FAR, [0, 1, 2, 2], eps=0.5, p=2, time_limit=20.0)
    return got, want


def _check_dataset_relabeled(res):
    """Three classes, the first two in conflict: merging two label values changes the answer."""
    got, want = res
    assert (got[0].lower, got[0].upper) == (want[0].lower, want[0].upper), (got[0], want[0])


_entry("dataset_limits[relabel]", _dataset_relabeled, {"test_labels": [0, 1, 2, 2]},
       _check_dataset_relabeled,
       extra={"test_labels": {"1e300_2e300": [1e300, 2e300, 7.0, 7.0],
                              "beyond_int64": [2**63, 2**64, 7, 7], "negative": [-5, 9, 3, 3],
                              "float_integral": [0.0, 1.0, 2.0, 2.0]}})

_entry("dataset_limits", _dataset_limits,
       {"test_points": _PTS, "test_labels": _LAB, "eps": 0.4, "p": 2}, _check_limits,
       scalars=("eps", "p"), arrays_of={"test_points": (4, 2), "test_labels": (4,)})


# ------------------------------------------------------------------- limits

def _table(ks, ts, p, values):
    from optrobust.limits import feasible_eps_table

    return feasible_eps_table(ks, ts, p=p, values=values)


def _check_table(tab):
    assert all(v >= 0 and math.isfinite(v) for row in tab.feasible_eps for v in row)
    assert all(0 <= v <= 0.5 for row in tab.bayes_error for v in row)


_entry("feasible_eps_table", _table,
       {"ks": [10, 50], "ts": [0.1, 0.3], "p": 0, "values": "pm1"}, _check_table,
       scalars=("p", "values"), arrays_of={"ks": (2,), "ts": (2,)},
       extra={"ks": {"scalar_int": 10, "str": "10"}})


def _bern_limits(k, t, eps, p, values, d):
    from optrobust.limits import bernoulli_limits

    return bernoulli_limits(k, t, eps=eps, p=p, values=values, d=d)


def _check_bern_limits(lim):
    is_rate(lim.bayes_error)
    is_rate(lim.robust_error)
    assert lim.bayes_error <= lim.robust_error and lim.feasible_eps >= 0


_entry("bernoulli_limits", _bern_limits,
       {"k": 50, "t": 0.3, "eps": 10, "p": 0, "values": "pm1", "d": None}, _check_bern_limits,
       scalars=("k", "t", "eps", "p", "d"))


def _gauss_limits(distance, sigma, dim, eps, p):
    from optrobust.limits import gaussian_from_distance, gaussian_limits

    return gaussian_limits(gaussian_from_distance(distance, sigma=sigma, dim=dim), eps=eps, p=p)


def _check_gauss_limits(lim):
    is_rate(lim.bayes_error)
    is_rate(lim.robust_error)
    assert lim.bayes_error <= lim.robust_error + 1e-12 and lim.feasible_eps >= 0


_entry("gaussian_limits", _gauss_limits,
       {"distance": 2.0, "sigma": 1.0, "dim": 3, "eps": 0.5, "p": 2}, _check_gauss_limits,
       scalars=("distance", "sigma", "dim", "eps", "p"))


# ----------------------------------------------------------------- hardness

def _graphs() -> dict[str, Any]:
    self_loop = nx.path_graph(3)
    self_loop.add_edge(1, 1)
    named = nx.relabel_nodes(nx.path_graph(4), {i: f"v{i}" for i in range(4)})
    return {
        "None": None, "str": "petersen", "list": [(0, 1)], "empty": nx.empty_graph(0),
        "one_vertex": nx.empty_graph(1), "edgeless_5": nx.empty_graph(5),
        "self_loop": self_loop, "string_nodes": named, "digraph": nx.DiGraph([(0, 1), (1, 2)]),
        "multigraph": nx.MultiGraph([(0, 1), (0, 1), (1, 2)]), "gap_labels": nx.Graph([(0, 7)]),
        "complete_60": nx.complete_graph(60),
    }


def _reduction(graph, p, domain, eps):
    from optrobust.hardness import reduction_instance

    return reduction_instance(graph, p, domain=domain, eps=eps)


def _check_reduction(inst):
    assert inst.eps > 0 and math.isfinite(inst.eps)
    assert inst.lam is None or (inst.lam > 0 and math.isfinite(inst.lam))
    assert np.all(np.isfinite(np.asarray(inst.distribution.points, dtype=float)))


_entry("hardness.reduction_instance", _reduction,
       {"graph": nx.petersen_graph(), "p": 2, "domain": None, "eps": None}, _check_reduction,
       scalars=("p", "domain", "eps"),
       extra={"graph": {**_graphs(), "cycle_10^5": nx.cycle_graph(100_000)}})


def _mis3(graph, solver):
    from optrobust.hardness import max_distance3_independent_set

    return graph, max_distance3_independent_set(graph, solver=solver)


def _check_mis3(res):
    from optrobust.hardness import is_distance3_independent_set

    graph, s = res
    assert is_distance3_independent_set(graph, s)


_entry("hardness.max_distance3_independent_set", _mis3,
       {"graph": nx.petersen_graph(), "solver": "maxsat"}, _check_mis3,
       scalars=("solver",), extra={"graph": _graphs()})


def _graph_spec(spec):
    from optrobust.hardness import parse_graph_spec

    return parse_graph_spec(spec)


def _check_graph(g):
    assert isinstance(g, nx.Graph)


_STRINGS = {
    "empty": "", "space": "  ", "nan": "nan", "inf": "inf", "-inf": "-inf", "neg": "-1",
    "zero": "0", "huge": "1e308", "tiny": "1e-320", "exp_huge": "1e999999999",
    "long_digits": "9" * 5000, "word": "abc", "list": "1,2", "bool": "True", "complex": "1j",
    "hex": "0x10", "div0": "1/0", "frac": "8/255", "unicode": "\u221e", "nul": "1\x00",
}
_entry("hardness.parse_graph_spec", _graph_spec, {"spec": "cycle:5"}, _check_graph,
       extra={"spec": {**_STRINGS, "cycle_huge": "cycle:100000000000",
                       "gnp_bad_p": "gnp:10,1.5,1", "path_neg": "path:-3", "petersen": "petersen",
                       "missing_file": "/nonexistent/edges.txt", "cycle_frac": "cycle:2.5"}})


# ------------------------------------------------------------- norms, parsing

def _parse_p(p):
    from optrobust.norms import P_VALUES, parse_p

    return parse_p(p), P_VALUES


def _check_p(res):
    value, allowed = res
    assert value in allowed


_entry("norms.parse_p", _parse_p, {"p": "linf"}, _check_p, scalars=("p",),
       extra={"p": {"l7": "l7", "3": 3, "0.5": 0.5, "spaces": " l2 ", "L_INF": "L_INF"}})


def _parse_number(text):
    from optrobust.parsing import parse_number

    return parse_number(text, name="--eps")


def _check_float(x):
    assert isinstance(x, float) and not math.isnan(x)


def _parse_int(text):
    from optrobust.parsing import parse_int

    return parse_int(text, name="--k")


def _check_int(x):
    assert isinstance(x, int)


_entry("parsing.parse_number", _parse_number, {"text": "8/255"}, _check_float,
       extra={"text": _STRINGS})
_entry("parsing.parse_int", _parse_int, {"text": "1e9"}, _check_int, extra={"text": _STRINGS})


def counts() -> dict[str, Counter]:
    """Outcome counts per entry point (failures counted, not raised)."""
    out: dict[str, Counter] = {}
    for case in CASES:
        try:
            res = case.run()
        except AssertionError:
            res = "FAIL"
        out.setdefault(case.entry, Counter())[res] += 1
    return out


if __name__ == "__main__":  # pragma: no cover - the report of docs/reliability.md
    total: Counter = Counter()
    for entry, c in counts().items():
        total.update(c)
        print(f"| `{entry}` | {sum(c.values())} | {c['value']} | {c['named error']} | "
              f"{c['FAIL']} |")
    print(f"| total | {sum(total.values())} | {total['value']} | {total['named error']} | "
          f"{total['FAIL']} |")
