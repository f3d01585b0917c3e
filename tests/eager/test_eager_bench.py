"""W7 of `xlite bench` (xlite/bench/eager_workload.py): per-op eager dispatch, checked against NumPy."""
import numpy as np
import pytest

from xlite.bench.eager_workload import run_eager_workload, table_row
from xlite.bench.report import _fmt_ratio, fmt_time
from xlite.bench.settings import Settings, load_workloads
from xlite.frontend.graph import executing_eagerly


@pytest.mark.slow
def test_w7_runs_and_reports_per_op_times():
    workload = load_workloads().WORKLOADS["W7"]
    program = workload.build()
    assert program.ops == 1000 and program.x0.shape == (16,) and program.x0.dtype == np.float32
    row = run_eager_workload(workload, "cpu", False, Settings(quick=True, rounds=1))
    assert not executing_eagerly()          # the workload leaves graph mode as it found it
    assert row["status"] == "ok", row
    interp, cpu = row["systems"]["interpreter"], row["systems"]["cpu"]
    assert interp["status"] == "ok" and cpu["status"] == "ok"
    assert 0 < cpu["time_s"] < 1e-3 and row["speedup"] > 1.0      # per op: a cached native kernel
    line = table_row(row, fmt_time, _fmt_ratio)
    assert line[0] == "W7" and line[-1] == "ok" and line[3].endswith("us")
