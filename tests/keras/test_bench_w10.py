"""W10 of `xlite bench` (xlite/bench/keras_workload.py): its declaration, targets and table row."""
from xlite.bench import keras_workload
from xlite.bench.settings import WORKLOAD_IDS, load_workloads


def test_w10_is_declared_as_a_keras_workload():
    workloads = load_workloads()
    assert "W10" in WORKLOAD_IDS and workloads.WORKLOADS["W10"].kind == "keras"
    assert workloads.KerasProgram.N == 60000 and workloads.KerasProgram.BATCH == 32


def test_w10_targets_and_table_row():
    row = {"id": "W10", "title": "Keras fit", "kind": "keras", "status": "ok", "step_over_session": 1.1,
           "fit_over_tf_keras": 0.5, "systems": {"keras fit": {"time_s": 2.0, "step_s": 3e-4},
                                                  "session": {"step_s": 2.7e-4}, "tf.keras": {"time_s": 4.0}}}
    targets = keras_workload._targets(row)
    assert [t["met"] for t in targets] == [True, True]
    cells = keras_workload.table_row(row, lambda s: f"{s:.3g}s", lambda r: f"{r:.2f}x")
    assert cells[0] == "W10" and cells[3] == "2s" and "1.10x" in cells[7] and "tf.keras 4s" in cells[7]
    row["step_over_session"] = 2.0
    assert keras_workload._targets(row)[1]["met"] is False
