"""`xlite bench --target cuda`: the CuPy column, the HBM figures and the GPU targets, on synthetic reports
(no GPU here); the harness's CuPy system run with NumPy as its array module; the cuda-device system
(run_on_device with a sess.run's arguments) on a small training step; and one real row on the CUDA
emulator, which must give launch counts, both cuda systems, and no GPU figure."""
import shutil
import types

import numpy as np
import pytest

import xlite as tf
from xlite import bench

needs_cxx = pytest.mark.skipif(shutil.which("g++") is None and shutil.which("clang++") is None,
                               reason="the cuda emulator needs a C++ compiler")

MiB = 1 << 20


def _row(wid="W1", **extra):
    row = {"id": wid, "title": "t", "kind": "bandwidth", "shapes": "s", "status": "ok", "compiled": "cuda",
           "systems": {"interpreter": {"status": "ok", "time_s": 0.02}, "cuda": {"status": "ok", "time_s": 5e-3},
                       "cuda-device": {"status": "ok", "time_s": 20e-6}, "cupy": {"status": "ok", "time_s": 150e-6}},
           "speedup": 1000.0, "compiled_over_jax": None, "kernels": 1}
    row.update(extra)
    return row


def _report(rows, cupy="13.6.0"):
    return {"target": "cuda", "date": "d", "xlite": "0", "commit": None, "jax": None, "rounds": 3, "quick": False,
            "machine": {"cores": 16}, "cupy": cupy, "workloads": rows}


def _verdicts(row) -> dict:
    return {t["what"]: t["met"] for t in bench._gpu_targets(row)}


def test_hbm_figure_from_the_device_name():
    assert bench.hbm_gbps("NVIDIA H200") == 4800.0
    assert bench.hbm_gbps("NVIDIA H100 80GB HBM3") == 3300.0
    assert bench.hbm_gbps("NVIDIA A100-SXM4-40GB") == bench.HBM_DEFAULT_GBPS


@pytest.mark.parametrize("time_s, met", [(15e-6, True), (20e-6, True), (25e-6, False)])
def test_w1_within_twice_the_hbm_floor(time_s, met):
    row = _row(device="NVIDIA H100 80GB HBM3", emulated=False, hbm_gbps=3300.0, gbps=32 * MiB / time_s / 1e9)
    bench._hbm_figures(row, 32 * MiB)
    assert row["hbm_floor_s"] == pytest.approx(10.17e-6, rel=1e-3)
    assert row["hbm_fraction"] == pytest.approx(row["hbm_floor_s"] / time_s)
    assert _verdicts(row)["within 2x of the HBM floor"] is met


def test_gpu_targets_met_missed_and_unmeasured():
    good = _verdicts(_row(cupy_over_compiled=6.0, hbm_fraction=0.6, launches=1))
    assert good == {">= 5x faster than CuPy": True, "within 2x of the HBM floor": True,
                    "<= 1 kernel launch per run": True}
    bad = _verdicts(_row(cupy_over_compiled=4.0, hbm_fraction=0.4, launches=3))
    assert set(bad.values()) == {False}
    assert set(_verdicts(_row()).values()) == {None}          # no CuPy, no GPU figure, no executable
    assert _verdicts(_row("W2", launches=2)) == {"<= 2 kernel launches per run": True}
    assert _verdicts(_row("W2", launches=3)) == {"<= 2 kernel launches per run": False}
    assert bench._gpu_targets(_row("W3", launches=40)) == []


def test_the_emulator_is_no_gpu_measurement():
    """Timed on the CPU emulator: the launch count stands, the timing targets are not measured."""
    row = _row(emulated=True, device="xlite CPU emulator", cupy_over_compiled=9.0, gbps=1.0, launches=1)
    bench._hbm_figures(row, 32 * MiB)
    assert "hbm_fraction" not in row
    assert _verdicts(row) == {">= 5x faster than CuPy": None, "within 2x of the HBM floor": None,
                              "<= 1 kernel launch per run": True}
    assert "CPU emulator, no GPU" in bench._throughput(row)


