"""W10 of `xlite bench`: Keras fit of the quickstart MLP for one epoch of 60,000 28x28 examples.

Flatten -> Dense(128, relu) -> Dropout(0.2) -> Dense(10), Adam, sparse categorical crossentropy from
logits, batch 32 (benchmarks/workloads.py, build_w10). Systems:

- `keras fit`: `model.fit(x, y, batch_size=32, epochs=1)` in a fresh graph, wall time including the
  compile; then a second epoch, whose time per step is the steady state;
- `session`: the same model written with raw ops and tf.train.AdamOptimizer, one `sess.run` per batch
  fed through feed_dict (the time per step after a warm-up step);
- `tf.keras`: TensorFlow's own fit of the same program in a subprocess, where `tensorflow` imports or
  XLITE_TF_PYTHON names a Python that has it (its wall time for the epoch, with TF's default: a
  tf.function step).

Targets: the fit epoch faster than tf.keras's; Keras' steady step within 1.2x of the raw Session's.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time

from .checks import _describe
from .settings import Settings
from .targets import check

MAX_STEP_OVER_SESSION = 1.2

_TF_SCRIPT = """
import json, os, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import tensorflow as tf
rng = np.random.RandomState(10)
x = rng.randint(0, 256, (60000, 28, 28)).astype(np.float32) / 255.0
y = rng.randint(0, 10, 60000).astype(np.int64)
model = tf.keras.Sequential([tf.keras.Input((28, 28)), tf.keras.layers.Flatten(),
                             tf.keras.layers.Dense(128, activation="relu"), tf.keras.layers.Dropout(0.2),
                             tf.keras.layers.Dense(10)])
model.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
start = time.perf_counter()
model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
print(json.dumps({"fit_s": time.perf_counter() - start}))
"""


def tensorflow_fit_seconds(timeout: float = 600) -> float | None:
    """TF's wall time for the same fit epoch, in a fresh process: this Python's tensorflow, or the Python named
    by XLITE_TF_PYTHON (a separate TensorFlow environment); None when there is neither."""
    python = os.environ.get("XLITE_TF_PYTHON")
    if not python:
        if importlib.util.find_spec("tensorflow") is None:
            return None
        python = sys.executable
    proc = subprocess.run([python, "-c", _TF_SCRIPT], capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])["fit_s"]


def run_keras_workload(workload, target: str, with_jax: bool, settings: Settings) -> dict:
    row = {"id": workload.id, "title": workload.title, "shapes": workload.shapes, "kind": workload.kind,
           "systems": {}, "compiled": target}
    program = workload.build()
    try:
        fit_s, step_s = program.keras_fit(target)
        session_step_s = program.session_step(target)
        row["systems"]["keras fit"] = {"status": "ok", "time_s": fit_s, "step_s": step_s}
        row["systems"]["session"] = {"status": "ok", "step_s": session_step_s}
        tf_s = None if settings.quick else tensorflow_fit_seconds()
        if tf_s is not None:
            row["systems"]["tf.keras"] = {"status": "ok", "time_s": tf_s}
    except Exception as e:      # noqa: BLE001  (a row reports it)
        row["status"] = f"error: {_describe(e)}"
        row["targets"] = _targets(row)
        return row
    row["step_over_session"] = step_s / session_step_s
    row["fit_over_tf_keras"] = None if tf_s is None else fit_s / tf_s
    row["status"] = "ok"
    row["targets"] = _targets(row)
    return row


def _targets(row: dict) -> list:
    return [check("fit epoch (with compile) faster than tf.keras's", row.get("fit_over_tf_keras"), lambda r: r < 1),
            check(f"Keras step within {MAX_STEP_OVER_SESSION:g}x of the raw Session step", row.get("step_over_session"),
                  lambda r: r <= MAX_STEP_OVER_SESSION)]


def table_row(row: dict, fmt_time, fmt_ratio) -> list:
    """The fit epoch in the target's column; steps against the Session and tf.keras in the throughput one."""
    sysd = row.get("systems", {})
    fit = sysd.get("keras fit", {})
    through = "-"
    if "step_over_session" in row:
        tf_keras = sysd.get("tf.keras")
        through = (f"step {fmt_time(fit.get('step_s'))} (Session {fmt_time(sysd['session'].get('step_s'))}, "
                   f"{fmt_ratio(row.get('step_over_session'))}); tf.keras "
                   f"{fmt_time(tf_keras.get('time_s')) if tf_keras else 'not installed'}")
    return [row["id"], row["title"], "-", fmt_time(fit.get("time_s")), "-", "-", "-", through, "-", "-",
            row["status"]]


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


__all__ = ["run_keras_workload", "table_row", "tensorflow_fit_seconds"]
