"""W6-poly of xlite bench (xlite/bench/poly_workload.py): its targets and table line, and one real quick run."""
import pytest

from xlite.bench.poly_workload import _targets, table_row
from xlite.bench.report import _fmt_ratio, fmt_time
from xlite.bench.settings import Settings, load_workloads


def test_targets_and_table_line():
    row = {"id": "W6-poly", "title": "t", "kind": "poly", "status": "ok", "cold_s": 1.0, "first_100_s": 0.01,
           "first_over_cold": 0.01, "compiles_at_100": 0, "symbolic_over_static": 1.02}
    assert [t["met"] for t in _targets(row)] == [True, True, True]
    assert [t["met"] for t in _targets(dict(row, first_over_cold=0.5, compiles_at_100=1,
                                            symbolic_over_static=1.3))] == [False, False, False]
    assert [t["met"] for t in _targets({})] == [None, None, None]
    line = table_row(row, fmt_time, _fmt_ratio)
    assert line[0] == "W6-poly" and line[3] == "cold 1.00 s" and "1.0% of cold" in line[7] and "1.020" in line[7]


@pytest.mark.slow
def test_a_quick_run_compiles_once():
    from xlite.bench.poly_workload import run_poly_workload
    row = run_poly_workload(load_workloads().WORKLOADS["W6-poly"], "cpu", False, Settings(quick=True))
    assert row["status"] == "ok", row
    assert row["compiles_at_100"] == 0 and row["first_over_cold"] < 0.5
