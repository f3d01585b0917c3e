"""The interpreter's float sums (eval_rules.py) over major axes are pairwise too (NumPy adds rows serially
there); the cases are tests/reduction_cases.py's."""
import pytest

from reduction_cases import MAJOR_AXES, check


@pytest.mark.parametrize("case", MAJOR_AXES, ids=lambda c: c.name)
def test_sum_over_major_axes_is_accurate(case):
    check(case, "interpreter")
