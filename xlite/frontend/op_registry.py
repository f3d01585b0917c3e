"""Frontend op types and their lowering rules: one function per type turns an op into IR.

The same rule serves twice. At graph construction it runs on operands whose
shapes may hold unknown dims, which gives TF's static shapes and raises
shape errors at the user's line. At `Session.run` it runs on concrete shapes
and emits the instructions of the run's Module.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from xlite import errors
from xlite.frontend import deferred, execution_hook
from xlite.frontend import graph as _graph
from xlite.frontend.graph import Tensor, get_default_graph, user_source_location
from xlite.frontend.tensor_shape import TensorShape
from xlite.ir.builder import Builder
from xlite.ir.module import Instruction, Metadata
from xlite.ir.shape import Shape
from xlite.ir.shape_inference import ShapeError
from xlite.ir.symbolic import SymbolicUnsupported

_LOWERINGS: dict[str, Callable] = {}
_STATEFUL: set[str] = set()
_REF_INPUT: set[str] = set()   # ops whose first input names a Variable rather than reading it
_MAX_STATIC_VALUE = 4096   # constants up to this size are known at graph construction, like TF's
_INPUT_CHECKS: list[Callable] = []   # fn(op_type, inputs, attrs, rebuild) -> None, or an op to return instead


def input_check(fn: Callable) -> Callable:
    """Registers a check every new op's inputs pass: it raises for inputs the op cannot take, or returns the op
    to stand for it, made by `rebuild(other_inputs)` (a data-dependent shape's consumers: bounded_ops.py)."""
    _INPUT_CHECKS.append(fn)
    return fn


def rule_decorator(table: dict) -> Callable:
    """`@rule("A", "B")` for a table of rules keyed by op type: files the decorated function under each."""
    def rule(*op_types: str):
        def register(fn):
            for t in op_types:
                table[t] = fn
            return fn
        return register
    return rule


def lowering(*op_types: str, stateful: bool = False, ref_input: bool = False):
    """Registers fn(ctx, op, *operand_instructions) -> instruction or list of them.

    With `ref_input`, the op's first input is a Variable it names, not a value it reads: a run
    does not read the Variable for it, and the rule receives None in its place."""
    def register(fn):
        for t in op_types:
            _LOWERINGS[t] = fn
            if stateful:
                _STATEFUL.add(t)
            if ref_input:
                _REF_INPUT.add(t)
        return fn
    return register


def _known(op_type: str) -> bool:
    """Whether op_type has a rule, after loading the packages `import xlite` defers if it had none."""
    return op_type in _LOWERINGS or (deferred.load_all() and op_type in _LOWERINGS)


def lowering_rule(op_type: str) -> Callable:
    if not _known(op_type):
        raise errors.unimplemented(f"no lowering rule for op type {op_type!r}")
    return _LOWERINGS[op_type]


def is_stateful(op_type: str) -> bool:
    _known(op_type)
    return op_type in _STATEFUL


def has_ref_input(op_type: str) -> bool:
    _known(op_type)
    return op_type in _REF_INPUT


def registered_op_types() -> list[str]:
    deferred.load_all()
    return sorted(_LOWERINGS)


class LoweringContext:
    """What a lowering rule sees besides its operands: a builder and (for Session runs) the run state."""

    static = False

    def __init__(self, builder: Builder):
        self.b = builder

    def constant_value(self, inst: Instruction):
        """The value of a compile-time constant operand (a shape, an axis), or None when unknown; the
        shape of a tensor of symbolic sizes (xlite/ir/symbolic.py) is an object array of them."""
        symbolic = self.symbolic_values.get(inst)
        if symbolic is not None:
            return np.array(symbolic, dtype=object)
        from xlite.semantics.constant_eval import try_evaluate
        return try_evaluate(inst)

    symbolic_values: dict = {}      # (a run's own: RunContext) instruction -> the symbolic sizes it holds

    def symbolic_shape(self, dims, dtype) -> Instruction:
        """tf.shape of a tensor with symbolic sizes: a value made at run time, whose sizes rules that need
        a constant shape (Reshape) still read (constant_value)."""
        raise SymbolicUnsupported(f"the shape {list(dims)} of symbolic sizes as a value")

    def unknown(self, shape: Shape) -> Instruction:
        raise NotImplementedError("only static shape inference has unknown values")


class StaticContext(LoweringContext):
    """Shape inference at graph construction: unknown values are opaque parameters."""

    static = True

    def unknown(self, shape: Shape) -> Instruction:
        return self.b.emit("parameter", (), shape, number=-1)

    def placeholder(self, op) -> Instruction:
        shape = op.attrs["shape"]
        return self.unknown(Shape(op.attrs["dtype"], () if shape.ndims is None else tuple(shape.dims)))

    def read_variable(self, var_op) -> Instruction:
        shape = var_op.attrs["shape"]   # unknown rank for a Variable made with validate_shape=False
        return self.unknown(Shape(var_op.attrs["dtype"], () if shape.ndims is None else tuple(shape.dims)))

    def assign_variable(self, var_op, value: Instruction) -> Instruction:
        return value

    def rng_counter(self) -> Instruction:
        from xlite.ir import dtypes
        return self.unknown(Shape(dtypes.int64, ()))


def _static_operand(b: Builder, t: Tensor) -> Instruction:
    dims = t.shape.dims
    if t._static_value is not None:
        return b.constant(t._static_value)
    return b.emit("parameter", (), Shape(t.dtype, () if dims is None else tuple(dims)), number=-1)


def make_op(op_type: str, inputs, attrs=None, name: str | None = None,
            n_outputs: int | None = None, graph=None, control_inputs=(), output_shapes=None):
    """Creates an op in the default graph, inferring its outputs' dtypes and static shapes.

    `output_shapes` overrides the inferred static shapes (a placeholder of unknown rank).

    While executing eagerly (xlite/frontend/execution_hook.py) the op runs now instead, and what
    comes back is the executor's record of it, whose `outputs` are eager values."""
    executor = execution_hook.eager_executor
    if executor is not None:
        stack = _graph._graph_stacks.graphs
        if graph is None and (not stack or stack[-1] is _graph._global_default_graph):
            return executor(op_type, inputs, attrs, name, n_outputs, output_shapes)
        inputs = list(inputs)
        if not hasattr(graph or get_default_graph(), "capture") and any(t._is_eager for t in inputs):
            raise RuntimeError("Attempting to capture an EagerTensor without building a function.")
    attrs = dict(attrs or {})
    inputs = list(inputs)
    if graph is None:
        graph = get_default_graph()
        if inputs and inputs[0].graph is not graph and not hasattr(graph, "capture"):
            graph = inputs[0].graph
    for i, t in enumerate(inputs):
        if t.graph is not graph:
            capture = getattr(graph, "capture", None)   # a tf.function trace reads an outer graph's tensor
            if capture is None:
                raise ValueError(f"Tensor {t.name} must be from the same graph as the op being built.")
            inputs[i] = capture(t)
    for check in _INPUT_CHECKS:
        def rebuild(new_inputs):
            return make_op(op_type, new_inputs, attrs, name, n_outputs, graph, control_inputs, output_shapes)
        replacement = check(op_type, inputs, attrs, rebuild)
        if replacement is not None:
            return replacement
    if name is not None and name.endswith("/"):   # an absolute name chosen by a name scope
        scope_name = name[:-1]
    else:
        scope_name = graph.unique_name(name or op_type)
    file, line = user_source_location()
    metadata = Metadata(op_name=scope_name, op_type=op_type, source_file=file, source_line=line)
    unknown_rank = any(t.shape.ndims is None for t in inputs)
    b = Builder()
    b.metadata = metadata
    ctx = StaticContext(b)
    try:
        operands = [_static_operand(b, t) for t in inputs]
        result = lowering_rule(op_type)(ctx, _PendingOp(op_type, scope_name, inputs, attrs, graph), *operands)
    except (ShapeError, ValueError) as e:
        if unknown_rank:
            result = None
        else:
            raise ValueError(f"{e} (op '{scope_name}' of type {op_type}, created at {file}:{line})") from None
    except TypeError as e:
        raise TypeError(f"{e} (op '{scope_name}' of type {op_type}, created at {file}:{line})") from None
    except errors.OpError as e:   # UnimplementedError from a rule: name the op and the user's line
        if e.op is not None:
            raise
        raise type(e)(e.node_def, None, f"{e.message} (op '{scope_name}' of type {op_type}, created at "
                                        f"{file}:{line})") from None
    if result is None and unknown_rank:
        dtype = attrs.get("dtype", inputs[0].dtype)
        specs = [(dtype, TensorShape(None))] * (n_outputs or 1)
    else:
        results = result if isinstance(result, (list, tuple)) else [result]
        specs = []
        for r in results:
            shape = TensorShape(None) if unknown_rank else TensorShape(list(r.shape.dims))
            specs.append((r.dtype, shape))
    if output_shapes is not None:
        specs = [(dtype, TensorShape(shape)) for (dtype, _), shape in zip(specs, output_shapes)]
    op = graph.add_op(op_type, scope_name, inputs, attrs, specs, metadata, control_inputs)
    if result is not None and not unknown_rank and not is_stateful(op_type):
        for t, r in zip(op.outputs, results):
            if r.opcode == "constant" and r.literal.size <= _MAX_STATIC_VALUE:
                t._static_value = r.literal
    return op


class _PendingOp:
    """Stands in for the Operation while its static shapes are inferred, before it joins the graph."""

    def __init__(self, op_type, name, inputs, attrs, graph):
        self.type, self.name, self.inputs, self.attrs, self.graph = op_type, name, inputs, attrs, graph


def shape_error(op, error: Exception) -> errors.InvalidArgumentError:
    return errors.InvalidArgumentError(op, f"{error}")


def to_numpy_constant(value, dtype) -> np.ndarray:
    return np.asarray(value, dtype=dtype.np)
