"""W8 and W3-fn of `xlite bench`: a tf.function called eagerly, against the Session that runs the same
computation (and jax.jit's call where JAX imports), in one interleaved timing run.

W8 calls W4's add as a tf.function on two eager scalars; its targets are a call within 1.2x of W4's
`sess.run` and faster than `jax.jit`'s. W3-fn is W3's training step written as a tf.function with a
GradientTape and an optimizer; its target is to stay within 5% of the Session step, which its
input_signature (W3's placeholder shapes) makes the same executable (tests/function/
test_function_workload.py compares the optimized modules). Both first check the function's result (and
W3-fn its updated Variables) against the Session's from the same state. The ratio is the median over
rounds of the two systems' times in the same round; the CPU-time ratio is reported beside it.
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from .checks import _close
from .settings import Settings, _jax_programs
from .systems import System
from .targets import check
from .timing import _median, _paired_ratio, time_systems

MAX_OVER_SESSION = {"W8": 1.2, "W3-fn": 1.05}
MIN_ROUNDS = {"W3-fn": 15}      # a 5% target on a noisy machine needs more paired rounds than the default


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
            known = set(sess._cache)
            want = sess.run(base.fetches, base.feeds)
            session_exe = [v[1] for k, v in sess._cache.items() if k not in known and isinstance(v, tuple)]
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
            row["instructions"] = _instructions(session_exe, function_executables(fn))
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
        rounds = MIN_ROUNDS.get(workload.id, 0)
        if not settings.quick and settings.rounds < rounds:
            settings = Settings(quick=False, rounds=rounds)
        time_systems(systems, settings)
    return _row(row, systems, function, session)


def _row(row: dict, systems: list, function: System, session: System) -> dict:
    for s in systems:
        entry = {"status": s.status}
        if s is function and session.status != "ok":
            entry["status"] = "not run"
        elif s.status == "ok":
            entry.update(time_s=_median(s.rounds), rounds_s=s.rounds, calls_per_round=s.calls,
                         cpu_s=_median(s.cpu_rounds))
        row["systems"][s.name] = entry
    row["status"] = function.status if session.status == "ok" else f"session: {session.status}"
    row["function_over_session"] = _paired_ratio(function, session)
    row["function_over_session_cpu"] = _paired_ratio(function, session, "cpu_rounds")
    row["rounds"] = len(getattr(function, "rounds", []))
    jx = systems[2] if len(systems) > 2 else None
    row["function_over_jax"] = _paired_ratio(function, jx) if jx else None
    row["targets"] = _targets(row)
    return row


def opcode_histogram(module) -> Counter:
    """How many instructions of each opcode a Module has, over all its computations (fusions included)."""
    return Counter(inst.opcode for comp in module.all_computations() for inst in comp.instructions)


def optimized_module(executable):
    """The optimized Module an executable was generated from (cpu), or None (a backend that keeps none)."""
    compiled = getattr(executable, "compiled", None)
    return None if compiled is None else compiled.module


def function_executables(fn) -> list:
    """The executables a tf.function's calls compiled so far, over all its traces."""
    return [sig.executable for concrete in getattr(fn, "_traces", {}).values()
            if concrete._runner is not None for sig in concrete._runner.signatures.values()]


def _instructions(session_exe: list, function_exe: list) -> dict | None:
    """Both optimized Modules' instruction counts and whether their opcode histograms are the same: the
    structural half of "the same fused executable" (None where there is not one of each to compare)."""
    if len(session_exe) != 1 or len(set(map(id, function_exe))) != 1:
        return None
    modules = [optimized_module(session_exe[0]), optimized_module(function_exe[0])]
    if None in modules:
        return None
    hist = [opcode_histogram(m) for m in modules]
    return {"session": sum(hist[0].values()), "tf.function": sum(hist[1].values()), "same": hist[0] == hist[1]}


def _variables(fn) -> list:
    """The eager Variables a traced function updates, in the order it captured them."""
    traces = list(getattr(fn, "_traces", {}).values())
    return traces[0].variables if traces else []


def _targets(row: dict) -> list:
    most = MAX_OVER_SESSION.get(row["id"])
    ratio = row.get("function_over_session")
    what = "Session step" if row["id"] == "W3-fn" else "W4's sess.run"
    checks = [check(f"<= {most:g}x of {what}", ratio, lambda r: r <= most)]
    if row["id"] == "W3-fn":
        same = (row.get("instructions") or {}).get("same")
        checks.append(check("same optimized module as the Session step", same, lambda s: s))
    if row["id"] == "W8":
        checks.append(check("faster than jax.jit's call", row.get("function_over_jax"), lambda r: r < 1.0))
    return checks


def table_row(row: dict, fmt_time, fmt_ratio) -> list:
    """The line of `xlite bench`'s table (id, workload, interpreter, target, speedup, jax, target/jax,
    throughput, kernels, peak live, status): the tf.function's time in the target's column, the Session's
    and the ratios in the throughput column, both optimized Modules' instruction counts in the kernels one."""
    sysd = row.get("systems", {})
    fn, sess, jx = sysd.get("tf.function", {}), sysd.get("session", {}), sysd.get("jax")
    through = (f"session {fmt_time(sess.get('time_s'))} (fn/session {fmt_ratio(row.get('function_over_session'))}, "
               f"CPU {fmt_ratio(row.get('function_over_session_cpu'))})")
    return [row["id"], row["title"], "-", fmt_time(fn.get("time_s")), "-",
            "-" if jx is None else (fmt_time(jx.get("time_s")) if jx["status"] == "ok" else jx["status"]),
            fmt_ratio(row.get("function_over_jax")), through, _instruction_cell(row.get("instructions")), "-",
            row["status"]]


def _instruction_cell(counts: dict | None) -> str:
    if counts is None:
        return "-"
    return f"{counts['session']}/{counts['tf.function']} instr{'' if counts['same'] else ' (differ)'}"


__all__ = ["run_function_workload", "table_row"]
