"""A tf.function call executed eagerly, as one op a GradientTape records (TF's StatefulPartitionedCall).

The call's inputs are its tensor arguments and a read of every Variable it uses (its Variable arguments
and the eager Variables its trace captured), so a tape watches the call exactly as it would watch the
ops inside. Its gradient is another tf.function, traced once per pattern of present output gradients:
it inlines the forward trace and applies tf.gradients to it, so the backward pass is compiled too.
"""
from __future__ import annotations

from typing import Callable

from xlite.eager import recording
from xlite.frontend import nest
from xlite.frontend.bounded_ops import padded_like_buffer
from xlite.frontend.fill_ops import zeros_like
from xlite.frontend.gradients import gradients, grad_rule
from xlite.frontend.graph import Tensor
from xlite.function import eager_bridge

CALL_OP = "StatefulPartitionedCall"


def used_variables(concrete, variables: list) -> list:
    """The eager Variables a call uses: its Variable arguments, then those its trace captured."""
    captured = [v for v, _ in concrete.graph.captures if eager_bridge.is_eager_variable(v)]
    return list(variables) + [v for v in captured if not any(v is u for u in variables)]


def record_call(concrete, tensors: list, arrays: list, variables: list, run: Callable) -> object:
    """Runs `run()` (the eager call of `concrete` on `arrays`, made from `tensors`) and, when a tape
    records, offers it the call as one op."""
    if not recording.active:
        return run()
    used = used_variables(concrete, variables)
    reads = [v._read() for v in used]                 # before the call: the values it differentiates at
    args = [t if eager_bridge.is_eager_tensor(t) else eager_bridge.to_eager(a) for t, a in zip(tensors, arrays)]
    result = run()
    outputs = [t for t in nest.flatten(result) if eager_bridge.is_eager_tensor(t)]
    attrs = {"function": concrete, "variables": list(variables), "used": used, "n_args": len(args)}
    recording.record(recording.EagerOp(CALL_OP, concrete.name, args + reads, outputs, attrs))
    return result


@grad_rule(CALL_OP)
def _call_grad(op, *output_grads) -> list:
    present = tuple(g is not None and t.dtype.is_floating for g, t in zip(output_grads, op.outputs))
    backward = _backward_function(op.get_attr("function"), present, op.get_attr("variables"),
                                  op.get_attr("used"))
    n_args = op.get_attr("n_args")
    grads = backward(*op.inputs[:n_args], *[g for g, p in zip(output_grads, present) if p])
    return list(grads) + [None] * (len(op.inputs) - len(grads))


def _backward_function(concrete, present: tuple, variables: list, used: list):
    """The tf.function giving d(outputs)/d(arguments and used Variables), cached on the forward trace."""
    cache = concrete.__dict__.setdefault("_backward_functions", {})
    if present not in cache:
        from xlite.function.def_function import function
        n_args = len(concrete.graph.arg_inputs)

        def backward(*flat):
            args, dys = list(flat[:n_args]), list(flat[n_args:])
            outs = [t for t in nest.flatten(concrete.call_graph(args, variables)) if isinstance(t, Tensor)]
            ys = [y for y, p in zip(outs, present) if p]
            dys = [padded_like_buffer(y, dy) for y, dy in zip(ys, dys)]     # eager values cut to size
            xs = args + [v._variable for v in used]
            return [g if g is not None else zeros_like(x) for g, x in zip(gradients(ys, xs, grad_ys=dys), xs)]

        cache[present] = function(backward, autograph=False)
    return cache[present]


__all__ = ["CALL_OP", "record_call", "used_variables"]
