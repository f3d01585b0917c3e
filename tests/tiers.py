"""The quick tier (`python -m pytest -m "not slow"`) keeps a representative few of a big parametrized family.

    @pytest.mark.parametrize(*slow_except("sx,sy", SHAPES, 0, -1))

runs every case of SHAPES in the full suite, and only the first and the last in the quick tier: the
others are marked slow. `every=3` keeps the first case and every third after it (a few of a family of
ops). Nothing is dropped; the full suite (CI) still runs them all.
"""
import pytest


def slow_except(argnames, cases, *quick, every=None):
    """parametrize's (argnames, argvalues) for `cases`, each marked slow except those at the indices `quick`
    (and, with `every`, at 0, every, 2 * every, ...)."""
    cases = list(cases)
    keep = {i % len(cases) for i in quick if -len(cases) <= i < len(cases)}
    keep |= set(range(0, len(cases), every)) if every else set()
    names = [n.strip() for n in argnames.split(",")] if isinstance(argnames, str) else list(argnames)
    values = []
    for i, case in enumerate(cases):
        if i in keep:
            values.append(case)
        elif isinstance(case, type(pytest.param(None))):            # already a pytest.param: add the mark
            values.append(pytest.param(*case.values, marks=[*case.marks, pytest.mark.slow], id=case.id))
        else:
            values.append(pytest.param(*(case if len(names) > 1 else (case,)), marks=pytest.mark.slow))
    return argnames, values


def slow_at(argnames, cases, *slow):
    """parametrize's (argnames, argvalues) for `cases`, those at the indices `slow` marked slow."""
    cases = list(cases)
    marked = {i % len(cases) for i in slow}
    return slow_except(argnames, cases, *(i for i in range(len(cases)) if i not in marked))
