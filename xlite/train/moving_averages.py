"""tf.train.ExponentialMovingAverage: shadow Variables `<var>/ExponentialMovingAverage` that `apply` moves
towards their variables, with TF's names, collections, decay dtype and update formulas."""
from __future__ import annotations

import numpy as np

from xlite.frontend import math_ops
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.graph import GraphKeys, Operation, Tensor, get_default_graph
from xlite.frontend.variables import (Variable, assign, assign_add, assign_sub, global_variables, group,
                                      trainable_variables)
from xlite.ir import dtypes

MOVING_AVERAGE_VARIABLES = GraphKeys.MOVING_AVERAGE_VARIABLES
_FLOATS = ("bfloat16", "float16", "float32", "float64")


def moving_average_variables(scope: str | None = None) -> list:
    """The Variables some ExponentialMovingAverage.apply has shadowed (TF's tf.moving_average_variables)."""
    return get_default_graph().get_collection(MOVING_AVERAGE_VARIABLES, scope)


def _op_name(x) -> str:
    return x.op.name


def _shadow(primary, initial, name: str) -> Variable:
    """A non-trainable Variable named `<primary>/<name>` (uniquified), made outside any control dependency."""
    graph = primary.graph
    with graph.name_scope(_op_name(primary) + "/"), graph.control_dependencies(None):
        return Variable(initial, trainable=False, name=name)


def _zeros(like, name: str) -> Variable:
    if not like.shape.is_fully_defined():
        raise ValueError(f"ExponentialMovingAverage needs a fully defined shape to average {like.name}, "
                         f"got {like.shape}")
    return _shadow(like, np.zeros(like.shape.as_list(), dtype=like.dtype.np), name)


def assign_moving_average(variable: Variable, value, decay, zero_debias: bool = True,
                          name: str | None = None) -> Tensor:
    """variable -= (variable - value) * (1 - decay); with `zero_debias`, the average of a zero-started
    `biased` copy divided by 1 - decay^t (t counted in `local_step`), as TF's moving_averages does."""
    graph = variable.graph
    with graph.name_scope(name or "AssignMovingAvg") as scope:
        decay = convert_to_tensor(1.0 - decay, name="decay")
        if decay.dtype != variable.dtype:
            decay = math_ops.cast(decay, variable.dtype)
        if not zero_debias:
            return assign_sub(variable, (variable - value) * decay, name=scope)
        biased = _zeros(variable, "biased")
        local_step = _shadow(variable, np.zeros((), dtype=variable.dtype.np), "local_step")
        update_biased = assign_sub(biased, (biased - value) * decay)
        update_local_step = assign_add(local_step, np.ones((), dtype=variable.dtype.np))
        bias_factor = 1 - math_ops.pow(1.0 - decay, update_local_step)
        return assign(variable, update_biased / bias_factor, name=scope)


class ExponentialMovingAverage:
    """shadow -= (1 - decay) * (shadow - var) per apply; with num_updates, decay = min(decay, (1+n)/(10+n))."""

    def __init__(self, decay, num_updates=None, zero_debias: bool = False, name: str = "ExponentialMovingAverage"):
        self._decay = decay
        self._num_updates = num_updates
        self._zero_debias = zero_debias
        self._name = name
        self._averages: dict[int, tuple[object, Variable]] = {}   # id(var) -> (var, shadow), like TF's var.ref()
        self._debiased: set[int] = set()

    @property
    def name(self) -> str:
        return self._name

    def apply(self, var_list=None) -> Operation:
        """Creates missing shadows (a Variable's starts at its initial value, a Tensor's at zero) and
        returns the op that updates them all; zero_debias applies to Tensors' shadows only, as in TF."""
        var_list = trainable_variables() if var_list is None else list(var_list)
        for var in var_list:
            if not isinstance(var, (Variable, Tensor)):
                raise TypeError(f"ExponentialMovingAverage.apply takes Variables or Tensors, got {var!r}")
            if var.dtype.name not in _FLOATS:
                raise TypeError(f"The variables must be half, float, or double: {var.name}")
            if id(var) in self._averages:
                continue
            if isinstance(var, Variable):
                avg = _shadow(var, var.initialized_value(), self._name)
                var.graph.add_to_collection(MOVING_AVERAGE_VARIABLES, var)
            else:
                avg = _zeros(var, self._name)
                if self._zero_debias:
                    self._debiased.add(id(avg))
            self._averages[id(var)] = (var, avg)
        graph = var_list[0].graph if var_list else get_default_graph()
        with graph.as_default(), graph.name_scope(self._name) as scope:
            decay = convert_to_tensor(self._decay, dtype=dtypes.float32, name="decay")
            if self._num_updates is not None:
                n = math_ops.cast(self._num_updates, dtypes.float32, name="num_updates")
                decay = math_ops.minimum(decay, (1.0 + n) / (10.0 + n))
            updates = []
            for var in var_list:
                avg = self._averages[id(var)][1]
                updates.append(assign_moving_average(avg, var, decay, zero_debias=id(avg) in self._debiased))
            return group(*updates, name=scope)

    def average(self, var) -> Variable | None:
        entry = self._averages.get(id(var))
        return entry[1] if entry else None

    def average_name(self, var) -> str:
        """The shadow's op name, or the one `apply` would give it now (for a Saver restoring averages)."""
        if id(var) in self._averages:
            return self._averages[id(var)][1].op.name
        return var.graph.unique_name(_op_name(var) + "/" + self._name, mark_as_used=False)

    def variables_to_restore(self, moving_avg_variables=None) -> dict:
        """{name: Variable} that loads each averaged Variable from its shadow's checkpoint entry, and every
        other global Variable from its own."""
        if moving_avg_variables is None:
            moving_avg_variables = list(trainable_variables()) + list(moving_average_variables())
        unique = list({id(v): v for v in moving_avg_variables}.values())
        name_map = {self.average_name(v): v for v in unique}
        averaged_names = {v.name for v in unique}
        for v in global_variables():
            if v.name not in averaged_names and v.op.name not in name_map:
                name_map[v.op.name] = v
        return name_map
