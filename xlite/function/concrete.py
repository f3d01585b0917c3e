"""ConcreteFunction: one trace of a tf.function, callable.

Called in eager mode it runs the trace's executable for the arguments' shapes (xlite/function/
runner.py) and returns eager tensors in the function's output structure. Called from graph code (a
TF1 graph, or another function's trace) it inlines the trace into that graph (xlite/function/inline.py)
and returns graph tensors, so the caller's run compiles as one executable.
"""
from __future__ import annotations

import numpy as np

from xlite.frontend import nest
from xlite.frontend.graph import Tensor, get_default_graph
from xlite.function import eager_bridge
from xlite.function.call_gradient import record_call
from xlite.function.inline import inline
from xlite.function.runner import GraphRunner, fast_call
from xlite.function.signature import TENSOR, VARIABLE, bind, leaf_kind
from xlite.runtime.executable import default_target


class ConcreteFunction:
    """A traced graph with its argument structure; `graph`, `inputs`, `outputs`, `structured_outputs`."""

    def __init__(self, graph, parameters, values: tuple, name: str):
        self.graph = graph
        self.name = name
        self._parameters = parameters
        self._arg_structure = values         # the bound arguments the trace was made from
        self._runner: GraphRunner | None = None
        self._inlined = 0                    # calls from graph code so far (each a copy of the trace)
        self._dtypes = [t.dtype.np for t in graph.arg_inputs]

    @property
    def inputs(self) -> list[Tensor]:
        return self.graph.inputs

    @property
    def outputs(self) -> list[Tensor]:
        return self.graph.outputs

    @property
    def structured_outputs(self):
        return self.graph.structured_outputs

    @property
    def variables(self) -> list:
        return self.graph.variables

    @property
    def structured_input_signature(self):
        from xlite.function.tensor_spec import TensorSpec
        flat = nest.flatten(list(self._arg_structure))
        specs, inputs = [], iter(self.graph.arg_inputs)
        for v in flat:
            specs.append(TensorSpec.from_tensor(next(inputs), None) if leaf_kind(v) == TENSOR else v)
        return tuple(nest.pack_sequence_as(list(self._arg_structure), specs)), {}

    def __call__(self, *args, **kwargs):
        values = bind(self._parameters, args, kwargs)
        flat = nest.flatten(list(values))
        return self.call_flat([v for v in flat if leaf_kind(v) == TENSOR],
                              [v for v in flat if leaf_kind(v) == VARIABLE])

    def call_flat(self, tensors: list, variables: list = ()):
        """Calls the trace with one value per argument placeholder and one Variable per Variable
        argument, in the trace's flat order."""
        if len(tensors) != len(self.graph.arg_inputs) or len(variables) != len(self.graph.variable_args):
            raise TypeError(f"{self.name} takes {len(self.graph.arg_inputs)} tensor and "
                            f"{len(self.graph.variable_args)} Variable arguments, got {len(tensors)} and "
                            f"{len(variables)}")
        for var, proxy in zip(variables, self.graph.variable_args):
            if var.dtype != proxy.dtype or not proxy.shape.is_compatible_with(var.shape):
                raise ValueError(f"{self.name}: Variable argument {var.name} ({var.dtype.name}{var.shape}) does "
                                 f"not fit the trace's {proxy.dtype.name}{proxy.shape}")
        if eager_bridge.executing_eagerly():
            arrays = [_array(t, d) for t, d in zip(tensors, self._dtypes)]
            return record_call(self, tensors, arrays, variables, lambda: self.call_eager(arrays, variables))
        return self.call_graph(tensors, variables)

    def call_graph(self, tensors: list, variables: list = ()):
        """Inlines the trace into the default graph; the outputs as that graph's tensors."""
        from xlite.frontend.convert import convert_to_tensor
        graph = get_default_graph()
        args = []
        for value, placeholder in zip(tensors, self.graph.arg_inputs):
            t = convert_to_tensor(value, dtype=placeholder.dtype)
            if not placeholder.shape.is_compatible_with(t.shape):
                raise ValueError(f"{self.name}: argument {placeholder.op.name} has shape {t.shape}, the "
                                 f"trace expects {placeholder.shape}")
            args.append(t)
        self._inlined += 1
        return inline(self.graph, graph, args, self.name, variables, self._inlined - 1)

    def call_eager(self, arrays: list, variables: list = ()):
        """Runs the trace's executable on NumPy arrays (one per argument placeholder)."""
        runner = self._runner
        if runner is None:
            runner = self._runner = GraphRunner(self.graph, default_target())
        for array, placeholder in zip(arrays, self.graph.arg_inputs):
            if not placeholder.shape.is_compatible_with(array.shape):
                raise ValueError(f"{self.name}: argument {placeholder.op.name} has shape {array.shape}, the "
                                 f"trace expects {placeholder.shape}")
        results = iter([eager_bridge.to_eager(a) for a in runner(arrays, variables)])
        structured = self.graph.structured_outputs
        flat = [next(results) if isinstance(v, Tensor) else v for v in nest.flatten(structured)]
        return nest.pack_sequence_as(structured, flat) if nest.is_sequence(structured) else flat[0]

    def fast_call(self, shapes: tuple):
        """The runner's fast call for positional eager arguments of these shapes (called once already); None
        where the host makes values before each call or cuts data-dependent outputs to size after it."""
        if self._runner.host_ops or self._runner.trims:
            return None
        sig = self._runner.signature([np.empty(s, d) for s, d in zip(shapes, self._dtypes)]
                                     + self._runner.captured_values)
        return fast_call(self._runner, sig, self.graph.structured_outputs, len(shapes))

    def __repr__(self) -> str:
        return f"<ConcreteFunction {self.name} inputs={self.inputs} outputs={self.outputs}>"


def _array(value, dtype: np.dtype) -> np.ndarray:
    """An argument's array for the executable: an eager tensor's own (never written), else converted."""
    array = eager_bridge.eager_array(value)
    if array.dtype != dtype:
        if eager_bridge.is_eager_tensor(value):
            raise TypeError(f"the tf.function's trace takes {dtype}, got a {array.dtype} tensor")
        array = np.asarray(array, dtype=dtype)
    return array
