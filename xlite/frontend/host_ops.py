"""Ops that call back into Python during a compiled run: tf.py_func / tf.numpy_function, tf.Print / tf.print,
tf.debugging.check_numerics / tf.add_check_numerics_ops and a run-time tf.Assert.

Each is a `host_call` instruction (xlite/semantics/host_calls.py) whose function is a closure made here:
cpu code calls it back between kernels, so the run stays one native call; cuda runs it as a host step
between launches; the interpreter calls it directly. The instructions of ops a run
lowers are also outputs of the run ("effect" results), so a print or check fetched only as a control
dependency still runs; inside a while body or cond branch one runs each time the body or branch does, in program order (its
result is carried out as an element of the loop's state or the conditional's result: control_flow_ops).
"""
from __future__ import annotations

import sys
import traceback
from typing import Callable

import numpy as np

from xlite import errors
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.gradients import grad_rule, no_gradient
from xlite.frontend.graph import Operation, Tensor, executing_eagerly, get_default_graph
from xlite.frontend.op_registry import is_stateful, lowering, make_op
from xlite.frontend.scopes import name_scope
from xlite.frontend.subgraph import owner
from xlite.ir import dtypes
from xlite.ir.shape import Shape
from xlite.ir.symbolic import SymbolicUnsupported, has_symbolic
from xlite.semantics import host_calls

# Host op types TF marks stateful: a tf.function runs them on every call though no output needs them.
STATEFUL_HOST_OPS = frozenset({"PyFunc", "Print", "PrintV2", "Assert"})
_DUMMY = dtypes.bool_      # the scalar an op without outputs (Assert, PrintV2, Tout=[]) computes


class _OpSlot:
    """The graph op a host function belongs to, known once make_op has made it (for errors naming it)."""
    op: Operation | None = None

    def name(self) -> str:
        return self.op.name if self.op is not None else "?"


def host_call_op(op_type: str, fn_of_slot: Callable, inputs: list, attrs: dict, name: str, n_outputs: int,
                 output_shapes=None) -> Operation:
    """An op whose values a Python function computes when it runs: `fn_of_slot(slot)` makes the function,
    the slot naming the op once it exists (its `_host_key` attr finds the function again)."""
    slot = _OpSlot()
    key = host_calls.register(fn_of_slot(slot), op_type)
    op = make_op(op_type, inputs, {**attrs, "_host_key": key}, name=name, n_outputs=n_outputs,
                 output_shapes=output_shapes)
    slot.op = op
    host_calls.rename(key, op.name)
    return op


@lowering("PyFunc", "PyFuncStateless", "Print", "PrintV2", "CheckNumerics", "Assert", stateful=True)
def lower_host_call(ctx, op, *xs):
    """One host_call per output (an op without outputs: one of a scalar); output k > 0 reads output 0 first."""
    b, key = ctx.b, op.attrs["_host_key"]
    if any(has_symbolic(x.shape.dims) for x in xs):     # the Session compiles for the run's sizes instead
        raise SymbolicUnsupported(f"{op.type} {op.name}: a Python host call takes arrays of concrete sizes")
    specs = _output_specs(ctx, op, xs)
    effects = getattr(ctx, "host_effects", None)
    if not specs and effects is None and getattr(ctx, "outer", None) is not None:   # a loop's condition
        raise errors.unimplemented(
            f"{op.type} {op.name} inside the condition of a tf.while_loop: a host call there runs only where its "
            f"outputs are used, and this op has none; make the check in the loop's body, or use tf.Print / "
            f"check_numerics on the value the condition returns")
    previous = getattr(ctx, "last_host_call", None)     # the context's host calls run in program order
    first = None
    results = []
    for k, shape in enumerate(specs or [Shape(_DUMMY, ())]):
        after = (first,) if first is not None else (previous,) if previous is not None else ()
        inst = b.emit("host_call", tuple(xs) + after, shape, key=key, output=k, args=len(xs))
        first = first or inst
        results.append(inst)
    ctx.last_host_call = first
    sub = getattr(ctx, "subgraph", None)    # (a gradient's branch re-lowers forward ops: they ran already)
    if effects is not None and not ctx.static and (sub is None or owner(op) is sub):
        effects.append(_one_element(b, first))
    return results if specs else []


def keep_effect(ctx, value) -> None:
    """Makes `value`, an element of a loop's or conditional's result that carries the host calls of its
    body or branches, one of `ctx`'s effects (so they run, in order with `ctx`'s own host calls)."""
    effects = getattr(ctx, "host_effects", None)
    if effects is not None and not ctx.static:
        effects.append(_one_element(ctx.b, value))
        ctx.last_host_call = value


