"""W8 and W3-fn of `xlite bench`: a tf.function called eagerly, against the Session that runs the same
computation (and jax.jit's call where JAX imports), in one interleaved timing run.

W8 calls W4's add as a tf.function on two eager scalars; its targets are a call within 1.2x of W4's
`sess.run` and faster than `jax.jit`'s. W3-fn is W3's training step written as a tf.function with a
GradientTape and an optimizer; its target is to stay within 5% of the Session step. Both first check
the function's result (and W3-fn its updated Variables) against the Session's from the same state.
"""
from __future__ import annotations

import numpy as np

from .checks import _close
from .settings import Settings, _jax_programs
from .systems import System
from .targets import check
from .timing import _median, _paired_ratio, time_systems

MAX_OVER_SESSION = {"W8": 1.2, "W3-fn": 1.05}


def run_function_workload(workload, target: str, with_jax: bool, settings: Settings) -> dict:
    """One row: the Session system, the tf.function system (and jax), timed in the same rounds."""
    import xlite as tf
    from xlite.eager.context import eager_mode
    from xlite.runtime.executable import resolve_target
    program = workload.build()
    base = program.baseline
    row = {"id": workload.id, "title": workload.title, "shapes": workload.shapes, "kind": workload.kind,
           "systems": {}, "compiled": target}
    session, function = System("session"), System("tf.function")
    systems = [session, function]
    with eager_mode():
        try:
            sess = tf.Session(target=target, graph=base.graph)
            initial = []
            if base.init is not None:
                sess.run(base.init)
                initial = [np.array(v) for v in sess.run(base.variables)]
            want = sess.run(base.fetches, base.feeds)
            want_after = [np.array(v) for v in sess.run(base.variables)] if base.variables else []
            session.call = lambda: sess.run(base.fetches, base.feeds)
        except Exception as e:      # noqa: BLE001  (a row reports it)
            session.fail(e)
            return _row(row, systems, function, session)
        try:
            if resolve_target(target) != resolve_target(None):
                raise RuntimeError(f"tf.function calls compile for XLITE_TARGET, not --target {target}")
            fn, args = program.make(initial)
            got = fn(*args)
            _close("tf.function's result", np.asarray(got), np.asarray(want[0]), workload.rtol, workload.atol)
            for k, (var, value) in enumerate(zip(_variables(fn), want_after)):
                _close(f"variable {k} after one step", var.numpy(), value, workload.rtol, workload.atol)
            function.call = lambda: fn(*args)
        except Exception as e:      # noqa: BLE001
            function.fail(e)
        if with_jax and workload.id == "W8":
            jax_system = System("jax")
            try:
                jax_program = _jax_programs().make("W4", list(base.feeds.values()))
                _close("jax.jit's result", np.asarray(jax_program.first()[0]), np.asarray(want[0]), 1e-6, 1e-6)
                jax_system.call = jax_program.call
            except Exception as e:  # noqa: BLE001
                jax_system.fail(e)
            systems.append(jax_system)
        time_systems(systems, settings)
    return _row(row, systems, function, session)


def _row(row: dict, systems: list, function: System, session: System) -> dict:
    for s in systems:
        entry = {"status": s.status}
        if s.status == "ok":
            entry.update(time_s=_median(s.rounds), rounds_s=s.rounds, calls_per_round=s.calls)
        elif s is function and session.status != "ok":
            entry["status"] = "not run"
        row["systems"][s.name] = entry
    row["status"] = function.status if session.status == "ok" else f"session: {session.status}"
    row["function_over_session"] = _paired_ratio(function, session)
    jx = systems[2] if len(systems) > 2 else None
    row["function_over_jax"] = _paired_ratio(function, jx) if jx else None
    row["targets"] = _targets(row)
    return row


def _variables(fn) -> list:
    """The eager Variables a traced function updates, in the order it captured them."""
    traces = list(getattr(fn, "_traces", {}).values())
    return traces[0].variables if traces else []


def _targets(row: dict) -> list:
    most = MAX_OVER_SESSION.get(row["id"])
    ratio = row.get("function_over_session")
    what = "Session step" if row["id"] == "W3-fn" else "W4's sess.run"
    checks = [check(f"<= {most:g}x of {what}", ratio, lambda r: r <= most)]
    if row["id"] == "W8":
        checks.append(check("faster than jax.jit's call", row.get("function_over_jax"), lambda r: r < 1.0))
    return checks


def table_row(row: dict, fmt_time, fmt_ratio) -> list:
    """The line of `xlite bench`'s table (id, workload, interpreter, target, speedup, jax, target/jax,
    throughput, kernels, peak live, status): the tf.function's time in the target's column, the Session's
    and the ratio in the throughput column."""
    sysd = row.get("systems", {})
    fn, sess, jx = sysd.get("tf.function", {}), sysd.get("session", {}), sysd.get("jax")
    through = f"session {fmt_time(sess.get('time_s'))} (fn/session {fmt_ratio(row.get('function_over_session'))})"
    return [row["id"], row["title"], "-", fmt_time(fn.get("time_s")), "-",
            "-" if jx is None else (fmt_time(jx.get("time_s")) if jx["status"] == "ok" else jx["status"]),
            fmt_ratio(row.get("function_over_jax")), through, "-", "-", row["status"]]


__all__ = ["run_function_workload", "table_row"]
