"""Stopping a run part-way (RunOptions.timeout_in_ms, Ctrl-C): the words compiled code checks.

A run is given a `RunFlag`, whose int32 `word` its code reads at every kernel boundary and while
back-edge (cpu: loads in the generated entry and in its thread pieces; cuda: the host loop that
launches kernels; interpreter: each while iteration), together with the process-wide `INTERRUPTED`
word that Ctrl-C sets (xlite/runtime/interrupts.py). Either one nonzero makes the code return early,
and `raise_stopped` raises why: the flag's error (DeadlineExceededError for a timeout), or, for Ctrl-C,
KeyboardInterrupt from Python's own SIGINT handler. Runs that cannot be stopped pass `NEVER`.
"""
from __future__ import annotations

import contextlib
import threading

import numpy as np

from xlite import errors

# Set (to 1) by the SIGINT handler xlite/runtime/interrupts.py installs, cleared by its Python half.
INTERRUPTED = np.zeros(1, np.int32)


class RunFlag:
    """One run's stop request: `word` (an int32 its code reads) and the error to raise once it stopped."""

    def __init__(self):
        self.word = np.zeros(1, np.int32)
        self.error: Exception | None = None

    def stop(self, error: Exception) -> None:
        self.error = error
        self.word[0] = 1


NEVER = RunFlag()       # the flag of a run nothing stops but Ctrl-C (never set)


def raise_stopped(flag: RunFlag | None) -> None:
    """Raises why a run stopped early (its code saw `flag` or INTERRUPTED set)."""
    if flag is not None and flag.word[0] and flag.error is not None:
        raise flag.error
    # Ctrl-C: on the main thread Python's SIGINT handler has raised KeyboardInterrupt by now (it runs at
    # the start of this call at the latest); a run on another thread, or a handler that returns, ends here.
    raise errors.CancelledError(None, None, "The run was cancelled by an interrupt (SIGINT)")


@contextlib.contextmanager
def deadline(timeout_ms: int):
    """A RunFlag that a timer sets after `timeout_ms` (DeadlineExceededError), or None for no timeout."""
    if timeout_ms <= 0:
        yield None
        return
    flag = RunFlag()
    error = errors.DeadlineExceededError(None, None, f"Timed out waiting for the run to finish: it took longer "
                                                     f"than {timeout_ms} ms (RunOptions.timeout_in_ms or "
                                                     "ConfigProto.operation_timeout_in_ms)")
    timer = threading.Timer(timeout_ms / 1000.0, flag.stop, (error,))
    timer.daemon = True
    timer.start()
    try:
        yield flag
    finally:
        timer.cancel()


_current = threading.local()        # the flag of the interpreted run on this thread


@contextlib.contextmanager
def running(flag: RunFlag | None):
    """Makes `flag` the one `check()` reads on this thread (the interpreter's runs)."""
    previous = getattr(_current, "flag", None)
    _current.flag = flag
    try:
        yield
    finally:
        _current.flag = previous


def check() -> None:
    """Raises if this thread's run was asked to stop (called per while iteration by the interpreter)."""
    flag = getattr(_current, "flag", None)
    if flag is not None and (flag.word[0] or INTERRUPTED[0]):
        raise_stopped(flag)


__all__ = ["INTERRUPTED", "NEVER", "RunFlag", "raise_stopped", "deadline", "running", "check"]