def _one_element(b, x):
    """At most one element of x: what the run hands back to keep the call (not a copy of a whole tensor)."""
    if x.shape.num_elements <= 1:
        return x
    rank = x.shape.rank
    return b.emit("slice", (x,), start_indices=(0,) * rank, limit_indices=(1,) * rank, strides=(1,) * rank)


def _output_specs(ctx, op, xs) -> list:
    """Each output's IR shape for this run: its static shape, or where unknown the input's at the same
    position (then the first input's), which the function's result must then match."""
    if op.type in ("Print", "CheckNumerics"):
        return [xs[0].shape]
    if op.type in ("Assert", "PrintV2"):
        return []
    specs = []
    for k, dtype in enumerate(op.attrs["Tout"]):
        if ctx.static:
            specs.append(Shape(dtype, ()))
            continue
        static = op.outputs[k].shape
        if static.is_fully_defined():
            specs.append(Shape(dtype, tuple(static.as_list())))
            continue
        guess = [x for x in (xs[k:k + 1] + xs[:1]) if static.ndims is None or x.shape.rank == static.ndims]
        if not guess:
            raise errors.InvalidArgumentError(
                None, op, f"{op.name}: the shape of output {k} is {static}, and no input of that rank gives it; "
                          f"call set_shape on the op's output")
        dims = guess[0].shape.dims
        if static.ndims is not None:
            dims = tuple(d if s is None else s for d, s in zip(dims, static.as_list()))
        specs.append(Shape(dtype, tuple(dims)))
    return specs


# tf.py_func / tf.numpy_function --------------------------------------------------------------------------
def py_func(func: Callable, inp, Tout, stateful: bool = True, name=None):  # noqa: N803 - TF's names
    """TF1's py_func: `func(*numpy arrays)` runs in the compiled run through a host callback."""
    single = not isinstance(Tout, (list, tuple))
    touts = [dtypes.as_dtype(t) for t in ([Tout] if single else Tout)]
    inputs = [convert_to_tensor(x) for x in (inp if isinstance(inp, (list, tuple)) else [inp])]
    if executing_eagerly():
        values = py_func_results(func, touts, lambda: "EagerPyFunc")(*[np.asarray(x) for x in inputs])
        results = [convert_to_tensor(v) for v in values]
        return results[0] if single else results
    op = host_call_op("PyFunc" if stateful else "PyFuncStateless",
                      lambda slot: py_func_results(func, touts, slot.name, lambda: slot.op.attrs["_host_key"]),
                      inputs, {"Tout": tuple(touts), "stateful": bool(stateful)}, name or "PyFunc", len(touts),
                      output_shapes=[None] * len(touts))
    return op.outputs[0] if single else list(op.outputs)


def numpy_function(func: Callable, inp, Tout, stateful: bool = True, name=None):  # noqa: N803 - TF's names
    """TF2's name for py_func (NumPy arrays in and out)."""
    return py_func(func, inp, Tout, stateful=stateful, name=name or "PyFunc")


# The error class of a Python exception in a py_func, as TF's kernel maps it (py_func.cc).
_EXCEPTION_CODES = [((ValueError, TypeError), errors.InvalidArgumentError), (StopIteration, errors.OutOfRangeError),
                    (MemoryError, errors.ResourceExhaustedError), (NotImplementedError, errors.UnimplementedError),
                    (IndexError, errors.OutOfRangeError)]
_C_NAMES = {"float32": "float", "float64": "double", "float16": "half", "bool": "bool"}   # TF's DataTypeString


def py_func_results(func: Callable, touts: list, name: Callable, key: Callable = lambda: 0) -> Callable:
    """The host function of a py_func-like op: func's results checked against and cast to `touts`."""
    def call(*args):
        try:
            result = func(*args)
        except errors.OpError:
            raise
        except Exception as e:      # noqa: BLE001 - the user's exception, as TF's py_func kernel reports it
            error = next((c for types, c in _EXCEPTION_CODES if isinstance(e, types)), errors.UnknownError)
            raise error(None, None, f"{type(e).__name__}: {e}\nTraceback (most recent call last):\n"
                                    f"{''.join(traceback.format_tb(e.__traceback__))}"
                                    f"\n\t [[{{{{node {name()}}}}}]]") from e
        values = [] if result is None and not touts else \
            list(result) if isinstance(result, (list, tuple)) and len(touts) != 1 else [result]
        if len(values) != len(touts):
            raise errors.InvalidArgumentError(None, None, f"{name()}: the function returned {len(values)} values, "
                                                          f"but Tout lists {len(touts)}")
        out = []
        for k, (v, t) in enumerate(zip(values, touts)):
            if isinstance(v, (np.ndarray, np.generic)) and v.dtype != t.np:
                raise errors.InvalidArgumentError(
                    None, None, f"{k}-th value returned by pyfunc_{key()} is {_C_NAMES.get(v.dtype.name, v.dtype.name)}, "
                                f"but expects {_C_NAMES.get(t.np.name, t.np.name)}\n\t [[{{{{node {name()}}}}}]]")
            out.append(np.asarray(v, dtype=t.np))
        return out or [np.zeros((), _DUMMY.np)]
    return call


