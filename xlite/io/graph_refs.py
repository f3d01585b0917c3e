"""Op attributes that refer to other parts of the graph, written into a GraphDef and read back.

A tf.while_loop's or tf.cond's op holds its bodies and branches as `SubGraph`s (ops of the same
graph, marked with the sub-graph that recorded them), a loop's gradient holds the forward op, and
some attrs are None (no `maximum_iterations`). TF ignores NodeDef attrs starting with "_", so each
node carries these as xlite's own: `_xlite_graph_refs` (JSON: the attr values, with ops by name,
tensors as "op:index", sub-graphs by number), `_xlite_graph_subgraphs` (JSON: each sub-graph they
name, transitively through the ones a gradient body adopted from) and `_xlite_graph_owner` (the
sub-graph that recorded the node); `_xlite_graph_shapes` keeps the op's static output shapes where
its maker relaxed them (loop variables with shape invariants, py_func outputs). import_graph_def builds a node after every op these name, and
rebuilds the SubGraphs and marks, so an imported loop lowers, and differentiates, as the original.
"""
from __future__ import annotations

import json
import numbers

from xlite import errors
from xlite.frontend.graph import Operation, Tensor
from xlite.frontend.subgraph import SubGraph, owner
from xlite.io import protos

REFS, SUBGRAPHS, OWNER = "_xlite_graph_refs", "_xlite_graph_subgraphs", "_xlite_graph_owner"
SHAPES = "_xlite_graph_shapes"
KEYS = (REFS, SUBGRAPHS, OWNER, SHAPES)
_CONTROL_FLOW = {"While", "If", "WhileGrad", "WhileGradGrad"}      # op types whose attrs hold sub-graphs


def is_reference(value) -> bool:
    """Whether `value` needs this module's form (it has no AttrValue of its own)."""
    if isinstance(value, (list, tuple)):
        return any(is_reference(v) for v in value)
    return value is None or isinstance(value, (Operation, Tensor, SubGraph))


class Writer:
    """Numbers the sub-graphs of one exported graph and writes the attrs that refer to them."""

    def __init__(self):
        self.numbers: dict[int, int] = {}
        self.subgraphs: list[SubGraph] = []

    def number(self, sub: SubGraph) -> int:
        if id(sub) not in self.numbers:
            self.numbers[id(sub)] = len(self.subgraphs)
            self.subgraphs.append(sub)
        return self.numbers[id(sub)]

    def add(self, node, op: Operation, attrs: dict) -> None:
        """Adds `op`'s owner mark and its reference attrs (those of `attrs`) to `node`."""
        sub = owner(op)
        if sub is not None:
            node.attr[OWNER].i = self.number(sub)
        if not attrs:
            return
        used: list[SubGraph] = []
        refs = {key: self._encode(value, used) for key, value in attrs.items()}
        node.attr[REFS].s = json.dumps(refs).encode()
        table, todo = {}, list(used)
        while todo:
            s = todo.pop()
            n = self.number(s)
            if n in table:
                continue
            table[n] = {"name": s.name, "ops": [o.name for o in s.ops], "outputs": [t.name for t in s.outputs],
                        "captures": [t.name for t in s.captures], "args": [t.name for t in s.args],
                        "control_inputs": [o.name for o in s.control_inputs],
                        "sources": sorted(self.number(x) for x in s.sources)}
            todo.extend(s.sources)
        node.attr[SUBGRAPHS].s = json.dumps(table).encode()

    def _encode(self, value, used: list):
        if isinstance(value, (list, tuple)):
            return {"list" if isinstance(value, list) else "tuple": [self._encode(v, used) for v in value]}
        if isinstance(value, SubGraph):
            used.append(value)
            return {"subgraph": self.number(value)}
        if isinstance(value, Operation):
            return {"op": value.name}
        if isinstance(value, Tensor):
            return {"tensor": value.name}
        if value is None:
            return None
        from xlite.ir.dtypes import DType
        if isinstance(value, DType):
            return {"dtype": value.name}
        if isinstance(value, (bool, numbers.Number, str)):
            return {"value": value.item() if hasattr(value, "item") else value}
        raise TypeError(f"attribute value {value!r} has no GraphDef form")


