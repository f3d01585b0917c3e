"""Sub-graphs: the ops a tf.cond branch or a tf.while_loop body records, and their lowering.

Recording. While a branch function runs, every op the graph gains belongs to
that branch, except ops an inner branch already claimed, Placeholders and the
ops that create a Variable (hoisted: they stay in the outer graph, as TF lifts
variable creation out of control flow). Finishing the recording finds the tensors the
branch reads from outside (its captures) and marks its ops with `op._subgraph`,
so they are reachable only through the control-flow op that owns them. A
gradient branch may *adopt* ops of the forward branch it differentiates: they
are lowered again inside it (rematerialization), so forward branches never
export their intermediates.

Lowering. `SubgraphContext` is a RunContext for one sub-computation. Its one
parameter is a tuple: leading elements the caller fixes (loop state), then outer
values appended on demand (captured tensors, Variables read at the control-flow
op's point in the run, the random-number counter). A captured compile-time
constant is copied in as a constant, so rules that need constant operands
(axes, shapes) still see them.
"""
from __future__ import annotations

import contextlib
import weakref
from dataclasses import dataclass, field

import numpy as np

from xlite import errors
from xlite.frontend.graph import Graph, Operation, Tensor
from xlite.frontend.lower import RunContext
from xlite.frontend.op_registry import has_ref_input
from xlite.ir import dtypes
from xlite.ir.builder import Builder
from xlite.ir.module import Computation, Instruction
from xlite.ir.shape import Shape, TupleShape

_MAX_INLINED_CONSTANT = 4096   # captured constants up to this many elements are copied into branches
_ASSIGNING_OK = ("ReadVariableOp",)   # ref-input ops that only read, so a gradient may recompute them


@dataclass(eq=False)
class SubGraph:
    """A branch or loop body: its ops in creation order, what it reads from outside, what it returns."""
    name: str
    ops: list = field(default_factory=list)
    outputs: list = field(default_factory=list)        # flat Tensors
    captures: list = field(default_factory=list)       # outer Tensors, in order of first use
    args: list = field(default_factory=list)           # tensors the caller binds (loop variables)
    control_inputs: list = field(default_factory=list)  # outer ops the recorded ops depend on
    sources: set = field(default_factory=set)          # sub-graphs whose ops it adopted, transitively

    def assigns_variables(self) -> bool:
        return any(assigns_variables(op) for op in self.ops)

    def __repr__(self) -> str:
        return f"<SubGraph {self.name}: {len(self.ops)} ops, {len(self.captures)} captures>"


def assigns_variables(op: Operation) -> bool:
    """Whether running `op` assigns a Variable, directly or inside the sub-graphs it calls."""
    if has_ref_input(op.type) and op.type not in _ASSIGNING_OK:
        return True
    for value in op.attrs.values():
        for item in (value if isinstance(value, (tuple, list)) else (value,)):
            if isinstance(item, SubGraph) and item.assigns_variables() or \
                    isinstance(item, Operation) and assigns_variables(item):
                return True
    return False


def owner(op: Operation) -> SubGraph | None:
    """The sub-graph whose recording created `op`, or None for an op of the outer graph."""
    return getattr(op, "_subgraph", None)


# recording --------------------------------------------------------------------------
class _Frame:
    def __init__(self, graph: Graph, adopt):
        self.graph = graph
        self.adopt = set(adopt)
        for sub in adopt:   # a gradient of a gradient recomputes what the first one adopted
            self.adopt |= sub.sources
        self.start = len(graph.get_operations())
        self.created: list[Operation] = []


_frames: "weakref.WeakKeyDictionary[Graph, list[_Frame]]" = weakref.WeakKeyDictionary()


@contextlib.contextmanager
def recording(graph: Graph, name: str, adopt=()):
    """Collects the ops created inside the `with`; `adopt` names sub-graphs whose ops may be recomputed."""
    frame = _Frame(graph, adopt)
    stack = _frames.setdefault(graph, [])
    stack.append(frame)
    try:
        yield frame
    except BaseException:
        stack.pop()
        dead = SubGraph(name + " (failed)")
        for op in graph.get_operations()[frame.start:]:
            if owner(op) is None:
                op._subgraph = dead
        raise
    stack.pop()
    frame.created = graph.get_operations()[frame.start:]


def current_frame(graph: Graph) -> _Frame | None:
    """The innermost branch or loop body recording ops of `graph` now, or None (its outer graph)."""
    stack = _frames.get(graph)
    return stack[-1] if stack else None


