"""The `optrobust hardness` command and the graph specifications it reads."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import networkx as nx
import pytest

from optrobust.cli import main
from optrobust.hardness import parse_graph_spec


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "optrobust", *args], capture_output=True,
                          text=True, timeout=120)


def test_petersen_json_as_a_user_runs_it():
    r = run("hardness", "--graph", "petersen", "--p", "inf", "--eps", "1", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert {"n_vertices", "independent_set_size", "robust_error", "consistent"} <= set(out)
    # Petersen has diameter 2: alpha_3 = 1, so the optimal robust error is 1 - 1/10.
    assert out["n_vertices"] == 10 and out["independent_set_size"] == 1
    assert math.isclose(out["robust_error"], 0.9) and out["consistent"] is True


@pytest.mark.parametrize("p", ["0", "1", "2", "inf"])
@pytest.mark.parametrize("domain", ["support", "continuous"])
def test_cycle_all_norms_and_domains(p, domain, capsys):
    # C_9: alpha_3 = floor(9/3) = 3, so error = 1 - 3/9.
    assert main(["hardness", "--graph", "cycle:9", "--p", p, "--domain", domain, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["independent_set_size"] == 3 and out["consistent"] is True
    assert math.isclose(out["robust_error"], 2 / 3)


def test_text_output_and_edge_file(tmp_path, capsys):
    f = tmp_path / "g.txt"
    f.write_text("# a path a-b-c-d and an isolated vertex\na b\nb c\nc d\ne\n")
    assert main(["hardness", "--graph", str(f), "--p", "2", "--eps", "1/2"]) == 0
    text = capsys.readouterr().out
    assert "size 3: a, d, e" in text and "consistent" in text and "INCONSISTENT" not in text


@pytest.mark.parametrize(
    ("content", "args", "needle"),
    [
        ("", [], "empty"),
        ("1 2\n3 3\n", [], "self-loop"),
        ("1 2 3\n", [], "line 1"),
        (None, ["--graph", "petersen", "--p", "3"], "--p"),
        (None, ["--graph", "petersen", "--p", "0", "--eps", "2"], "--eps"),
        (None, ["--graph", "petersen", "--eps", "0"], "--eps"),
        (None, ["--graph", "petersen", "--eps", "abc"], "--eps"),
        (None, ["--graph", "cycle:x"], "cycle"),
        (None, ["--graph", "gnp:5,0.5"], "gnp"),
        (None, ["--graph", "gnp:5,1.5,0"], "gnp P"),
        (None, ["--graph", "no-such-file.txt"], "graph"),
        (None, ["--graph", "petersen", "--domain", "torus"], "domain"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, content, args, needle):
    if content is not None:
        f = tmp_path / "edges.txt"
        f.write_text(content)
        args = ["--graph", str(f)]
    try:
        status = main(["hardness", *args])
    except SystemExit as exc:  # argparse usage errors
        status = exc.code
    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]


def test_bad_input_in_a_subprocess_has_no_traceback():
    r = run("hardness", "--graph", "cycle:2")
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("spec", "nodes", "edges"),
    [("petersen", 10, 15), ("cycle:5", 5, 5), ("path:1", 1, 0), ("path:4", 4, 3),
     ("gnp:6,1,3", 6, 15), ("gnp:6,0,3", 6, 0), ("GNP:6,1,3", 6, 15)],
)
def test_graph_specs(spec, nodes, edges):
    g = parse_graph_spec(spec)
    assert (g.number_of_nodes(), g.number_of_edges()) == (nodes, edges)


def test_gnp_is_reproducible():
    assert nx.utils.graphs_equal(parse_graph_spec("gnp:12,0.3,7"), parse_graph_spec("gnp:12,0.3,7"))


def _one_line_error(capsys, argv):
    status = main(argv)
    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


@pytest.mark.parametrize("spec", ["gnp:3000,0.5,1", "cycle:100000", "path:201"])
def test_graphs_past_the_size_bound_are_refused_up_front(capsys, spec):
    # gnp:3000 ended in MemoryError, cycle:100000 ran for minutes: now one line, exit 2,
    # before the graph is generated.
    line = _one_line_error(capsys, ["hardness", "--graph", spec])
    assert "200" in line and "vertices" in line


def test_graph_at_the_size_bound_is_accepted():
    from optrobust._cli_hardness import MAX_CLI_VERTICES

    assert MAX_CLI_VERTICES == 200
    assert parse_graph_spec("path:200", max_vertices=MAX_CLI_VERTICES).number_of_nodes() == 200


@pytest.mark.parametrize("eps", ["1e-320", "5e-324"])
def test_unrepresentable_eps_is_an_error_not_inconsistent(capsys, eps):
    # lambda underflowed to 0 and the command printed INCONSISTENT with exit 0.
    line = _one_line_error(capsys, ["hardness", "--graph", "cycle:9", "--norm", "l2",
                                    "--eps", eps])
    assert "eps" in line and "float64" in line


def test_norm_spellings_and_the_library_domain_default(capsys):
    for flag in ("--norm", "--p"):
        assert main(["hardness", "--graph", "cycle:6", flag, "l2", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["p"] == "l2" and out["domain"] == "continuous" and out["consistent"]
    assert main(["hardness", "--graph", "cycle:6", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["p"] == "linf"


def test_help_shows_the_defaults(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["hardness", "--help"])
    assert exc.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--norm NORM, --p NORM" in text and "default linf" in text
    assert "default continuous" in text and "200" in text
