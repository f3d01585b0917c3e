"""Long float32 reductions on cpu stay within a few ulps times log2(n) of float64 NumPy (pairwise.py,
reductions_columns.py, rows.py); the cases are tests/reduction_cases.py's."""
import pytest

from reduction_cases import LONG_ROWS, MAJOR_AXES, WHOLE, check, random_cases
from tiers import slow_at


@pytest.mark.parametrize(*slow_at("case", WHOLE + MAJOR_AXES + LONG_ROWS, 0, 1, 3, 5, 6, 8), ids=lambda c: c.name)
def test_long_reduction_is_accurate(case):
    check(case, "cpu")


@pytest.mark.slow
def test_random_shapes_axes_and_kinds():
    for k, case in enumerate(random_cases(40, 300_000, seed=3)):
        check(case, "cpu", seed=k)


@pytest.mark.slow
def test_random_shapes_up_to_ten_million_elements():
    for k, case in enumerate(random_cases(12, 10_000_000, seed=4)):
        check(case, "cpu", seed=k)
