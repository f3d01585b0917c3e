"""tf.py_function: a Python function of eager tensors inside a graph, differentiable (TF's EagerPyFunc).

In a graph it is a host call (xlite/frontend/host_ops.py) whose function runs `func` eagerly on EagerTensors
made from the compiled run's arrays: its ops run compiled op by op, as any eager op does. Its gradient is
another EagerPyFunc that reruns `func` under a GradientTape and asks the tape for the vector-Jacobian
product, as TF's _EagerPyFuncGrad does. While executing eagerly `func` is simply called.
"""
from __future__ import annotations

import contextlib
from typing import Callable

import numpy as np

from xlite.eager.context import eager_mode
from xlite.eager.tape import GradientTape
from xlite.eager.tensor import EagerTensor
from xlite.frontend import graph as graph_module
from xlite.frontend import host_ops
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.gradients import grad_rule
from xlite.frontend.op_registry import lowering
from xlite.ir import dtypes

__all__ = ["py_function"]

OP_TYPE = "EagerPyFunc"
lowering(OP_TYPE, stateful=True)(host_ops.lower_host_call)      # a host call like PyFunc's


def py_function(func: Callable, inp, Tout, name=None):  # noqa: N803 - TF's names
    """`func(*eager tensors)` -> tensors (or NumPy values) of the dtypes Tout, run eagerly at that point of the
    run; a list Tout gives a list."""
    single = not isinstance(Tout, (list, tuple))
    touts = [dtypes.as_dtype(t) for t in ([Tout] if single else Tout)]
    inputs = [convert_to_tensor(x) for x in (inp if isinstance(inp, (list, tuple)) else [inp])]
    if graph_module.executing_eagerly():
        values = _as_list(func(*inputs), touts)
        results = [convert_to_tensor(v, dtype=t) for v, t in zip(values, touts)]
        return results[0] if single else results
    outputs = _eager_py_func(func, inputs, touts, name or OP_TYPE)
    return outputs[0] if single else outputs


def _eager_py_func(func: Callable, inputs: list, touts: list, name: str) -> list:
    def make(slot):
        def on_arrays(*arrays):
            with _eagerly():
                values = _as_list(func(*[EagerTensor(a) for a in arrays]), touts)
                arrays = [np.asarray(v.numpy() if isinstance(v, EagerTensor) else v) for v in values]
                return arrays[0] if len(touts) == 1 else arrays       # (as a py_func's function returns them)
        return host_ops.py_func_results(on_arrays, touts, slot.name, lambda: slot.op.attrs["_host_key"])
    op = host_ops.host_call_op(OP_TYPE, make, inputs, {"Tout": tuple(touts), "_func": func}, name, len(touts),
                               output_shapes=[None] * len(touts))
    return list(op.outputs)


def _as_list(result, touts: list) -> list:
    if result is None and not touts:
        return []
    return list(result) if isinstance(result, (list, tuple)) and len(touts) != 1 else [result]


@contextlib.contextmanager
def _eagerly():
    """Eager execution in this thread for the block, whatever graph the run that calls back has entered."""
    stacks = graph_module._graph_stacks
    entered, stacks.graphs = stacks.graphs, []
    try:
        with eager_mode():
            yield
    finally:
        stacks.graphs = entered


@grad_rule(OP_TYPE)
def _eager_py_func_grad(op, *grads):
    """TF's rule: d(inputs) of func's float outputs, by a tape around a new call of func, as another EagerPyFunc."""
    func, xs = op.attrs["_func"], list(op.inputs)
    wanted = [k for k, x in enumerate(xs) if x.dtype.is_floating]
    present = [k for k, (g, y) in enumerate(zip(grads, op.outputs)) if g is not None and y.dtype.is_floating]
    if not wanted or not present:
        return [None] * len(xs)

    def vjp(*args):
        values, dys = list(args[:len(xs)]), list(args[len(xs):])
        watched = [values[k] for k in wanted]
        with GradientTape() as tape:
            for v in watched:
                tape.watch(v)
            ys = _as_list(func(*values), list(op.attrs["Tout"]))
        got = tape.gradient([ys[k] for k in present], watched, output_gradients=dys)
        got = [g if g is not None else np.zeros_like(w.numpy()) for g, w in zip(got, watched)]
        return got[0] if len(got) == 1 else got

    results = _eager_py_func(vjp, xs + [grads[k] for k in present], [xs[k].dtype for k in wanted],
                             f"{op.name}_grad")
    out = [None] * len(xs)
    for k, g in zip(wanted, results):
        out[k] = g
    return out
