"""W8 and W3-fn of `xlite bench`: the tf.function rows run, check their results and report the ratios."""
import pytest

import xlite.bench as bench
from xlite.bench.report import format_table


@pytest.fixture(autouse=True)
def graph():
    yield None          # the bench builds its own graphs and enters eager mode itself


@pytest.mark.slow
def test_w8_row_reports_the_ratio_to_sess_run():
    report = bench.run_suite(["W8"], "cpu", bench.Settings(quick=True, rounds=1), with_jax=False)
    (row,) = report["workloads"]
    assert row["status"] == "ok", row
    assert row["systems"]["session"]["status"] == "ok" and row["systems"]["tf.function"]["time_s"] > 0
    assert row["function_over_session"] > 0
    assert [t["what"] for t in row["targets"]] == ["<= 1.2x of W4's sess.run", "faster than jax.jit's call"]
    assert "fn/session" in format_table(report)


@pytest.mark.slow
def test_w3_function_step_matches_the_session_step():
    report = bench.run_suite(["W3-fn"], "cpu", bench.Settings(quick=True, rounds=1), with_jax=False)
    (row,) = report["workloads"]
    assert row["status"] == "ok", row              # loss and every updated Variable checked first
    assert [t["what"] for t in row["targets"]] == ["<= 1.05x of Session step",
                                                   "same optimized module as the Session step"]
    assert row["function_over_session"] > 0 and row["function_over_session_cpu"] > 0
    counts = row["instructions"]                   # the cpu executables' optimized Modules
    assert counts["same"] and counts["session"] == counts["tf.function"] > 100, counts
    assert row["targets"][1]["met"] is True
    assert "instr" in format_table(report)
