"""The execution mode: TF1 graph building (the default) or eager execution, for the whole process.

`tf.enable_eager_execution()` installs the eager executor and Variable class in the frontend's hook
(xlite/frontend/execution_hook.py), after which every op runs as it is made, unless a graph other
than the global default one is the default (`with tf.Graph().as_default():`, a tf.function trace).
Tests use `eager_mode()` to turn it on for a block and restore graph mode after it.
"""
from __future__ import annotations

import contextlib
import secrets

from xlite.frontend import execution_hook
from xlite.frontend import graph as graph_module


class _RandomState:
    """What a Session keeps for its random ops, kept for eager ones: the run counter (each eager random
    op is a run of its own, so `a = tf.random_normal(...); b = ...` draw what `sess.run(a); sess.run(b)`
    draw) and the Philox key of unseeded ops, one per process so that they share one kernel."""

    def __init__(self):
        self.counter = 0
        self.unseeded_key = (secrets.randbits(32), secrets.randbits(32))

    def next_counter(self) -> int:
        self.counter += 1
        return self.counter

    def reset(self) -> None:
        """tf.set_random_seed while executing eagerly: the sequence starts again, as TF's eager seed does."""
        self.counter = 0
        from xlite.frontend import random_ops
        random_ops._graph_seed_counts.pop(graph_module.get_default_graph(), None)


random_state = _RandomState()


def enable_eager_execution(config=None, device_policy=None, execution_mode=None) -> None:
    """Ops run as they are called and give EagerTensors (TF's `tf.enable_eager_execution`).

    As in TF, call it at program start: eager mode then holds for the process."""
    if graph_module._global_default_graph.get_operations() and execution_hook.eager_executor is None:
        raise ValueError("tf.enable_eager_execution must be called at program startup.")
    _install()


def _install() -> None:
    from xlite.eager import fast_ops
    from xlite.eager.dispatch import execute
    from xlite.eager.variables import EagerVariable
    fast_ops.install()
    execution_hook.install(execute, EagerVariable, random_state.reset)


def executing_eagerly() -> bool:
    """Whether ops made now run at once (TF's `tf.executing_eagerly`)."""
    return graph_module.executing_eagerly()


@contextlib.contextmanager
def eager_mode():
    """Eager execution for the block, then back to what was before (graph building in tests)."""
    saved = (execution_hook.eager_executor, execution_hook.eager_variable_class, execution_hook.on_random_seed)
    _install()
    try:
        yield
    finally:
        execution_hook.install(*saved)


@contextlib.contextmanager
def graph_mode():
    """Graph building for the block even where eager execution is on."""
    saved = (execution_hook.eager_executor, execution_hook.eager_variable_class, execution_hook.on_random_seed)
    execution_hook.uninstall()
    try:
        yield
    finally:
        execution_hook.install(*saved)


__all__ = ["enable_eager_execution", "executing_eagerly", "eager_mode", "graph_mode", "random_state"]
