"""One run signature of a graph (fetches, feeds and their concrete shapes) lowered to an IR Module.

Parameters are the feeds, the Variables the run reads and the run counter of
its random ops; the root is a tuple of the fetched values followed by the new
value of every Variable the run assigns, each aliased to its Variable's own
parameter so backends update it in place.
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


@dataclass
class LoweredRun:
    module: Module
    params: list = field(default_factory=list)     # ("feed", Tensor) | ("variable", Operation) | ("rng_counter", None)
    results: list = field(default_factory=list)    # ("fetch", Tensor) | ("update", Operation)


def needed_ops(fetch_tensors, target_ops, fed: set) -> list[Operation]:
    """The ops a run must execute, in creation order (always a valid order in a TF graph)."""
    seen: dict[int, Operation] = {}
    stack: list = [t for t in fetch_tensors if t not in fed] + list(target_ops)
    while stack:
        item = stack.pop()
        op = item if isinstance(item, Operation) else item.op
        if op._id in seen:
            continue
        seen[op._id] = op
        inputs = op.inputs[1:] if has_ref_input(op.type) else op.inputs
        stack.extend(t for t in inputs if t not in fed)
        stack.extend(op.control_inputs)
        stack.extend(op.attrs.get("_captures", ()))
    return [seen[k] for k in sorted(seen)]


class RunContext(LoweringContext):
    """Lowering state of one run: the values of tensors so far, Variable reads and assignments."""

    def __init__(self, builder: Builder, lowered: LoweredRun):
        super().__init__(builder)
        self.lowered = lowered
        self.values: dict[Tensor, Instruction] = {}
        self.variable_params: dict[Operation, Instruction] = {}
        self.variable_values: dict[Operation, Instruction] = {}
        self.assigned: list[Operation] = []
        self._rng_counter: Instruction | None = None

    def placeholder(self, op: Operation) -> Instruction:
        raise errors.InvalidArgumentError(
            op.node_def, op,
            f"You must feed a value for placeholder tensor '{op.name}' with dtype {op.outputs[0].dtype.name}"
            + (f" and shape {op.outputs[0].shape.as_list()}" if op.outputs[0].shape.ndims is not None else ""))

    def read_variable(self, var_op: Operation) -> Instruction:
        if var_op in self.variable_values:
            return self.variable_values[var_op]
        t = var_op.outputs[0]
        param = self.b.parameter(Shape(t.dtype, tuple(t.shape.as_list())), name=var_op.name.replace("/", "."))
        self.lowered.params.append(("variable", var_op))
        self.variable_params[var_op] = param
        self.variable_values[var_op] = param
        return param

    def assign_variable(self, var_op: Operation, value: Instruction) -> Instruction:
        self.variable_values[var_op] = value
        if var_op not in self.assigned:
            self.assigned.append(var_op)
        return value

    def rng_counter(self) -> Instruction:
        if self._rng_counter is None:
            self._rng_counter = self.b.parameter(Shape(dtypes.int64, ()), name="rng_counter")
            self.lowered.params.append(("rng_counter", None))
        return self._rng_counter

    def lower_op(self, op: Operation) -> None:
        self.b.metadata = op.metadata
        operands = [self.values[t] for t in op.inputs[1:]] if has_ref_input(op.type) else \
            [self.values[t] for t in op.inputs]
        if has_ref_input(op.type):
            operands.insert(0, None)
        try:
            result = lowering_rule(op.type)(self, op, *operands)
        except (ShapeError, ValueError) as e:
            raise errors.InvalidArgumentError(op.node_def, op, f"{e}") from None
        results = result if isinstance(result, (list, tuple)) else [result]
        for t, inst in zip(op.outputs, results):
            self.values.setdefault(t, inst)


def lower_run(graph, fetch_tensors: list[Tensor], target_ops: list[Operation],
              feed_shapes: dict[Tensor, tuple], name: str = "run") -> LoweredRun:
    lowered = LoweredRun(Module(name))
    entry = Computation("main")
    b = Builder(entry)
    ctx = RunContext(b, lowered)
    for t, dims in feed_shapes.items():
        b.metadata = t.op.metadata
        ctx.values[t] = b.parameter(Shape(t.dtype, tuple(dims)), name=t.op.name.replace("/", ".") + f".{t.value_index}")
        lowered.params.append(("feed", t))
    for op in needed_ops(fetch_tensors, target_ops, set(feed_shapes)):
        ctx.lower_op(op)
    outputs = []
    for t in fetch_tensors:
        outputs.append(ctx.values[t])
        lowered.results.append(("fetch", t))
    aliases = {}
    for var_op in ctx.assigned:
        value = ctx.variable_values[var_op]
        if var_op in ctx.variable_params:
            aliases[len(outputs)] = ctx.variable_params[var_op].attrs["number"]
        outputs.append(value)
        lowered.results.append(("update", var_op))
    b.metadata = b.metadata.__class__()
    entry.root = b.tuple(outputs)
    lowered.module.entry = entry
    lowered.module.add_computation(entry)
    lowered.module.properties["output_aliases"] = aliases
    return lowered


def static_value_or_none(t: Tensor):
    return None if t._static_value is None else np.array(t._static_value)
