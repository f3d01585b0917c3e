"""Tiered compilation: a big run signature's first runs use quick code while its -O3 code compiles on a
thread behind them and then takes over.

LLVM's -O3 pipeline and code generation are most of a cold compile (W6: ~300 ms of the W3 step's
~400 ms), while the same LLVM IR compiled at -O0 (no IR passes, the fast instruction selector) takes
~20 ms and runs the W3 step ~1.5x slower, its BLAS calls unchanged. So compile_cpu gives a signature
whose IR is long (MIN_TIER_LINES) and whose loops do little work (loop_work <= MAX_QUICK_WORK, so that
unvectorized code costs little) an executable running -O0 code at once, and `start` compiles the
same IR at -O3 on a thread of its own. When that finishes, the -O3 object goes into the disk cache,
the executable swaps it in between two runs (CpuExecutable.replace_code: same plan, same arena), and
the callbacks given to `when_final` run (the driver files the lowered-Module cache entry there).
The -O0 object is never cached: a cache hit is always -O3 code.

Results of the two tiers are bit-identical: float reductions carry no reassociation flags and sum in
explicit lanes (pairwise.py; test_cpu_determinism.py checks -O0 against -O3). A compile of a signature whose tier-up is still
running waits for it and takes the cached -O3 code; the process waits for running tier-ups before
it exits (non-daemon threads) and before a fork. XLITE_TIERED=0 compiles every signature at its
level directly.
"""
from __future__ import annotations

import logging
import os
import threading
from math import prod

QUICK_LEVEL = 0
MIN_TIER_LINES = 1000            # shorter IR optimizes in <~100 ms: not worth a second compile
MAX_QUICK_WORK = 1 << 25         # element operations in loops; past this -O0 loops cost more than -O3 compiles
_NOT_LOOPS = frozenset(("parameter", "constant", "tuple", "get_tuple_element", "fusion", "dot", "convolution",
                        "while", "conditional", "bitcast", "reshape"))

_lock = threading.Lock()
_pending: dict = {}              # cache key -> its running TierUp


def enabled() -> bool:
    return os.environ.get("XLITE_TIERED", "1") != "0"


def loop_work(module) -> int:
    """About how many element operations the module's loops do per run (symbols at their nominal size):
    every instruction but BLAS calls and plumbing, counted over its largest operand or result."""
    from xlite.ir.symbolic import nominal

    def elements(shape) -> int:
        return 0 if shape.is_tuple else prod(nominal(d) for d in shape.dims)

    return sum(max([elements(i.shape)] + [elements(o.shape) for o in i.operands])
               for c in module.all_computations() for i in c.instructions if i.opcode not in _NOT_LOOPS)


def tiered(module, ir_text: str, level: int) -> bool:
    """Whether a signature at `level` starts on quick code (see the module docstring)."""
    return (level == 3 and enabled() and ir_text.count("\n") >= MIN_TIER_LINES
            and loop_work(module) <= MAX_QUICK_WORK)


class TierUp:
    """The -O3 compile of one executable's IR on a thread; `callbacks` run once its code is in."""

    def __init__(self, executable, ir_text: str, key: str, store):
        self.executable, self.ir_text, self.key, self.store = executable, ir_text, key, store
        self.callbacks: list = []
        self.done = False
        self.swapped = False            # the -O3 code is in (replace_code may refuse it: see there)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="xlite-tier-up", daemon=False)

    def _run(self) -> None:
        from xlite.codegen.cpu.compiler import LoadedCode, compile_to_object
        _lower_priority()
        executable = self.executable
        try:
            # one core (the run has the rest), and no Python work of its own: merged by compile_cpu, as a Python
            # pass here would hold the GIL from the run's thread for up to a switch interval (5 ms)
            obj = compile_to_object(self.ir_text, speed_level=3, in_parts=False, merged=True)
            self.swapped = executable.replace_code(LoadedCode(obj, executable.code_symbols()))
            self.store(obj)
        except Exception as e:      # noqa: BLE001 - the quick code stays: correct, only slower
            self.error = e
            logging.getLogger("xlite").warning("xlite: the -O3 compile of a run signature failed; it keeps "
                                               "its -O0 code: %s", e)
        finally:
            with _lock:
                self.done = True
                callbacks, self.callbacks = self.callbacks, []
                if _pending.get(self.key) is self:
                    del _pending[self.key]
            self.ir_text = None
        if self.swapped:
            for callback in callbacks:
                try:
                    callback(executable)
                except Exception as e:      # noqa: BLE001 - a cache that cannot be written: no entry
                    logging.getLogger("xlite").warning("xlite: after a tier-up: %s", e)


def _lower_priority() -> None:
    """This thread, and the optimizer threads it starts (which inherit it), at nice 10 (~1/10 of a core
    where a program's thread wants it too). At the same priority the tier-up took a core from a run's
    worker threads, whose kernels then waited on one another (W6-poly's first batch-100 run: 8 -> 50
    ms); at nice 19 a busy program starved it (a 0.3 s tier-up took 45 s beside one busy thread)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)     # Linux: this thread alone
    except (AttributeError, OSError):
        pass


def start(executable, ir_text: str, key: str, store) -> None:
    """Compiles `ir_text` at -O3 behind `executable` (running quick code), then `store(obj)` (the disk
    cache) and swaps it in."""
    tier = TierUp(executable, ir_text, key, store)
    executable.tier = tier
    with _lock:                 # started under the lock: a `wait` never finds it registered but not started
        _pending[key] = tier
        tier.thread.start()


def when_final(executable, callback) -> None:
    """`callback(executable)` once the executable runs its final code: now, or after its tier-up (on
    that thread; never where the quick code stays: a failed or refused tier-up)."""
    tier = getattr(executable, "tier", None)
    if tier is not None:
        with _lock:
            if not tier.done:
                tier.callbacks.append(callback)
                return
        if not tier.swapped:
            return
    callback(executable)


def wait(key: str | None = None) -> None:
    """Waits for the tier-up of the signature under cache key `key` (every tier-up when None)."""
    with _lock:
        tiers = list(_pending.values()) if key is None else [t for t in (_pending.get(key),) if t is not None]
    for tier in tiers:
        if tier.thread is not threading.current_thread():
            tier.thread.join()


def pending() -> int:
    """How many tier-ups are still compiling."""
    with _lock:
        return len(_pending)


def _wait_all() -> None:
    wait()


if hasattr(os, "register_at_fork"):    # a child must not inherit a compile half done under LLVM's locks
    os.register_at_fork(before=_wait_all)


__all__ = ["tiered", "loop_work", "start", "when_final", "wait", "pending", "QUICK_LEVEL", "MIN_TIER_LINES",
           "MAX_QUICK_WORK"]
