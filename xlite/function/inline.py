"""Inlining a trace into the graph that calls it, as TF1.15 does for a tf.function called from graph code.

The trace's ops are copied into the calling graph in creation order (a valid order), each input
remapped: an argument placeholder to the caller's tensor, a captured value's tensor to that value in
the calling graph (the tensor itself, or the calling graph's own capture of an eager value when it is
a trace too), every other tensor to its copy. Sub-graphs of tf.cond and tf.while_loop ops (`SubGraph`
attributes and the ops' `_subgraph` marks) are copied with them, so `sess.run` compiles the whole
calling graph as one executable and `tf.gradients` sees ordinary ops.
"""
from __future__ import annotations

import dataclasses
import secrets

from xlite.frontend.graph import Graph, Operation, Tensor
from xlite.frontend.subgraph import SubGraph
from xlite.runtime import host_fed


def inline(func_graph, graph: Graph, args: list[Tensor], scope: str, variables: list = (), call_index: int = 0):
    """Copies `func_graph` into `graph` with its argument placeholders bound to `args` and its Variable
    arguments to `variables`; the function's structured outputs with each graph tensor replaced by its
    copy. `call_index` counts the trace's earlier inlinings: their random ops draw other numbers."""
    memo: dict[int, object] = {}
    for placeholder, arg in zip(func_graph.arg_inputs, args):
        memo[id(placeholder)] = arg
    bound_per_call = {id(t) for t in func_graph.variable_args}
    for value, internal in func_graph.captures:
        if id(internal) not in bound_per_call:
            memo[id(internal)] = _outer_value(value, graph, internal)
    for var, internal in zip(variables, func_graph.variable_args):
        value = var if getattr(var, "_is_eager_variable", False) else var._variable
        memo[id(internal)] = _outer_value(value, graph, internal)
    copier = _Copier(graph, memo, call_index)
    scope = "".join(c if c.isalnum() or c in "_.-" else "_" for c in scope).lstrip("_.-") or "function"
    with graph.name_scope(scope):
        initializers = {id(op) for op in func_graph._lifted_initializers if op.type == "Assign"}
        for op in func_graph.get_operations():
            if id(op) in initializers:
                continue                 # a lifted Variable's initializer: it runs in the outer graph
            if all(id(t) in memo for t in op.outputs) and op.outputs:
                continue                 # an argument or a captured value: bound above
            copier.copy_op(op)
    copier.finish_subgraphs()
    if func_graph.structured_outputs is None and func_graph.control_output is not None:
        return memo[id(func_graph.control_output)]      # no outputs: the op that runs its updates (TF1.15)
    return _map_structure(func_graph.structured_outputs, memo)


def _outer_value(value, graph: Graph, internal: Tensor) -> Tensor:
    """What a captured value is in the calling graph."""
    if isinstance(value, Tensor) and value.graph is graph:
        return value
    capture = getattr(graph, "capture", None)
    if capture is not None:
        return capture(value)
    if isinstance(value, Tensor):
        raise ValueError(f"The tf.function captured {value.name}, a tensor of another graph than the one "
                         "it is called from.")
    raise TypeError(f"The tf.function captured an eager value ({internal.op.name}), which cannot be used in "
                    "a TF1 graph: create the function's tensors inside the graph.")


class _Copier:
    def __init__(self, graph: Graph, memo: dict, call_index: int = 0):
        self.graph = graph
        self.memo = memo
        self.call_index = call_index
        self.subgraphs: list[tuple[SubGraph, SubGraph]] = []

    def copy_op(self, op: Operation) -> Operation:
        inputs = [self.value(t) for t in op.inputs]
        controls = [self.memo[id(c)] for c in op.control_inputs if id(c) in self.memo]
        attrs = {k: self.value(v) for k, v in op.attrs.items()}
        if "_key" in attrs and self.call_index:
            attrs["_key"] = _call_key(attrs, self.call_index)
        name = self.graph.unique_name(op.name)
        metadata = dataclasses.replace(op.metadata, op_name=name) if dataclasses.is_dataclass(op.metadata) \
            else op.metadata
        specs = [(t.dtype, t.shape) for t in op.outputs]
        new = self.graph.add_op(op.type, name, inputs, attrs, specs, metadata, controls)
        for old_t, new_t in zip(op.outputs, new.outputs):
            new_t._static_value = old_t._static_value
            self.memo[id(old_t)] = new_t
        self.memo[id(op)] = new
        if getattr(op, "_host_provider", None) is not None:      # the Session fills it before each run
            host_fed.attach(new, op._host_provider)
        if getattr(op, "_subgraph", None) is not None:
            new._subgraph = self.value(op._subgraph)
        return new

    def value(self, v):
        """`v` (an attribute or an input) with every op, tensor and sub-graph of the trace replaced."""
        if isinstance(v, (Tensor, Operation)):
            if isinstance(v, Tensor) and v.graph is not self.graph and id(v) not in self.memo:
                raise ValueError(f"tf.function inlining: {v.name} has no copy in the calling graph")
            return self.memo.get(id(v), v)
        if isinstance(v, SubGraph):
            copy = self.memo.get(id(v))
            if copy is None:
                copy = self.memo[id(v)] = SubGraph(v.name)
                self.subgraphs.append((v, copy))
            return copy
        if isinstance(v, tuple) and not hasattr(v, "_fields"):
            return tuple(self.value(x) for x in v)
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if isinstance(v, dict):
            return {k: self.value(x) for k, x in v.items()}
        return v

    def finish_subgraphs(self) -> None:
        """Fills the copied SubGraphs once all their ops exist (an op's mark refers to its sub-graph
        before the control-flow op that owns it is copied)."""
        for old, new in self.subgraphs:
            new.ops = [self.memo.get(id(op), op) for op in old.ops]
            new.outputs = [self.memo.get(id(t), t) for t in old.outputs]
            new.captures = [self.memo.get(id(t), t) for t in old.captures]
            new.args = [self.memo.get(id(t), t) for t in old.args]
            new.control_inputs = [self.memo.get(id(op), op) for op in old.control_inputs]
            new.sources = {self.value(s) for s in old.sources}


def _call_key(attrs: dict, call_index: int) -> tuple[int, int]:
    """The Philox key of a random op in a trace's `call_index`-th inlining: as each call of a TF function
    draws further numbers, each copy draws its own, fresh for an unseeded op, fixed by the seeds (and
    the call's number) for a seeded one."""
    if not attrs.get("seed") and not attrs.get("seed2"):
        return secrets.randbits(32), secrets.randbits(32)
    k0, k1 = attrs["_key"]
    return (k0 * 0x9E3779B1 + call_index) % (1 << 32), (k1 ^ (call_index * 0x85EBCA6B)) % (1 << 32)


def _map_structure(structure, memo: dict):
    from xlite.frontend import nest
    flat = nest.flatten(structure)
    return nest.pack_sequence_as(structure, [memo.get(id(v), v) if isinstance(v, (Tensor, Operation)) else v
                                             for v in flat])
