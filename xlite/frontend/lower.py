"""One run signature of a graph (fetches, feeds and their concrete shapes) lowered to an IR Module.

Parameters are the feeds, the Variables the run reads and the run counter of
its random ops; the root is a tuple of the fetched values followed by the new
value of every Variable the run assigns, each aliased to its Variable's own
parameter (when its shape is unchanged) so backends update it in place.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from xlite import errors
from xlite.frontend.graph import Operation, Tensor
from xlite.frontend.op_registry import LoweringContext, has_ref_input, lowering_rule
from xlite.ir import dtypes
from xlite.ir.builder import Builder
from xlite.ir.module import Computation, Instruction, Module
from xlite.ir.shape import Shape
from xlite.ir.shape_inference import ShapeError
from xlite.ir.symbolic import is_symbolic


@dataclass
class LoweredRun:
    module: Module
    params: list = field(default_factory=list)     # ("feed", Tensor) | ("variable", Operation) | ("rng_counter", None)
    results: list = field(default_factory=list)    # ("fetch", Tensor) | ("update", Operation) | ("effect", None)
    # | ("check", RunCheck): outputs the caller does not read (host calls, index checks: frontend/run_checks.py)
    # params may also hold ("size", (SymInt, DType)): a symbolic size as a scalar (a Mean's divisor)


def needed_ops(fetch_tensors, target_ops, fed: set) -> list[Operation]:
    """The ops a run must execute, in creation order (always a valid order in a TF graph)."""
    seen: dict[int, Operation] = {}
    stack: list = [t for t in fetch_tensors if t not in fed] + list(target_ops)
    while stack:
        item = stack.pop()
        op = item if isinstance(item, Operation) else item.op
        if op._id in seen:
            continue
        sub = getattr(op, "_subgraph", None)            # recorded by tf.cond / tf.while_loop
        if sub is not None and not (sub.args and all(a in fed for a in sub.args)):
            # (a loop body whose loop variables are all fed runs on its own: runtime/host_loops.py)
            raise ValueError(f"'{op.name}' was created inside {op._subgraph.name}; its values can only be "
                             "used outside through that op's outputs")
        seen[op._id] = op
        inputs = op.inputs[1:] if has_ref_input(op.type) else op.inputs
        stack.extend(t for t in inputs if t not in fed)
        # an op whose outputs are all fed does not run (TF prunes it), even as a control dependency
        stack.extend(c for c in op.control_inputs if not (c.outputs and all(t in fed for t in c.outputs)))
        stack.extend(op.attrs.get("_captures", ()))
    return [seen[k] for k in sorted(seen)]


_TF_PROTO_DTYPE = {"float32": "float", "float64": "double", "float16": "half"}


class _TensorValues(dict):
    """Tensor -> instruction. A Variable's own output is never stored (unless fed): each reader
    gets the value at its own point in the run, after every assignment lowered before it."""

    def __init__(self, ctx: "RunContext"):
        super().__init__()
        self._ctx = ctx

    def __missing__(self, t: Tensor) -> Instruction:
        if t.op.type == "VariableV2":
            return self._ctx.read_variable(t.op)
        raise KeyError(t)


class RunContext(LoweringContext):
    """Lowering state of one run: the values of tensors so far, Variable reads and assignments."""

    def __init__(self, builder: Builder, lowered: LoweredRun, variable_shapes: dict | None = None):
        super().__init__(builder)
        self.lowered = lowered
        self.values: dict[Tensor, Instruction] = _TensorValues(self)
        self.variable_shapes = variable_shapes or {}
        self.variable_params: dict[Operation, Instruction] = {}
        self.variable_values: dict[Operation, Instruction] = {}
        self.assigned: list[Operation] = []
        self._rng_counter: Instruction | None = None
        self._sizes: dict = {}
        self.symbolic_values: dict = {}
        self.host_effects: list[Instruction] = []     # host calls (prints, checks) the run makes (host_ops)
        self.run_checks: list = []      # (instruction, RunCheck): index checks the run makes (run_checks.py)
        builder.size_scalar = self.size_scalar

    def placeholder(self, op: Operation) -> Instruction:
        t = op.outputs[0]
        shape = "" if t.shape.ndims is None else \
            " and shape [" + ",".join("?" if d is None else str(d) for d in t.shape.dims) + "]"
        raise errors.InvalidArgumentError(
            op.node_def, op, f"You must feed a value for placeholder tensor '{op.name}' with dtype "
                             f"{_TF_PROTO_DTYPE.get(t.dtype.name, t.dtype.name)}{shape}")

    def read_variable(self, var_op: Operation) -> Instruction:
        if var_op in self.variable_values:
            return self.variable_values[var_op]
        t = var_op.outputs[0]
        dims = t.shape.as_list() if t.shape.is_fully_defined() else self.variable_shapes.get(var_op)
        if dims is None:   # a Variable of unknown static shape takes its shape from its Session value
            raise errors.FailedPreconditionError(
                var_op.node_def, var_op, f"Attempting to use uninitialized value {var_op.name}")
        param = self.b.parameter(Shape(t.dtype, tuple(dims)), name=var_op.name.replace("/", "."))
        self.lowered.params.append(("variable", var_op))
        self.variable_params[var_op] = param
        self.variable_values[var_op] = param
        return param

    def variable_shape(self, var_op: Operation):
        """The Variable's dims at this point of the run (for Variables of unknown static shape)."""
        if var_op in self.variable_values:
            return tuple(self.variable_values[var_op].shape.dims)
        return self.variable_shapes.get(var_op)

    def assign_variable(self, var_op: Operation, value: Instruction) -> Instruction:
        self.variable_values[var_op] = value
        if var_op not in self.assigned:
            self.assigned.append(var_op)
        return value

    def symbolic_shape(self, dims, dtype) -> Instruction:
        """tf.shape of symbolic sizes: each size a scalar parameter (size_scalar), joined at run time."""
        parts = [self.b.reshape(self.size_scalar(d, dtype), (1,)) if is_symbolic(d)
                 else self.b.constant(np.array([d], dtype.np)) for d in dims]
        inst = self.b.emit("concatenate", tuple(parts), dimension=0)
        self.symbolic_values[inst] = tuple(dims)
        return inst

    def size_scalar(self, value, dtype) -> Instruction:
        """A symbolic size used as a value (Builder.size_scalar): a scalar parameter the run plan fills."""
        key = (value, dtype)
        param = self._sizes.get(key)
        if param is None:
            param = self._sizes[key] = self.b.parameter(Shape(dtype, ()), name=f"size.{len(self._sizes)}")
            self.lowered.params.append(("size", key))
        return param

    def rng_counter(self) -> Instruction:
        if self._rng_counter is None:
            self._rng_counter = self.b.parameter(Shape(dtypes.int64, ()), name="rng_counter")
            self.lowered.params.append(("rng_counter", None))
        return self._rng_counter

    def lower_op(self, op: Operation) -> None:
        if op.type == "VariableV2":   # read where each reader is lowered (see _TensorValues)
            return
        self.b.metadata = op.metadata
        operands = [self.values[t] for t in op.inputs[1:]] if has_ref_input(op.type) else \
            [self.values[t] for t in op.inputs]
        if has_ref_input(op.type):
            operands.insert(0, None)
        try:
            result = lowering_rule(op.type)(self, op, *operands)
        except (ShapeError, ValueError) as e:
            raise errors.InvalidArgumentError(op.node_def, op, f"{e}") from None
        except errors.OpError as e:   # UnimplementedError from a rule: name the op and the user's line
            if e.op is not None:
                raise
            raise type(e)(e.node_def, op, e.message) from None
        results = result if isinstance(result, (list, tuple)) else [result]
        for t, inst in zip(op.outputs, results):
            self.values.setdefault(t, inst)


