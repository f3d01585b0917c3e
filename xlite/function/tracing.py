"""Tracing: running the Python function once on placeholders to record its graph.

Each tensor leaf of the bound arguments becomes a Placeholder of the FuncGraph (its dtype and its
shape, or the input_signature's shape with its None dims), each Variable leaf a VariableV2 that every
call binds to the Variable it passes; Variables and Python values are passed to the function as they
are (Python values are constants of the trace). What the function returns is flattened: graph tensors become the trace's
outputs, Variables a read of their value, eager values captured, Python numbers and arrays constant
tensors (as TF converts them), None stays None, and anything else is TF's TypeError.
"""
from __future__ import annotations

from xlite.frontend import nest
from xlite.frontend.graph import Operation, Tensor, get_default_graph
from xlite.frontend.tensor_shape import TensorShape
from xlite.function import eager_bridge
from xlite.function.func_graph import FuncGraph
from xlite.function.lift import lift_variables
from xlite.function.signature import TENSOR, VARIABLE, leaf_kind, unbind


def trace(python_function, name: str, parameters, values: tuple, shapes: list | None = None,
          allow_variables: bool = True) -> FuncGraph:
    """The FuncGraph of `python_function` called with the bound `values`; `shapes` (one per tensor
    leaf) replaces the leaves' own static shapes (an input_signature, relaxed shapes)."""
    outer = None if eager_bridge.executing_eagerly() else get_default_graph()
    graph = FuncGraph(name, outer)
    graph.seed = get_default_graph().seed      # random ops seed from the calling context's graph seed
    flat = nest.flatten(list(values))
    names = _leaf_names(parameters, values)
    traced = []
    shape_iter = iter(shapes) if shapes is not None else None
    with graph.as_default():
        for value, leaf_name in zip(flat, names):
            kind = leaf_kind(value)
            if kind == TENSOR:
                shape = next(shape_iter) if shape_iter is not None else TensorShape(value.shape)
                traced.append(graph.add_argument(leaf_name, value.dtype, shape))
            elif kind == VARIABLE:
                graph.add_variable_argument(value)
                traced.append(value)
            else:
                traced.append(value)
        args, kwargs = unbind(parameters, nest.pack_sequence_as(list(values), traced))
        result = python_function(*args, **kwargs)
        _set_outputs(graph, result)
    created = _created_variables(graph)
    if created:
        if not allow_variables:
            raise ValueError("tf.function only supports singleton tf.Variables created on the first call. "
                             "Make sure the tf.Variable is only created once or created outside "
                             "tf.function. See https://www.tensorflow.org/guide/function#creating_tfvariables "
                             "for more information.")
        lift_variables(graph, created)
        graph.created_variables = len(created)
    _add_control_outputs(graph)
    return graph


def _add_control_outputs(graph: FuncGraph) -> None:
    """TF2's automatic control dependencies, as far as a call can see them: every assignment the trace
    makes runs before the call's outputs are read (in program order, which lowering keeps), also when
    the call is inlined into a graph that fetches only its outputs."""
    stateful = graph.stateful_ops()
    if not stateful:
        return
    from xlite.frontend.math_ops import identity
    from xlite.frontend.variables import no_op
    with graph.as_default(), graph.control_dependencies(stateful):
        graph.control_output = no_op(name="control_output")
        wrapped = {id(t): identity(t) for t in graph.outputs}
    graph.outputs = [wrapped[id(t)] for t in graph.outputs]
    flat = [wrapped.get(id(v), v) if isinstance(v, Tensor) else v for v in nest.flatten(graph.structured_outputs)]
    graph.structured_outputs = nest.pack_sequence_as(graph.structured_outputs, flat) \
        if nest.is_sequence(graph.structured_outputs) else flat[0]


def _set_outputs(graph: FuncGraph, result) -> None:
    """Records the function's return value: flat output tensors and the structure they go back into."""
    flat = nest.flatten(result)
    structured, outputs = [], []
    for value in flat:
        if isinstance(value, Operation):
            value = None                      # an op returns nothing; it runs as a stateful op
        elif leaf_kind(value) == VARIABLE:
            from xlite.frontend.math_ops import identity
            value = identity(value)           # the Variable's value when the call returns
        elif isinstance(value, Tensor) and value.graph is not graph:
            value = graph.capture(value)
        elif value is not None and not isinstance(value, Tensor):
            value = _constant_output(value)
        if isinstance(value, Tensor):
            outputs.append(value)
        structured.append(value)
    graph.outputs = outputs
    graph.structured_outputs = nest.pack_sequence_as(result, structured) if nest.is_sequence(result) \
        else structured[0]


def _constant_output(value) -> Tensor:
    """A Python value the function returns, as TF returns it: a constant tensor (in the trace graph)."""
    from xlite.frontend.convert import convert_to_tensor
    try:
        return convert_to_tensor(value)
    except (TypeError, ValueError):
        raise TypeError(f"To be compatible with tf.function, Python functions must return zero or more "
                        f"Tensors or ExtensionTypes or None values; in compilation of the function, found "
                        f"return value of type {type(value).__name__}, which is not a Tensor or "
                        "ExtensionType.") from None


def _created_variables(graph: FuncGraph) -> list:
    """The graph Variables the trace made (every Variable lands in one of these collections)."""
    seen, found = set(), []
    for key in ("variables", "local_variables"):
        for v in graph.get_collection(key):
            if id(v) not in seen and getattr(v, "graph", None) is graph:
                seen.add(id(v))
                found.append(v)
    return found


def _leaf_names(parameters, values: tuple) -> list[str]:
    """A placeholder name per leaf: the parameter's name, with the leaf's place for nested ones."""
    names = []
    params = list(parameters.parameters) if parameters is not None else []
    for i, value in enumerate(values):
        base = params[i] if i < len(params) else f"args_{i}"
        leaves = nest.flatten(value)
        names += [base] if len(leaves) == 1 else [f"{base}_{j}" for j in range(len(leaves))]
    return names
