"""Horovod's local gradient aggregation (`DistributedOptimizer(backward_passes_per_step=N)`), in graph mode.

Each call of the training op adds this process's gradients to local accumulators; every N-th call the
accumulated sums are all-reduced (one communication per N backward passes) and applied, and the
accumulators start again from zero. The calls in between apply nothing but still count the global step.
Both branches are tf.conds on a local counter, which every process holds equal, so all take the same one.
"""
from __future__ import annotations

from typing import Callable

from xlite.frontend.control_flow_ops import cond
from xlite.frontend.fill_ops import zeros
from xlite.frontend.graph import GraphKeys
from xlite.frontend.math_ops import equal, identity
from xlite.frontend.scopes import control_dependencies
from xlite.frontend.variables import Variable, group, no_op
from xlite.ir import dtypes


class LocalAggregation:
    """The accumulators and counter of one DistributedOptimizer; `gradients` then `apply` build its step."""

    def __init__(self, passes: int, reduce: Callable[[list], list]):
        if passes <= 0:
            raise ValueError("backward_passes_per_step must be > 0")
        self.passes, self.reduce = passes, reduce
        self.counter = None

    def gradients(self, grads_and_vars: list) -> list:
        """(gradient, variable) pairs: this call's own gradients, or on every N-th call the accumulated
        sums all-reduced by `reduce` (the counter then back at zero)."""
        present = [(g, v) for g, v in grads_and_vars if g is not None]
        local = [GraphKeys.LOCAL_VARIABLES]
        self.counter = Variable(0, trainable=False, collections=local, name="aggregation_counter",
                                dtype=dtypes.int32)
        sums = [Variable(zeros(g.shape.as_list(), g.dtype), trainable=False, collections=local,
                         name=f"aggregation_{k}") for k, (g, _) in enumerate(present)]
        cleared = cond(equal(self.counter, 0),
                       lambda: group(*[s.assign(zeros(s.shape.as_list(), s.dtype)) for s in sums]), no_op)
        with control_dependencies([cleared]):
            added = [s.assign_add(g) for s, (g, _) in zip(sums, present)]
        with control_dependencies(added):
            counted = self.counter.assign_add(1)

        def communicate():
            reduced = self.reduce([s.read_value() for s in sums])
            with control_dependencies(reduced):
                reset = self.counter.assign(0)
            with control_dependencies([reset]):
                return [identity(r) for r in reduced]

        with control_dependencies([counted]):
            result = cond(equal(self.counter, self.passes), communicate, lambda: [identity(g) for g, _ in present])
        result = list(result) if isinstance(result, (list, tuple)) else [result]
        chosen = iter(result)
        return [(None if g is None else next(chosen), v) for g, v in grads_and_vars]

    def apply(self, grads_and_vars: list, apply_now: Callable, global_step=None):
        """The optimizer's update where the counter is back at zero (a communicating call), else only the
        global step's increment."""
        with control_dependencies([g for g, _ in grads_and_vars if g is not None]):
            def skip():
                return group(global_step.assign_add(1)) if global_step is not None else no_op()
            return cond(equal(self.counter, 0), lambda: group(apply_now()), skip)


__all__ = ["LocalAggregation"]