def check_written_by_xlite(nodes) -> None:
    """Raises for a control-flow node without its sub-graphs (TF's functional While/If, whose bodies are
    library functions, or a file of an older xlite)."""
    for node in nodes:
        if node.op in _CONTROL_FLOW and REFS not in node.attr:
            raise errors.UnimplementedError(
                None, None, f"import_graph_def: node {node.name!r} ({node.op}) has no sub-graphs written by "
                            f"xlite's export; TF's functional control flow (bodies in a function library) and "
                            f"Enter/Exit frames are not supported")


def write_shapes(node, op: Operation) -> None:
    """Adds `op`'s static output shapes to `node` where some are partly unknown (the import infers known
    ones as they were)."""
    if all(t.shape.is_fully_defined() for t in op.outputs):
        return
    shapes = node.attr[SHAPES].list
    shapes.SetInParent()
    for t in op.outputs:
        shapes.shape.add().CopyFrom(protos.shape_proto(t.shape))


def relax_shapes(node, op: Operation) -> None:
    """Gives `op`'s outputs the written static shapes where those are less specific than the inferred
    ones, as the original op had them (never more specific: an input_map may have changed the inputs)."""
    if SHAPES not in node.attr:
        return
    for t, written in zip(op.outputs, node.attr[SHAPES].list.shape):
        shape = t.shape.most_specific_compatible_shape(protos.as_shape(written))
        if shape != t.shape:
            t._shape, t._static_value = shape, None


def _json(node, key: str):
    return json.loads(node.attr[key].s.decode()) if key in node.attr else None


def dependencies(node) -> set[str]:
    """Names of the nodes `node`'s reference attrs name: they must be built first."""
    names: set[str] = set()

    def walk(v):
        if isinstance(v, dict):
            for k, x in v.items():
                if k in ("op", "tensor"):
                    names.add(x.rpartition(":")[0] if k == "tensor" else x)
                else:
                    walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(_json(node, REFS))
    for s in (_json(node, SUBGRAPHS) or {}).values():
        names.update(s["ops"] + s["control_inputs"])
        names.update(t.rpartition(":")[0] for t in s["outputs"] + s["captures"] + s["args"])
    return names


class Reader:
    """Rebuilds the reference attrs and sub-graphs of one import; `tensor` and `op` map GraphDef names
    to what import_graph_def built for them."""

    def __init__(self, tensor, op):
        self.tensor, self.op = tensor, op
        self.subgraphs: dict[int, SubGraph] = {}
        self.filled: set[int] = set()
        self.members: dict[int, list[Operation]] = {}     # the ops marked with each sub-graph

    def shell(self, number: int) -> SubGraph:
        if number not in self.subgraphs:
            self.subgraphs[number] = SubGraph(f"sub-graph {number}")
        return self.subgraphs[number]

    def attrs(self, node) -> dict:
        """`node`'s reference attrs, its sub-graphs filled (their ops are built by now)."""
        for number, s in (_json(node, SUBGRAPHS) or {}).items():
            number = int(number)
            sub = self.shell(number)
            if number in self.filled:
                continue
            self.filled.add(number)
            sub.name = s["name"]
            listed = [self.op(n) for n in s["ops"]]       # and nodes export added (a reduction's axes)
            known = {id(o) for o in listed}
            sub.ops = sorted(listed + [o for o in self.members.get(number, []) if id(o) not in known],
                             key=lambda o: o._id)
            sub.outputs = [self.tensor(n) for n in s["outputs"]]
            sub.captures = [self.tensor(n) for n in s["captures"]]
            sub.args = [self.tensor(n) for n in s["args"]]
            sub.control_inputs = [self.op(n) for n in s["control_inputs"]]
            sub.sources = {self.shell(x) for x in s["sources"]}
        return {key: self._decode(v) for key, v in (_json(node, REFS) or {}).items()}

    def mark(self, node, op: Operation) -> None:
        """Marks `op` as recorded by its sub-graph, as the original op was."""
        if OWNER in node.attr:
            op._subgraph = self.shell(node.attr[OWNER].i)
            self.members.setdefault(node.attr[OWNER].i, []).append(op)

    def _decode(self, v):
        if v is None:
            return None
        (kind, x), = v.items()
        if kind in ("list", "tuple"):
            items = [self._decode(i) for i in x]
            return items if kind == "list" else tuple(items)
        if kind == "subgraph":
            return self.shell(x)
        if kind == "op":
            return self.op(x)
        if kind == "tensor":
            return self.tensor(x)
        if kind == "dtype":
            from xlite.ir import dtypes
            return dtypes.as_dtype(x)
        return x
