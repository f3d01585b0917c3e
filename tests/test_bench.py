"""The benchmark suite's checks: every workload agrees with the interpreter on the compiled target
(correctness only: timings are never asserted, the machine is shared), and `xlite bench` runs."""
import json
import subprocess
import sys

import pytest

from xlite import bench


def _assert_verified(statuses: dict) -> None:
    for system, status in statuses.items():
        # A backend that cannot compile a workload yet says so; a wrong result or a crash fails.
        assert status == "ok" or status.startswith("not implemented"), (system, status)


@pytest.mark.parametrize("wid", [pytest.param("W1", marks=pytest.mark.slow), "W2", pytest.param("W3", marks=pytest.mark.slow), "W4"])
def test_workload_agrees_with_interpreter(wid):
    _assert_verified(bench.verify(wid, target="cpu"))


@pytest.mark.slow
def test_cnn_step_agrees_with_interpreter():
    _assert_verified(bench.verify("W5", target="cpu"))


def test_a_wrong_result_is_a_mismatch(monkeypatch):
    """The check is real: a compiled system whose result differs is reported, not timed."""
    monkeypatch.setattr(bench.systems, "_first_step", _perturbed(bench._first_step))
    statuses = bench.verify("W4", target="cpu")
    assert statuses["interpreter"] == "ok"
    assert statuses["cpu"].startswith(("MISMATCH", "not implemented")), statuses


def _perturbed(first_step):
    """Runs the real first step, then makes every non-interpreter Session's output wrong."""
    def run(sess, prog, initial=None):
        values = first_step(sess, prog, initial)
        if sess.target != "interpreter":
            values["outputs"] = [v + 1 for v in values["outputs"]]
        return values
    return run


@pytest.mark.slow
def test_cli_quick_w4_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "xlite.cli", "bench", "--quick", "--workloads", "W4",
                           "--no-jax", "--json", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "| W4 " in proc.stdout
    report = json.loads(out.read_text())
    (row,) = report["workloads"]
    assert row["id"] == "W4" and row["compiled"] == "cpu"
    assert row["systems"]["interpreter"]["status"] == "ok"
    if row["status"] == "ok":
        assert row["systems"]["cpu"]["time_s"] > 0 and row["speedup"] > 0
    assert report["machine"]["cores"] >= 1


def test_unknown_workload_is_a_usage_error(capsys):
    assert bench.main(["--workloads", "W99"]) == 2
    assert "W99" in capsys.readouterr().err


def test_table_marks_unimplemented_rows():
    report = {"target": "cpu", "date": "d", "xlite": "0", "commit": None, "jax": None, "rounds": 1, "quick": True,
              "machine": {"cores": 2}, "workloads": [
                  {"id": "W1", "title": "t", "kind": "bandwidth", "status": "not implemented: NotImplementedError: x",
                   "systems": {"interpreter": {"status": "ok", "time_s": 0.02},
                               "cpu": {"status": "not implemented: NotImplementedError: x"}},
                   "speedup": None, "targets": [{"what": "8x vs interpreter", "met": False}]}]}
    table = bench.format_table(report)
    assert "not implemented" in table and "20.00 ms" in table
    assert not bench.failed(report)


@pytest.mark.slow
def test_isolated_workload_comes_back_from_its_own_process():
    settings = bench.Settings(quick=True, rounds=1)
    report = bench.run_suite(["W4"], "cpu", settings, with_jax=False, isolate=True)
    (row,) = report["workloads"]
    assert row["id"] == "W4" and row["systems"]["interpreter"]["status"] == "ok"
    assert not bench.failed(report), row["status"]


def test_a_failing_reference_is_that_rows_error(monkeypatch):
    def broken(*args):
        raise RuntimeError("interpreter broke")
    monkeypatch.setattr(bench.suite, "prepare", broken)
    report = bench.run_suite(["W4"], "cpu", bench.Settings(quick=True, rounds=1), with_jax=False)
    (row,) = report["workloads"]
    assert row["status"].startswith("error") and "interpreter broke" in row["status"]
    assert "interpreter broke" in bench.format_table(report)
    assert bench.failed(report)


@pytest.mark.slow
def test_aot_probe_child_loads_without_llvm_or_codegen(tmp_path):
    """W6-aot's child (xlite/bench/aot_workload.py) starts from its module path and stays free of LLVM
    and the code generator; with no library in the directory its row says why."""
    from xlite.bench import aot_workload
    probe = aot_workload._aot_child(str(tmp_path))
    assert probe["status"].startswith("error: NotFoundError") and "w3_step.so" in probe["status"], probe
    code = ("import sys; import xlite.bench.aot_workload, xlite.aot.load; "
            "print(sorted(m for m in sys.modules if m.startswith(('llvmlite', 'xlite.codegen'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "[]", (out.stdout, out.stderr)


def test_aot_row_in_the_table():
    row = {"id": "W6-aot", "title": "t", "kind": "aot", "status": "ok", "aot_s": 0.01, "cold_s": 1.0,
           "cold_over_aot": 100.0}
    line = bench.report._table_row(row, {}, "cpu")
    assert line == ["W6-aot", "t", "-", "cold 1.00 s", "-", "-", "-", "aot 10.00 ms (100.00x faster)", "-", "-", "ok"]


def test_aot_targets_met_missed_and_not_measured():
    """One bench.targets.check serves every workload: a missing figure is "not measured" (None)."""
    from xlite.bench import aot_workload
    met = [t["met"] for t in aot_workload._targets({"cold_over_aot": 20.0, "llvmlite_imported": True})]
    assert met == [True, False]
    assert [t["met"] for t in aot_workload._targets({})] == [None, None]