def lower_run(graph, fetch_tensors: list[Tensor], target_ops: list[Operation],
              feed_shapes: dict[Tensor, tuple], name: str = "run",
              variable_shapes: dict | None = None, feed_values: dict | None = None) -> LoweredRun:
    """`variable_shapes` gives the Session's current shape of each Variable whose static shape
    is not fully defined (made with `validate_shape=False`); `feed_values` feeds compiled in as constants
    (small integer feeds a shape is computed from), which are then no parameters."""
    lowered = LoweredRun(Module(name))
    entry = Computation("main")
    b = Builder(entry)
    ctx = RunContext(b, lowered, variable_shapes)
    for t, dims in feed_shapes.items():
        b.metadata = t.op.metadata
        ctx.values[t] = b.parameter(Shape(t.dtype, tuple(dims)), name=t.op.name.replace("/", ".") + f".{t.value_index}")
        lowered.params.append(("feed", t))
    for t, value in (feed_values or {}).items():
        b.metadata = t.op.metadata
        ctx.values[t] = b.constant(np.asarray(value, dtype=t.dtype.np))
    for op in needed_ops(fetch_tensors, target_ops, set(feed_shapes) | set(feed_values or ())):
        ctx.lower_op(op)
    outputs = []
    for t in fetch_tensors:
        outputs.append(ctx.values[t])
        lowered.results.append(("fetch", t))
    aliases = {}
    for var_op in ctx.assigned:
        value = ctx.variable_values[var_op]
        param = ctx.variable_params.get(var_op)
        if param is not None and value.shape == param.shape:    # (validate_shape=False may change it)
            aliases[len(outputs)] = param.attrs["number"]
        outputs.append(value)
        lowered.results.append(("update", var_op))
    for effect in ctx.host_effects:     # outputs nobody fetches, so that every host call lowered runs
        outputs.append(effect)
        lowered.results.append(("effect", None))
    checks = []
    for found, check in ctx.run_checks:     # read by the compile driver's executables after each call
        checks.append((len(outputs), check))
        outputs.append(found)
        lowered.results.append(("check", check))
    lowered.module.run_checks = checks
    b.metadata = b.metadata.__class__()
    entry.root = b.tuple(outputs)
    lowered.module.entry = entry
    lowered.module.add_computation(entry)
    lowered.module.output_aliases = aliases
    lowered.module.fetch_count = len(fetch_tensors)      # the outputs after them are updates
    return lowered


def static_value_or_none(t: Tensor):
    return None if t._static_value is None else np.array(t._static_value)