def test_cuda_table_has_cupy_hbm_and_launches():
    w1 = _row(cupy_over_compiled=7.5, compiled_over_cupy=0.133, launches=1, device="NVIDIA H200",
              emulated=False, hbm_gbps=4800.0, gbps=32 * MiB / 12e-6 / 1e9)     # H200 floor 7.0 us
    w1["systems"]["cuda-device"]["time_s"] = 12e-6
    bench._hbm_figures(w1, 32 * MiB)
    w1["targets"] = bench._gpu_targets(w1)
    w2 = _row("W2", launches=3, systems={"interpreter": {"status": "ok", "time_s": 0.01},
                                        "cuda": {"status": "ok", "time_s": 4e-3},
                                        "cuda-device": {"status": "ok", "time_s": 40e-6},
                                        "cupy": {"status": "MISMATCH output 0: max abs error 1"}})
    w2["targets"] = bench._gpu_targets(w2)
    table = bench.format_table(_report([w1, w2]))
    head = table.splitlines()[0]
    assert "| cupy " in head and "| cuda-device/cupy " in head and "| launches " in head
    assert head.index("| cuda ") < head.index("| cuda-device ") < head.index("| speedup ")
    w1_line = next(line for line in table.splitlines() if line.startswith("| W1 "))
    assert "| 5.00 ms " in w1_line and "| 12.0 us " in w1_line      # end to end, then the device work
    assert "150.0 us" in w1_line and "0.13x" in w1_line and "(58% of HBM 4.8 TB/s, floor 7.0 us)" in w1_line
    assert "HBM and CuPy figures use cuda-device" in table
    assert "MISMATCH" in next(line for line in table.splitlines() if line.startswith("| W2 "))
    assert "W1 >= 5x faster than CuPy: met" in table and "W1 within 2x of the HBM floor: met" in table
    assert "W2 <= 2 kernel launches per run: MISSED" in table
    assert "device NVIDIA H200" in table and "cupy 13.6.0" in table
    assert bench.failed(_report([w1, w2]))                    # a CuPy mismatch fails the run


def test_a_device_system_failure_is_shown_and_fails_the_run():
    w1 = _row(status="cuda-device: MISMATCH argument 0 after run_on_device: max abs error 2")
    w1["systems"]["cuda-device"] = {"status": "MISMATCH argument 0 after run_on_device: max abs error 2"}
    table = bench.format_table(_report([w1]))
    w1_line = next(line for line in table.splitlines() if line.startswith("| W1 "))
    assert "| MISMATCH argument 0 after run_on_device" in w1_line
    assert bench.failed(_report([w1])) and not bench.failed(_report([_row()]))


def test_without_cupy_the_column_says_so():
    w1 = _row(systems={"interpreter": {"status": "ok", "time_s": 0.02}, "cuda": {"status": "ok", "time_s": 1e-4}})
    w1["targets"] = bench._gpu_targets(w1)
    table = bench.format_table(_report([w1], cupy=None))
    assert "not installed" in next(line for line in table.splitlines() if line.startswith("| W1 "))
    assert "W1 >= 5x faster than CuPy: not measured" in table and "cupy not installed" in table


def test_cpu_table_has_no_gpu_columns():
    row = _row(systems={"interpreter": {"status": "ok", "time_s": 0.02}, "cpu": {"status": "ok", "time_s": 2e-3}},
               gbps=16.0, copy_fraction=0.6)
    report = dict(_report([row]), target="cpu")
    del report["cupy"]
    table = bench.format_table(report)
    assert "cupy" not in table and "launches" not in table and "(60% copy)" in table


@pytest.fixture
def numpy_for_cupy(monkeypatch):
    """The harness's CuPy system with NumPy as its array module: the wiring runs without a GPU."""
    real = bench._cupy_programs()
    on_numpy = types.SimpleNamespace(make=lambda wid, prog, initial: real.make(wid, prog, initial, xp=np))
    monkeypatch.setattr(bench.systems, "_cupy_programs", lambda: on_numpy)
    return real


@pytest.mark.slow
def test_cupy_system_is_checked_before_timing(numpy_for_cupy, monkeypatch):
    assert bench.verify("W3", target="cpu", with_cupy=True)["cupy"] == "ok"
    monkeypatch.setattr(numpy_for_cupy, "LR", 0.02)
    assert bench.verify("W3", target="cpu", with_cupy=True)["cupy"].startswith("MISMATCH")


@pytest.mark.slow
def test_cupy_system_is_timed_and_paired(numpy_for_cupy):
    settings = bench.Settings(quick=True, rounds=2)
    row = bench.run_workload(bench.load_workloads().WORKLOADS["W4"], "cpu", False, settings, with_cupy=True)
    assert row["systems"]["cupy"]["status"] == "ok" and len(row["systems"]["cupy"]["rounds_s"]) == 2
    assert row["compiled_over_cupy"] > 0 and row["cupy_over_compiled"] > 0