# tf.Print / tf.print --------------------------------------------------------------------------------------
def print_v1(input_, data, message=None, first_n=None, summarize=None, name=None) -> Tensor:
    """TF1's Print in a graph: an identity of `input_` that writes `message[data]...` to stderr each run."""
    from xlite.frontend.case_ops import print_line
    input_ = convert_to_tensor(input_)
    data = [convert_to_tensor(d) for d in (data or [])]
    limit = 3 if summarize is None else summarize
    remaining = [-1 if first_n is None else first_n]    # prints left in this Session (-1: every run)
    if first_n is not None and first_n >= 0:
        input_.graph.session_resets.append(lambda: remaining.__setitem__(0, first_n))

    def make(slot):
        def call(x, *values):
            if remaining[0] != 0:
                remaining[0] -= remaining[0] > 0
                print_line(message, values, limit)
            return [x]
        return call
    return host_call_op("Print", make, [input_] + data, {"message": message or "", "first_n": first_n,
                                                          "summarize": limit}, name or "Print", 1).outputs[0]


def print_v2(*inputs, output_stream=None, summarize=3, sep=" ", end="\n", name=None):
    """TF2's tf.print: prints now while executing eagerly; in a graph, an op that prints each time it runs."""
    template, tensors = _template(inputs)
    write = _stream(output_stream)

    def text(values) -> str:
        it = iter(values)
        return sep.join(t if t is not None else format_tensor(next(it), summarize) for t in template) + end

    if executing_eagerly():
        write(text([np.asarray(t) for t in tensors]))
        return None

    def make(slot):
        def call(*values):
            write(text(values))
            return [np.zeros((), _DUMMY.np)]
        return call
    return host_call_op("PrintV2", make, tensors,
                        {"summarize": summarize, "_template": tuple(template),
                         "_output_stream": _stream_name(output_stream), "_sep": sep, "_end": end}, name or "PrintV2", 0)


def _stream_name(output_stream) -> str | None:
    """The output stream as a graph written to a file keeps it: "stdout", a file:// path, else None (stderr;
    a logging function cannot be written)."""
    if output_stream is sys.stdout or output_stream is sys.__stdout__:
        return "stdout"
    return output_stream if isinstance(output_stream, str) else None


def _template(items) -> tuple[list, list]:
    """Python strings stay on the host (the template, None where a value goes); the rest become tensors."""
    template, tensors = [], []
    for item in items:
        if isinstance(item, str):
            template.append(item)
        else:
            template.append(None)
            tensors.append(convert_to_tensor(item))
    return template, tensors


def _stream(output_stream) -> Callable[[str], None]:
    """Where tf.print writes: stderr (default) or stdout as they are at the time of the run, a file://
    path (appended), or a logging function (called with the text without its final newline)."""
    if output_stream is None or output_stream is sys.stderr or output_stream is sys.__stderr__:
        return lambda s: (sys.stderr.write(s), sys.stderr.flush())
    if output_stream is sys.stdout or output_stream is sys.__stdout__:
        return lambda s: (sys.stdout.write(s), sys.stdout.flush())
    if isinstance(output_stream, str) and output_stream.startswith("file://"):
        path = output_stream[len("file://"):]

        def append(s):
            with open(path, "a") as f:
                f.write(s)
        return append
    if callable(output_stream):
        return lambda s: output_stream(s[:-1] if s.endswith("\n") else s)
    raise ValueError(f"Unsupported output stream, logging level, or file.{output_stream!r}. Supported streams "
                     f"are sys.stdout, sys.stderr, tf.logging.info, tf.logging.warning, tf.logging.error. "
                     f"File needs to be in the form of 'file://<filepath>'.")


def format_tensor(value: np.ndarray, summarize: int) -> str:
    """tf.print's NumPy-like text: nested brackets, elements separated by spaces, rows by newlines, and only
    the first and last `summarize` entries of each dimension (all for a negative `summarize`)."""
    from xlite.frontend.case_ops import format_element
    value = np.asarray(value)
    if value.ndim == 0:
        return format_element(value[()])

    def fmt(a: np.ndarray, depth: int) -> str:
        n = a.shape[0]
        cut = 0 <= summarize and 2 * summarize < n
        rows = list(range(summarize)) + [None] + list(range(n - summarize, n)) if cut else list(range(n))
        if a.ndim == 1:
            return "[" + " ".join("..." if i is None else format_element(a[i]) for i in rows) + "]"
        joiner = "\n" * (a.ndim - 1) + " " * (depth + 1)
        return "[" + joiner.join("..." if i is None else fmt(a[i], depth + 1) for i in rows) + "]"
    return fmt(value, 0)


