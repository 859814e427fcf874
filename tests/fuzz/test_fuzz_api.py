"""Fuzz: every public entry point of optrobust, one hostile argument at a time.

Statement (issue 10; docs/reliability.md): for NaN, inf, huge, tiny, wrong
types, wrong shapes, empty inputs, strings, booleans and complex numbers, each
call returns a number satisfying its correctness property (checked in
:mod:`tests.fuzz.cases`) or raises a named ``OptrobustError`` -- never a raw
exception and never a silently wrong value.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.cases import CASES, ENTRIES, Case

#: Cases that fail today; strict, so that a fix turns them into an XPASS failure and the
#: entry must be removed.  Empty: every case found by this suite has been fixed.
KNOWN: dict[str, str] = {}


def _params():
    for case in CASES:
        marks = ()
        if case.id in KNOWN:
            marks = (pytest.mark.xfail(strict=True, reason=KNOWN[case.id]),)
        yield pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", list(_params()))
def test_correct_number_or_named_error(case):
    case.run()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_two_hostile_arguments_at_once(data):
    """The same rule with two arguments replaced at once (hypothesis picks the entry point,
    the arguments and the values).  Entries with a known failure are skipped."""
    name = data.draw(st.sampled_from(sorted(ENTRIES)), label="entry")
    fn, base, check, pools = ENTRIES[name]
    keys = data.draw(st.lists(st.sampled_from(sorted(pools)), min_size=1, max_size=2,
                              unique=True), label="arguments")
    kw = dict(base)
    ids = []
    for key in keys:
        vname = data.draw(st.sampled_from(sorted(pools[key])), label=key)
        kw[key] = pools[key][vname]
        ids.append(f"{key}={vname}")
    single = [f"{name}[{i}]" for i in ids]
    if any(i in KNOWN for i in single):
        return
    Case(f"{name}[{','.join(ids)}]", name, lambda: fn(**kw), check).run()