def finish(frame: _Frame, name: str, outputs: list, args: list = ()) -> SubGraph:
    """The recorded sub-graph: its own and adopted ops, captures and outer control inputs."""
    sub = SubGraph(name, outputs=list(outputs), args=list(args))
    hoisted = _variable_creation(frame.created, name)
    own = [op for op in frame.created
           if owner(op) is None and op.type != "Placeholder" and id(op) not in hoisted]
    members = {id(op) for op in own}
    enclosing = _frames.get(frame.graph, [])
    captured: set[int] = set()
    todo = list(own)

    def use(t: Tensor, user: str) -> None:
        op = t.op
        if id(op) in members:
            return
        source = owner(op)
        if source is not None and source in frame.adopt:
            if assigns_variables(op):
                raise errors.unimplemented(
                    f"{name} would recompute '{op.name}' ({op.type}): xlite does not differentiate "
                    "control flow whose branches or bodies assign Variables")
            members.add(id(op))
            sub.ops.append(op)
            sub.sources.add(source)
            todo.append(op)
        elif source is None or any(source in f.adopt for f in enclosing):
            if id(t) not in captured:
                captured.add(id(t))
                sub.captures.append(t)
        else:
            raise ValueError(f"{user} uses tensor '{t.name}', which was created inside {source.name}; "
                             "a value computed in a tf.cond branch or tf.while_loop body can only be used "
                             "outside it through the op's outputs")

    for t in outputs:
        use(t, name)
    while todo:
        op = todo.pop()
        inputs = op.inputs[1:] if has_ref_input(op.type) else op.inputs
        for t in inputs:
            use(t, f"op '{op.name}'")
        for c in op.control_inputs:
            if id(c) in members or (owner(c) is not None and owner(c) in frame.adopt):
                continue
            if owner(c) is not None:
                raise ValueError(f"op '{op.name}' has a control dependency on '{c.name}', which was "
                                 f"created inside {owner(c).name}")
            if c not in sub.control_inputs:
                sub.control_inputs.append(c)
    sub.ops = sorted(own + sub.ops, key=lambda o: o._id)
    for op in own:
        op._subgraph = sub
    return sub


def _variable_creation(created: list, name: str) -> set:
    """Ids of the ops that create Variables inside a recording: they stay in the outer graph (TF lifts
    them out too), so a Variable made in a loop body exists once and its initializer runs outside."""
    created_ids = {id(op) for op in created}
    hoisted: set[int] = set()
    for var_op in created:
        if var_op.type != "VariableV2" or owner(var_op) is not None:
            continue
        var = getattr(var_op, "_py_variable", None)
        stack = [var_op] + ([var.initializer, var.value().op] if var is not None else [])
        while stack:
            op = stack.pop()
            if id(op) in hoisted or id(op) not in created_ids:
                continue
            if owner(op) is not None or op.type == "_Arg":
                raise ValueError(f"The initial value of Variable '{var_op.name}', created inside {name}, "
                                 "depends on a value computed there; give it an initial value that does "
                                 "not depend on loop variables or branch values")
            hoisted.add(id(op))
            stack.extend(t.op for t in op.inputs)
    return hoisted


# lowering ----------------------------------------------------------------------------
class TupleState:
    """The tuple a sub-computation takes: fixed leading elements, then outer values added on demand.

    Several computations may share one (a loop's condition and body); each attaches its own
    parameter, and every parameter's shape grows as elements are added."""

    def __init__(self, fixed_shapes=()):
        self.shapes: list = list(fixed_shapes)
        self.n_fixed = len(self.shapes)
        self.keys: dict = {}
        self.outer: list[Instruction] = []
        self._params: list[Instruction] = []

    def attach(self, b: Builder) -> Instruction:
        param = b.parameter(TupleShape(tuple(self.shapes)))
        self._params.append(param)
        return param

    def index(self, key, outer_value: Instruction) -> int:
        if key not in self.keys:
            self.keys[key] = len(self.shapes)
            self.shapes.append(outer_value.shape)
            self.outer.append(outer_value)
            for p in self._params:
                p.shape = TupleShape(tuple(self.shapes))
        return self.keys[key]

    @property
    def shape(self) -> TupleShape:
        return TupleShape(tuple(self.shapes))

    def operand(self, b: Builder, fixed_values) -> Instruction:
        """The caller's tuple: the fixed values, then the outer values in the order added."""
        return b.tuple(list(fixed_values) + self.outer)


class _SubgraphValues(dict):
    """Tensor -> instruction, importing captures on first use; Variables are read at each use."""

    def __init__(self, ctx: "SubgraphContext"):
        super().__init__()
        self._ctx = ctx

    def __missing__(self, t: Tensor) -> Instruction:
        ctx = self._ctx
        if t.op.type == "VariableV2":
            return ctx.read_variable(t.op)
        if t in ctx.captured:
            value = ctx.import_value(("tensor", t), lambda: ctx.captured[t], foldable=True)
            self[t] = value
            return value
        raise KeyError(f"tensor '{t.name}' has no value inside this sub-computation")


