"""The first hour of a new user (issue 14): the README's commands as written.

Checks, without running the long jobs: the README keeps exactly two set-up commands and
``.ci/run`` copies the test command verbatim (with the ``autoattack`` extra, so the
AutoAttack adapter's tests run in CI); the README's ``points.npz`` one-liner makes the file
its ``exact`` line reads; every ``optrobust-empirical`` line of the README parses; the
runtime ``reproduce --help`` promises is the one ``docs/usage.md`` states; the docs do not
point to files outside the repository.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _bash_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, flags=re.S)


def _commands(block: str) -> list[str]:
    """Lines of a bash block with continuations joined and comments dropped."""
    joined = block.replace("\\\n", " ")
    return [line.split("  #")[0].strip() for line in joined.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_two_setup_commands_and_ci_copies_the_test_command():
    setups = [c for b in _bash_blocks(README) for c in _commands(b) if "python3 -m venv" in c]
    assert len(setups) == 2, setups
    main_job, test_cmd = setups
    assert "optrobust table bernoulli" in main_job
    extras = test_cmd.split('-e ".[', 1)[1].split(']', 1)[0].split(',')
    assert {"empirical", "autoattack", "test", "dev"} <= set(extras), extras
    assert "python -m pytest" in test_cmd
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_cmd in ci  # verbatim
    # k and t of the main job are defined in the README
    assert "`--k`" in README and "`--t`" in README


def test_points_npz_line_works(tmp_path, monkeypatch, capsys):
    import json

    from optrobust.cli import main as optrobust_main

    cli = next(b for b in _bash_blocks(README) if "optrobust exact" in b)
    maker = next(c for c in _commands(cli) if "np.savez('points.npz'" in c)
    exact = next(c for c in _commands(cli) if c.startswith("optrobust exact"))
    monkeypatch.chdir(tmp_path)
    code = shlex.split(maker)[2]  # python -c "<code>"
    exec(compile(code, "README", "exec"), {})  # the README's own one-liner
    assert optrobust_main(shlex.split(exact)[1:]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "exact" and 0 <= out["robust_error"] <= 0.5


def test_every_empirical_line_of_the_readme_parses():
    from empirical.cli import build_parser

    lines = [c for b in _bash_blocks(README) for c in _commands(b)
             if c.startswith("optrobust-empirical ")]
    assert len(lines) >= 5
    parser = build_parser()
    for line in lines:
        args = parser.parse_args(shlex.split(line)[1:])  # exits 2 on a stale option
        assert callable(args.func)


def test_reproduce_runtime_promise_matches_usage(capsys):
    from empirical.cli import main

    with pytest.raises(SystemExit):
        main(["reproduce", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    minutes = re.search(r"about (\d+) minutes on one core", help_text)
    assert minutes, help_text
    usage = (ROOT / "docs" / "usage.md").read_text()
    assert re.search(rf"--setup mnist .*\n# CPU scale .*~{minutes.group(1)} min", usage) or \
        f"~{minutes.group(1)} min" in usage


@pytest.mark.parametrize("doc", ["docs/architecture.md", "docs/theory.md"])
def test_docs_stand_alone(doc):
    """No pointer to a design file outside the repository (issue 14)."""
    text = (ROOT / doc).read_text()
    assert "DESIGN.md" not in text and "../shared/DESIGN" not in text
