"""The systems timed on a workload (the interpreter, the compiled target, JAX, CuPy, cuda-device):
each built and checked against the interpreter once before any timing."""
from __future__ import annotations

import time

import numpy as np

from xlite.ir.symbolic import nominal

from .checks import Mismatch, _check_step, _close, _describe, _is_unimplemented
from .gpu import DEVICE_SYSTEM, device_call, gpu_device
from .settings import _cupy_programs, _jax_programs


def _first_step(sess, prog, initial=None) -> dict:
    """Initialize, optionally overwrite with `initial`, run one call; the values a check compares."""
    before = []
    if prog.init is not None:
        sess.run(prog.init)
        before = [np.array(v) for v in sess.run(prog.variables)]
        if initial is not None:
            for var, value in zip(prog.variables, initial):
                var.load(value, sess)
    known = set(getattr(sess, "_cache", {}))
    t0 = time.perf_counter()
    out = sess.run(prog.fetches, prog.feeds)
    step_s = time.perf_counter() - t0
    new = [v for k, v in getattr(sess, "_cache", {}).items() if k not in known]   # (lowered, executable)
    after = [np.array(v) for v in sess.run(prog.variables)] if prog.variables else []
    return {"outputs": [np.array(out[i]) for i in prog.outputs], "before": before, "after": after,
            "executable": new[0][1] if len(new) == 1 else None, "step_s": step_s}


class System:
    """One way of running a workload: `call()` is one timed call; `status` is "ok" or why it is not timed."""

    def __init__(self, name: str):
        self.name = name
        self.status = "ok"
        self.call = None
        self.stats: dict = {}
        self.hint_s = None        # a call's time already known (skips calibrating a slow system)

    def fail(self, e: BaseException) -> None:
        if isinstance(e, Mismatch):
            self.status = f"MISMATCH {e}"
        elif _is_unimplemented(e):
            self.status = f"not implemented: {_describe(e)}"
        else:
            self.status = f"error: {_describe(e)}"


def prepare(workload, target: str, with_jax: bool, with_cupy: bool = False):
    """Builds the workload, runs and checks every system once; (systems, reference)."""
    import xlite as tf
    prog = workload.build()
    systems = [System("interpreter")]
    interp = tf.Session(target="interpreter", graph=prog.graph)
    ref = _first_step(interp, prog)
    systems[0].call = lambda: interp.run(prog.fetches, prog.feeds)
    systems[0].hint_s = ref["step_s"]          # no compile in it: good enough to size the rounds

    compiled = System(target)
    systems.append(compiled)
    executable = None
    try:
        sess = tf.Session(target=target, graph=prog.graph)
        values = _first_step(sess, prog, initial=ref["before"])
        executable = values["executable"]
        for k, (got, want) in enumerate(zip(values["before"], ref["before"])):
            _close(f"initial value of variable {k}", got, want, 1e-5, 1e-6)
        _check_step(values, ref, workload)
        compiled.stats = executable_stats(values["executable"])
        compiled.call = lambda: sess.run(prog.fetches, prog.feeds)
    except Exception as e:      # noqa: BLE001  (a row reports it; the suite goes on)
        compiled.fail(e)

    if with_jax:
        systems.append(_other_system("jax", lambda: _jax_programs().make(
            workload.id, list(prog.feeds.values()), ref["before"] or None), ref, workload))
    if with_cupy:
        systems.append(_other_system("cupy", lambda: _cupy_programs().make(
            workload.id, prog, ref["before"] or None), ref, workload))
    if target == "cuda":
        compiled.stats.update(gpu_device(executable))
        device = System(DEVICE_SYSTEM)
        systems.insert(2, device)
        device.status = compiled.status
        if compiled.status == "ok":
            try:
                device.call = device_call(sess, prog, executable, workload)
            except Exception as e:  # noqa: BLE001
                device.fail(e)
    return systems, ref


def _other_system(name: str, make, ref: dict, workload) -> System:
    """Another system's program (JAX, CuPy), checked against the interpreter's step before it is timed."""
    system = System(name)
    try:
        program = make()
        got = program.first()
        n = len(ref["outputs"])
        _check_step({"outputs": got[:n], "after": got[n:]}, ref, workload)
        system.call = program.call
    except Exception as e:  # noqa: BLE001  (a row reports it; the suite goes on)
        system.fail(e)
    return system


def executable_stats(executable) -> dict:
    """Kernels and peak bytes of a compiled executable, where it exposes them."""
    if executable is None:
        return {}
    stats: dict = {}
    plan = getattr(executable, "plan", None)
    for owner in (executable, plan):
        for name in ("num_kernels", "kernels", "kernel_count"):
            value = getattr(owner, name, None)
            if isinstance(value, int):
                stats["kernels"], stats["kernels_from"] = value, "executable"
                break
        if "kernels" in stats:
            break
    cached = isinstance(getattr(executable, "peak_bytes", None), int)    # figures a cache entry kept
    module = None if cached and "kernels" in stats else getattr(executable, "module", None)
    if "kernels" not in stats and module is not None:
        try:
            from xlite.passes.fusion import kernel_count
        except ImportError:
            kernel_count = None
        if kernel_count is not None:
            stats["kernels"], stats["kernels_from"] = kernel_count(module.entry), "entry instructions"
    compiled = getattr(executable, "compiled", None) if module is not None else None
    assignment = compiled.buffer_assignment if compiled is not None else None
    # Peak: the most bytes of temporaries live at once (the buffer assignment's figure; parameters and
    # results live in the caller's arrays). The arena also holds the kernels' scratch space.
    if assignment is not None and hasattr(assignment, "peak_bytes"):
        stats["peak_bytes"], stats["peak_from"] = int(nominal(assignment.peak_bytes)), "buffer assignment"
    elif cached:
        stats["peak_bytes"], stats["peak_from"] = executable.peak_bytes, "buffer assignment"
    if plan is not None and getattr(plan, "arena_bytes", None) is not None:
        stats["arena_bytes"] = int(nominal(plan.arena_bytes))
    launches = getattr(getattr(executable, "program", None), "launches", None)   # CudaExecutable
    if isinstance(launches, int):
        stats["launches"] = launches
    return stats
