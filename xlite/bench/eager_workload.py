"""W7 of `xlite bench`: eager dispatch, a loop of 1,000 small eager ops, per-op time.

The same Python loop (`x = x * 0.5 + 1.0` on a [16] float32 tensor, workloads.w7_loop) runs eagerly on
xlite's interpreter and on the target (each op a cached compiled kernel), and, where they import in
this Python, on JAX (`jax.numpy` eager dispatch) and TensorFlow (TF2 eager), interleaved in one timing
run. Every system's result is first checked against NumPy. The target must beat both per op.
"""
from __future__ import annotations

import importlib.util

import numpy as np

from .checks import _close
from .settings import Settings
from .systems import System
from .targets import check
from .timing import _median, _paired_ratio, time_systems


def _xlite_system(name: str, target: str, program) -> System:
    """xlite eager on `target`; its call runs the whole loop (kernels compiled by the check run)."""
    import xlite as tf
    from xlite.eager import dispatch
    system = System(name)

    def call():
        dispatch.set_target(target)
        return program.loop(tf.constant(program.x0))
    try:
        _close(f"xlite eager ({target})", call().numpy(), program.want(), 1e-5, 1e-6)
        system.call = call
    except Exception as e:      # noqa: BLE001  (a row reports it)
        system.fail(e)
    return system


def _jax_system(program) -> System:
    system = System("jax")
    try:
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_platforms", "cpu")
        x0 = jnp.asarray(program.x0)

        def call():
            return program.loop(x0).block_until_ready()
        _close("jax.numpy eager", np.asarray(call()), program.want(), 1e-5, 1e-6)
        system.call = call
    except Exception as e:      # noqa: BLE001
        system.fail(e)
    return system


def _tf_system(program) -> System:
    system = System("tensorflow")
    try:
        import tensorflow as real_tf
        x0 = real_tf.constant(program.x0)

        def call():
            return program.loop(x0)
        _close("TensorFlow eager", call().numpy(), program.want(), 1e-5, 1e-6)
        system.call = call
    except Exception as e:      # noqa: BLE001
        system.fail(e)
    return system


def run_eager_workload(workload, target: str, with_jax: bool, settings: Settings) -> dict:
    """One row: per-op times of the loop on the interpreter, the target, JAX and TF (where importable)."""
    from xlite.eager import dispatch
    from xlite.eager.context import eager_mode
    program = workload.build()
    row = {"id": workload.id, "title": workload.title, "shapes": workload.shapes, "kind": workload.kind,
           "systems": {}, "compiled": target, "ops_per_call": program.ops}
    with eager_mode():
        try:
            systems = [_xlite_system("interpreter", "interpreter", program), _xlite_system(target, target, program)]
            if with_jax is not False and importlib.util.find_spec("jax") is not None:
                systems.append(_jax_system(program))
            if importlib.util.find_spec("tensorflow") is not None:
                systems.append(_tf_system(program))
            time_systems(systems, settings)
        finally:
            dispatch.set_target(None)
    for s in systems:
        entry = {"status": s.status}
        if s.status == "ok":
            entry.update(time_s=_median(s.rounds) / program.ops, rounds_s=s.rounds, calls_per_round=s.calls)
        row["systems"][s.name] = entry
    by_name = {s.name: s for s in systems}
    compiled = by_name[target]
    row["status"] = compiled.status
    row["speedup"] = _paired_ratio(by_name["interpreter"], compiled)
    row["compiled_over_jax"] = _paired_ratio(compiled, by_name["jax"]) if "jax" in by_name else None
    row["compiled_over_tf"] = _paired_ratio(compiled, by_name["tensorflow"]) if "tensorflow" in by_name else None
    row["targets"] = [check("per op faster than jax.numpy eager", row["compiled_over_jax"], lambda r: r < 1.0),
                      check("per op faster than TF eager", row["compiled_over_tf"], lambda r: r < 1.0)]
    return row


def table_row(row: dict, fmt_time, fmt_ratio) -> list:
    """The W7 line of `xlite bench`'s table (id, workload, interpreter, target, speedup, jax, target/jax,
    throughput, kernels, peak live, status): per-op times; TF's and target/TF in the throughput column."""
    sysd = row.get("systems", {})
    target = sysd.get(row.get("compiled"), {})
    jx, tf_ = sysd.get("jax"), sysd.get("tensorflow")

    def cell(entry):
        return "-" if entry is None else (fmt_time(entry.get("time_s")) if entry["status"] == "ok" else entry["status"])
    through = "-" if tf_ is None else f"tf {cell(tf_)}/op (target/tf {fmt_ratio(row.get('compiled_over_tf'))})"
    return [row["id"], row["title"], cell(sysd.get("interpreter")), cell(target), fmt_ratio(row.get("speedup")),
            cell(jx), fmt_ratio(row.get("compiled_over_jax")), through, "-", "-", row["status"]]


__all__ = ["run_eager_workload", "table_row"]