# check_numerics ------------------------------------------------------------------------------------------
def check_numerics(tensor, message, name=None) -> Tensor:
    """An identity that raises InvalidArgumentError (`message : Tensor had NaN values`) in the run where
    `tensor` holds a NaN or an Inf."""
    tensor = convert_to_tensor(tensor)
    if not tensor.dtype.is_floating:
        raise TypeError(f"Value passed to parameter 'tensor' has DataType {tensor.dtype.name} not in list of "
                        f"allowed values: bfloat16, float16, float32, float64")

    def make(slot):
        def call(x):
            nan, inf = bool(np.isnan(x).any()), bool(np.isinf(x).any())
            if nan or inf:
                what = "Inf and NaN" if nan and inf else "NaN" if nan else "Inf"
                raise errors.InvalidArgumentError(None, slot.op, f"{message} : Tensor had {what} values\n\t "
                                                                 f"[[{{{{node {slot.name()}}}}}]]")
            return [x]
        return call
    if executing_eagerly():
        return convert_to_tensor(make(_OpSlot())(np.asarray(tensor))[0])
    return host_call_op("CheckNumerics", make, [tensor], {"message": message}, name or "CheckNumerics", 1).outputs[0]


def add_check_numerics_ops() -> Operation:
    """A group of check_numerics over every floating output of the default graph's ops (TF's order and
    messages: `op_name:index`). Outputs of stateful ops (assignments, random draws) are left out, so
    running the group never runs an update."""
    from xlite.frontend.subgraph import owner
    from xlite.frontend.variables import group
    graph = get_default_graph()
    checks = []
    for op in list(graph.get_operations()):
        if owner(op) is not None:
            raise ValueError("`tf.add_check_numerics_ops() is not compatible with TensorFlow control flow "
                             "operations such as `tf.cond()` or `tf.while_loop()`.")
        if is_stateful(op.type) or op.type in ("CheckNumerics", "VariableV2"):
            continue
        for t in op.outputs:
            if t.dtype.is_floating:
                checks.append(check_numerics(t, f"{op.name}:{t.value_index}"))
    return group(*checks)


# tf.Assert -----------------------------------------------------------------------------------------------
def Assert(condition, data, summarize=None, name=None):  # noqa: N802 - TF's name
    """Raises InvalidArgumentError (`assertion failed: [data] [data]...`) in the run where `condition` is
    false; a condition known to be false when the graph is built raises then, as in TF."""
    from xlite.frontend.case_ops import summarize_value
    with name_scope(name, "Assert", [condition]) as scope:
        condition = convert_to_tensor(condition)
        if condition.dtype != dtypes.bool_ or condition.shape.ndims not in (None, 0):
            raise ValueError(f"Assert: condition must be a scalar bool, got {condition}")
        template, tensors = _template(data)
        limit = 3 if summarize is None else summarize

        def failure(values) -> str:
            it = iter(values)
            parts = [t if t is not None else summarize_value(np.asarray(next(it)), limit) for t in template]
            return "assertion failed: " + " ".join(f"[{p}]" for p in parts)

        def make(slot):
            def call(cond, *values):
                if not bool(cond):
                    raise errors.InvalidArgumentError(None, slot.op, f"{failure(values)}\n\t "
                                                                     f"[[{{{{node {slot.name()}}}}}]]")
                return [np.zeros((), _DUMMY.np)]
            return call
        static = condition._static_value
        if executing_eagerly() or static is not None:
            if static is not None and not bool(static) or executing_eagerly() and not bool(np.asarray(condition)):
                values = [np.asarray(t) if t._static_value is None else t._static_value for t in tensors]
                raise errors.InvalidArgumentError(None, None, failure(values))
            if executing_eagerly():
                return None
        return host_call_op("Assert", make, [condition] + tensors,
                            {"summarize": limit, "_template": tuple(template)}, scope, 0)


no_gradient("PyFunc", "PyFuncStateless", "PrintV2", "Assert")


@grad_rule("Print")
def _print_grad(op, g):
    return [g] + [None] * (len(op.inputs) - 1)


@grad_rule("CheckNumerics")
def _check_numerics_grad(op, g):
    return [check_numerics(g, "Not a number (NaN) or infinity (Inf) values detected in gradient. "
                              f"{op.attrs['message']}")]


__all__ = ["STATEFUL_HOST_OPS", "py_func", "numpy_function", "print_v1", "print_v2", "format_tensor", "check_numerics",
           "add_check_numerics_ops", "Assert", "host_call_op", "lower_host_call", "py_func_results"]