class SubgraphContext(RunContext):
    """Lowers a sub-graph into its own computation; outer values arrive through the tuple parameter.

    `iteration` (an s32[] of the loop's counter) makes random ops draw fresh numbers each iteration."""

    def __init__(self, outer: RunContext, state: TupleState, name: str, iteration_index: int | None = None):
        comp = Computation(unique_computation_name(outer, name))
        super().__init__(Builder(comp), outer.lowered)
        self.computation = comp
        self.outer = outer
        self.state = state
        self.param = state.attach(self.b)
        self.values = _SubgraphValues(self)
        self.captured: dict[Tensor, Instruction] = {}
        self._imported: dict = {}
        self.iteration = None if iteration_index is None else self.element(iteration_index)
        self.rng_parent = outer.rng_counter   # where its counter comes from (a replayed loop: the original's)

    def element(self, index: int) -> Instruction:
        return self.b.get_tuple_element(self.param, index)

    def import_value(self, key, outer_value, foldable: bool = False) -> Instruction:
        """An outer value inside this computation: an element of the parameter, or a copied constant."""
        if key in self._imported:
            return self._imported[key]
        value = outer_value() if callable(outer_value) else outer_value
        constant = self.outer.constant_value(value) if foldable and not value.shape.is_tuple else None
        if constant is not None and np.size(constant) <= _MAX_INLINED_CONSTANT:
            inst = self.b.constant(np.asarray(constant, dtype=value.dtype.np))
        else:
            inst = self.element(self.state.index(key, value))
        self._imported[key] = inst
        return inst

    # run state -------------------------------------------------------------------------
    def placeholder(self, op: Operation) -> Instruction:
        raise ValueError(f"placeholder '{op.name}' cannot be evaluated inside a sub-computation")

    def read_variable(self, var_op: Operation) -> Instruction:
        if var_op not in self.variable_values:
            self.variable_values[var_op] = self.import_value(("var", var_op),
                                                             lambda: self.outer.read_variable(var_op))
        return self.variable_values[var_op]

    def variable_element(self, var_op: Operation) -> int:
        """The state index holding `var_op` (imported now if the sub-graph only assigned it)."""
        if ("var", var_op) not in self.state.keys:
            self.state.index(("var", var_op), self.outer.read_variable(var_op))
        return self.state.keys[("var", var_op)]

    def rng_counter(self) -> Instruction:
        if self._rng_counter is None:
            counter = self.import_value(("rng",), self.rng_parent)
            if self.iteration is not None:   # counter * 2^24 + iteration: each iteration its own numbers
                b = self.b
                shifted = b.emit("mul", (counter, b.scalar(1 << 24, dtypes.int64)))
                counter = b.emit("add", (shifted, b.convert(self.iteration, dtypes.int64)))
            self._rng_counter = counter
        return self._rng_counter

    def base_rng_counter(self) -> Instruction:
        """The counter as the caller passed it in, before this computation's iteration is mixed in."""
        return self.import_value(("rng",), self.rng_parent)

    # lowering ----------------------------------------------------------------------------
    def lower(self, sub: SubGraph, bindings: dict, captured: dict) -> list:
        """Lowers the sub-graph's ops with `bindings` (tensor -> instruction here) and the outer values
        of its captures; returns the instructions of its outputs."""
        self.captured.update(captured)
        for t, inst in bindings.items():
            self.values[t] = inst
        for op in sub.ops:
            if op.outputs and all(dict.__contains__(self.values, t) for t in op.outputs):
                continue
            self.lower_op(op)
        return [self.values[t] for t in sub.outputs]

    def finish(self, root_elements) -> Computation:
        """Sets the root tuple and registers the computation with the run's module."""
        self.b.metadata = self.outer.b.metadata
        self.computation.root = self.b.tuple(list(root_elements)) if isinstance(root_elements, (list, tuple)) \
            else root_elements
        self.lowered.module.add_computation(self.computation)
        return self.computation


def unique_computation_name(ctx: RunContext, base: str) -> str:
    taken = {c.name for c in ctx.lowered.module.computations}
    base = base.replace("/", ".")
    name, k = base, 1
    while name in taken or name == "main":
        name, k = f"{base}.{k}", k + 1
    return name


def static_shape(t: Tensor) -> Shape:
    """The tensor's static shape as an IR shape (unknown rank reads as a scalar; callers override it)."""
    dims = t.shape.dims
    return Shape(t.dtype, () if dims is None else tuple(dims))