@pytest.mark.slow
def test_no_cupy_means_no_cupy_system(monkeypatch):
    monkeypatch.setattr(bench.suite, "cupy_version", lambda: None)
    report = bench.run_suite(["W4"], "cpu", bench.Settings(quick=True, rounds=1), with_jax=False)
    assert "cupy" not in report and "cupy" not in report["workloads"][0]["systems"]


def _training_program():
    """A small training step as a benchmark Program: a linear regression, SGD."""
    from benchmarks.workloads import Program
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [16, 4], name="x")
        t = tf.placeholder(tf.float32, [16], name="t")
        w = tf.Variable(np.array([0.5, -1.0, 2.0, 0.0], np.float32))
        b = tf.Variable(np.float32(0.25))
        loss = tf.reduce_mean(tf.square(tf.reduce_sum(x * w, 1) + b - t))
        step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        init = tf.global_variables_initializer()
    rng = np.random.default_rng(3)
    feeds = {x: rng.standard_normal((16, 4)).astype(np.float32), t: rng.standard_normal(16).astype(np.float32)}
    return Program(g, [loss, step], feeds, init, [w, b])


TOLERANCE = types.SimpleNamespace(rtol=1e-5, atol=1e-6)


@needs_cxx
@pytest.mark.slow
def test_device_system_keeps_training_the_sessions_variables(emulated):
    """The check's sess.run is one step, and every device call one more, on the Session's own Variables."""
    bench.load_workloads()
    prog = _training_program()
    with tf.Session(target="interpreter", graph=prog.graph) as ref:
        ref.run(prog.init)
        expected = []
        for _ in range(5):
            ref.run(prog.fetches, prog.feeds)
            expected.append(ref.run(prog.variables))
    with tf.Session(target="cuda", graph=prog.graph) as sess:
        values = bench._first_step(sess, prog)
        call = bench.device_call(sess, prog, values["executable"], TOLERANCE)
        for got, want in zip(sess.run(prog.variables), expected[1]):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        downloads = emulated.stats["dtoh"]
        for _ in range(3):
            call()
        assert emulated.stats["dtoh"] == downloads
        for got, want in zip(sess.run(prog.variables), expected[4]):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@needs_cxx
@pytest.mark.slow
def test_device_system_is_checked_against_the_sessions_run(emulated):
    """A run_on_device that computes from other feeds than the captured run is a mismatch."""
    bench.load_workloads()
    prog = _training_program()
    with tf.Session(target="cuda", graph=prog.graph) as sess:
        values = bench._first_step(sess, prog)
        executable = values["executable"]
        real = executable.run_on_device
        executable.run_on_device = lambda args: real([a * 2 if isinstance(a, np.ndarray) else a for a in args])
        with pytest.raises(bench.Mismatch, match="after run_on_device"):
            bench.device_call(sess, prog, executable, TOLERANCE)


@needs_cxx
@pytest.mark.slow
def test_w1_on_the_cuda_emulator_counts_launches(emulated, numpy_for_cupy):
    settings = bench.Settings(quick=True, rounds=2)
    row = bench.run_workload(bench.load_workloads().WORKLOADS["W1"], "cuda", False, settings, with_cupy=True)
    assert row["status"] == "ok", row["status"]
    assert row["emulated"] and row["device"] == "xlite CPU emulator"
    assert isinstance(row["launches"], int) and row["launches"] >= 1
    assert "hbm_fraction" not in row and "copy_fraction" not in row
    # Both cuda systems are timed; the bandwidth and the CuPy ratio are the device system's.
    end_to_end, on_device, cupy = (row["systems"][name] for name in ("cuda", "cuda-device", "cupy"))
    assert end_to_end["status"] == on_device["status"] == cupy["status"] == "ok"
    assert row["gbps"] == pytest.approx(32 * MiB / on_device["time_s"] / 1e9)
    assert row["cupy_over_compiled"] == pytest.approx(
        np.median([c / d for c, d in zip(cupy["rounds_s"], on_device["rounds_s"])]))
    assert row["speedup"] == pytest.approx(
        np.median([i / c for i, c in zip(row["systems"]["interpreter"]["rounds_s"], end_to_end["rounds_s"])]))
    verdicts = {t["what"]: t["met"] for t in row["targets"]}
    assert verdicts["within 2x of the HBM floor"] is None and verdicts[">= 5x faster than CuPy"] is None
    assert verdicts["<= 1 kernel launch per run"] is (row["launches"] <= 1)
