"""Graph <-> TF's GraphDef: `Graph.as_graph_def`, `tf.import_graph_def` and `tf.io.write_graph`.

xlite's op types are TF's (Const, VariableV2, MatMul, ...), with TF's inputs and most of TF's attrs.
Export adds the type attrs TF's NodeDefs carry and xlite infers (`T`, `Tidx`, ...; the table
`_TYPE_ATTRS`) and the reduction axes xlite leaves implicit; import turns AttrValues back into
xlite's values and builds each node through `make_op`, the op's lowering rule inferring its static
shapes as for any op. A node whose type xlite has no rule for raises UnimplementedError naming it.
"""
from __future__ import annotations

import numbers
import os

import numpy as np

from xlite import errors
from xlite.frontend import graph as graph_module
from xlite.frontend.graph import Graph, Operation, Tensor, get_default_graph
from xlite.frontend.op_registry import has_ref_input, make_op, registered_op_types
from xlite.frontend.tensor_shape import TensorShape
from xlite.io import graph_refs, host_functions, protos
from xlite.io.export_rules import EXPORT_RULES, Emitter
from xlite.io.import_rules import DROPPABLE, IMPORT_RULES, RENAMED, REWRITES
from xlite.ir.dtypes import DType

GRAPH_DEF_VERSION = 1882        # TF's TF_GRAPH_DEF_VERSION of the 2.x graphs xlite's mirror
_MAX_CONSTANT_ELEMENTS = 1 << 26

# Type attrs TF's NodeDefs carry for xlite's ops: attr -> where its dtype comes from ("inN" the N-th
# input, "out0" the first output). Ops not listed get T from their first input (or output) unless
# they are in _NO_T.
_REDUCE = {"T": "in0", "Tidx": "in1"}
_TYPE_ATTRS = {
    "Sum": _REDUCE, "Mean": _REDUCE, "Max": _REDUCE, "Min": _REDUCE, "Prod": _REDUCE,
    "All": {"Tidx": "in1"}, "Any": {"Tidx": "in1"}, "Cast": {"SrcT": "in0", "DstT": "out0"},
    "Shape": {"T": "in0", "out_type": "out0"}, "Size": {"T": "in0", "out_type": "out0"},
    "Reshape": {"T": "in0", "Tshape": "in1"}, "Tile": {"T": "in0", "Tmultiples": "in1"},
    "Transpose": {"T": "in0", "Tperm": "in1"}, "ExpandDims": {"T": "in0", "Tdim": "in1"},
    "Fill": {"T": "in1", "index_type": "in0"}, "Range": {"Tidx": "out0"},
    "GatherV2": {"Tparams": "in0", "Tindices": "in1", "Taxis": "in2"},
    "ArgMax": {"T": "in0", "Tidx": "in1", "output_type": "out0"},
    "ArgMin": {"T": "in0", "Tidx": "in1", "output_type": "out0"},
    "Pad": {"T": "in0", "Tpaddings": "in1"}, "PadV2": {"T": "in0", "Tpaddings": "in1"},
    "MirrorPad": {"T": "in0", "Tpaddings": "in1"},
    "Slice": {"T": "in0", "Index": "in1"}, "StridedSlice": {"T": "in0", "Index": "in1"},
    "RandomUniform": {"T": "in0", "dtype": "out0"}, "RandomStandardNormal": {"T": "in0", "dtype": "out0"},
    "TruncatedNormal": {"T": "in0", "dtype": "out0"}, "RandomUniformInt": {"T": "in0", "Tout": "out0"},
    "SelectV2": {"T": "in1"}, "OneHot": {"T": "out0", "TI": "in0"}, "Split": {"T": "in1"},
    "SplitV": {"T": "in0", "Tlen": "in1"}, "ConcatV2": {"T": "in0"}, "Cumsum": {"T": "in0", "Tidx": "in1"},
    "Cumprod": {"T": "in0", "Tidx": "in1"}, "ReverseV2": {"T": "in0", "Tidx": "in1"},
    "BroadcastTo": {"T": "in0", "Tidx": "in1"}, "ScatterNd": {"T": "in1", "Tindices": "in0"},
    "GatherNd": {"Tparams": "in0", "Tindices": "in1"}, "UnsortedSegmentSum": {"T": "in0", "Tindices": "in1",
                                                                              "Tnumsegments": "in2"},
    "InTopKV2": {"T": "in2"}, "InvertPermutation": {"T": "in0"}, "Rank": {"T": "in0"},
    "PlaceholderWithDefault": {"dtype": "out0"},
    "Conv2DBackpropInput": {"T": "in1"}, "DepthwiseConv2dNativeBackpropInput": {"T": "in1"},
    "AvgPoolGrad": {"T": "in1"},
}
# xlite attrs TF's op has not: written as `_xlite_attr_NAME` (TF ignores "_" attrs), read back by xlite
_XLITE_ONLY_ATTRS = {"Conv2DBackpropInput": {"dtype"}, "DepthwiseConv2dNativeBackpropInput": {"dtype"}}
_NO_T = {"Const", "Placeholder", "VariableV2", "NoOp", "If", "While", "_Arg", "IteratorGetNext", "MakeIterator"}
_COUNTS = {"AddN": "N", "Pack": "N", "ConcatV2": "N", "ShapeN": "N"}   # attr = number of (value) inputs
_EXTRA_DEFAULTS = {"VariableV2": {"container": "", "shared_name": ""}, "Assign": {"use_locking": True},
                   "AssignAdd": {"use_locking": False}, "AssignSub": {"use_locking": False}}
_REDUCTIONS = {"Sum", "Mean", "Max", "Min", "Prod", "All", "Any"}
# xlite's own attrs export leaves out: a random op's stream (rebuilt from its seeds), a host function's key
# (host_functions writes it), a string host op's output specs (its Python function cannot be written)
_NOT_WRITTEN = {"_key", host_functions.ATTR, "_output_types", "_output_shapes"}


# attribute values ---------------------------------------------------------------------------------
def attr_value(value):
    """An AttrValue of an xlite attribute value, or None for values with no GraphDef form."""
    pb = protos.pb()
    attr = pb.attr_value_pb2.AttrValue()
    if isinstance(value, (bool, np.bool_)):
        attr.b = bool(value)
    elif isinstance(value, numbers.Integral):
        attr.i = int(value)
    elif isinstance(value, numbers.Real):
        attr.f = float(value)
    elif isinstance(value, str):
        attr.s = value.encode("utf-8")
    elif isinstance(value, bytes):
        attr.s = value
    elif isinstance(value, DType):
        try:
            attr.type = protos.data_type(value)
        except errors.UnimplementedError:
            return None
    elif isinstance(value, TensorShape):
        attr.shape.CopyFrom(protos.shape_proto(value))
    elif isinstance(value, np.ndarray):
        if value.size > _MAX_CONSTANT_ELEMENTS:
            return None
        try:
            attr.tensor.CopyFrom(protos.tensor_proto(value))
        except errors.UnimplementedError:
            return None
    elif isinstance(value, (list, tuple)):
        return _list_attr(attr, list(value))
    else:
        return None
    return attr


def _list_attr(attr, items: list):
    field = attr.list
    attr.list.SetInParent()
    if not items:
        return attr
    if all(isinstance(v, (bool, np.bool_)) for v in items):
        field.b.extend(bool(v) for v in items)
    elif all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in items):
        field.i.extend(int(v) for v in items)
    elif all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in items):
        field.f.extend(float(v) for v in items)
    elif all(isinstance(v, str) for v in items):
        field.s.extend(v.encode("utf-8") for v in items)
    elif all(isinstance(v, DType) for v in items):
        field.type.extend(protos.data_type(v) for v in items)
    elif all(isinstance(v, TensorShape) for v in items):
        for v in items:
            field.shape.add().CopyFrom(protos.shape_proto(v))
    else:
        return None
    return attr


def python_value(attr):
    """The xlite value of an AttrValue (the inverse of attr_value)."""
    kind = attr.WhichOneof("value")
    if kind == "list":
        lst = attr.list
        for name in ("s", "i", "f", "b", "type", "shape", "tensor"):
            values = getattr(lst, name)
            if len(values):
                return [python_value(_single(name, v)) for v in values]
        return []
    if kind == "s":
        try:
            return attr.s.decode("utf-8")
        except UnicodeDecodeError:
            return attr.s
    if kind in ("i", "f", "b"):
        return getattr(attr, kind)
    if kind == "type":
        return protos.as_xlite_dtype(attr.type)
    if kind == "shape":
        return protos.as_shape(attr.shape)
    if kind == "tensor":
        return protos.as_ndarray(attr.tensor)
    if kind is None:
        return None
    raise errors.UnimplementedError(None, None, f"attribute values of kind {kind!r} (functions, placeholders) "
                                    "are not supported by xlite's import_graph_def")


def _single(name: str, v):
    attr = protos.pb().attr_value_pb2.AttrValue()
    if name in ("shape", "tensor"):
        getattr(attr, name).CopyFrom(v)
    else:
        setattr(attr, name, v)
    return attr


# export -----------------------------------------------------------------------------------------
def _dtype_of(op: Operation, where: str, inputs: list[Tensor]):
    if where.startswith("in"):
        i = int(where[2:])
        return inputs[i].dtype if i < len(inputs) else None
    return op.outputs[0].dtype if op.outputs else None


def _node_inputs(t: Tensor) -> str:
    return t.op.name if t.value_index == 0 else t.name


def graph_def(graph: Graph, add_shapes: bool = False, from_version=None):
    """TF's GraphDef of every op in `graph`: names, TF op types, inputs ("op", "op:1", "^control") and
    attrs, with TF's type attrs; `add_shapes` adds `_output_shapes` (for TensorBoard)."""
    pb = protos.pb()
    result = pb.graph_pb2.GraphDef()
    result.versions.producer = GRAPH_DEF_VERSION
    gates = update_gates(graph)
    refs = graph_refs.Writer()
    for op in graph.get_operations():
        inputs = list(op.inputs)
        names = [_node_inputs(t) for t in inputs]
        if op.type in _REDUCTIONS and len(inputs) == 1:   # TF's reductions name their axes; xlite's "all" has none
            start = len(result.node)
            names.append(_all_axes(result, op.name, inputs[0], names[0]))
            for helper in result.node[start:]:        # in the sub-graph of the reduction
                refs.add(helper, op, {})
        if op.type in EXPORT_RULES and _export_by_rule(result, op, names, add_shapes, refs):
            continue
        node = result.node.add()
        node.name = op.name
        node.op = op.type
        node.input.extend(names + ["^" + c.name for c in op.control_inputs]
                          + ["^" + r for r in gates.get(op.name, ())])
        _add_attrs(node, op, refs, _XLITE_ONLY_ATTRS.get(op.type, set()))
        _add_type_attrs(node, op, inputs)
        if add_shapes and op.outputs:
            shapes = node.attr["_output_shapes"].list.shape
            for t in op.outputs:
                shapes.add().CopyFrom(protos.shape_proto(t.shape))
    return result


def _add_attrs(node, op: Operation, refs: graph_refs.Writer, private=None) -> None:
    """`op`'s attrs on `node`: TF's under their names, xlite's own (those in `private`, or starting
    with "_"; all when `private` is None) as `_xlite_attr_NAME`, references to other ops and
    sub-graphs through graph_refs, a host function's key through host_functions."""
    references = {}
    for key, value in op.attrs.items():
        if key in _NOT_WRITTEN:
            continue
        attr = attr_value(value)
        if attr is None:
            if graph_refs.is_reference(value):
                references[key] = value
            continue
        own = private is None or key in private or key.startswith("_")
        node.attr[("_xlite_attr_" + key) if own else key].CopyFrom(attr)
    refs.add(node, op, references)
    graph_refs.write_shapes(node, op)
    host_functions.write(node, op)


def update_gates(graph: Graph) -> dict[str, list[str]]:
    """For each Variable update (Assign/AssignAdd/AssignSub, initializers aside), the ops that read
    that Variable and do not depend on the update: the update must wait for them.

    xlite's Session reads every Variable once at the start of a run, so an update never changes
    what another op of the same run reads. TensorFlow reads a reference variable when the reading
    op runs, and its own gradients gate updates behind every read (gate_gradients=GATE_OP); a graph
    written for TF gets the same order as control inputs on the updates."""
    consumers: dict[int, list[Operation]] = {}
    for op in graph.get_operations():
        for t in op.inputs:
            consumers.setdefault(id(t.op), []).append(op)
        for c in op.control_inputs:
            consumers.setdefault(id(c), []).append(op)

    def updates_of(op) -> bool:
        return has_ref_input(op.type) and bool(op.inputs) and op.inputs[0].op.type == "VariableV2"
    gates: dict[str, list[str]] = {}
    for op in graph.get_operations():
        if not updates_of(op):
            continue
        var_op = op.inputs[0].op
        variable = getattr(var_op, "_py_variable", None)
        if variable is not None and variable.initializer is op:
            continue
        downstream, stack = set(), [op]
        while stack:
            for c in consumers.get(id(stack.pop()), []):
                if id(c) not in downstream:
                    downstream.add(id(c))
                    stack.append(c)
        readers = [r for r in consumers.get(id(var_op), []) if r is not op and not updates_of(r)
                   and id(r) not in downstream and r not in op.control_inputs]
        if readers:
            gates[op.name] = [r.name for r in readers]
    return gates


def _export_by_rule(result, op: Operation, names: list[str], add_shapes: bool, refs: graph_refs.Writer) -> bool:
    """Writes `op` as TF ops (export_rules.py); False (nothing written) when its rule cannot."""
    start = len(result.node)

    def build(name, op_type, inputs, attrs, helper):
        node = result.node.add(name=name, op=op_type, input=inputs)
        for key, value in attrs.items():
            node.attr[key].CopyFrom(attr_value(value))
        if helper:
            node.attr["_xlite_helper"].b = True
        else:
            node.input.extend("^" + c.name for c in op.control_inputs)
            node.attr["_xlite_op"].s = op.type.encode()
            node.attr["_xlite_input"].list.s.extend(n.encode() for n in names)
            _add_attrs(node, op, refs)
            if add_shapes:
                node.attr["_output_shapes"].list.shape.add().CopyFrom(protos.shape_proto(op.outputs[0].shape))
        return name
    if EXPORT_RULES[op.type](Emitter(build, op, names)):
        return True
    del result.node[start:]
    return False


def _all_axes(result, name: str, x: Tensor, x_name: str) -> str:
    """Nodes giving every axis of `x`: a Const when its rank is known, else Range(0, Rank(x), 1), as TF builds."""
    int32 = protos.data_type("int32")

    def const(node_name, value):
        n = result.node.add(name=node_name, op="Const")
        n.attr["dtype"].type = int32
        n.attr["value"].tensor.CopyFrom(protos.tensor_proto(np.asarray(value, dtype=np.int32)))
        return node_name
    if x.shape.ndims is not None:
        return const(f"{name}/reduction_indices", np.arange(x.shape.ndims))
    rank = result.node.add(name=f"{name}/Rank", op="Rank", input=[x_name])
    rank.attr["T"].type = protos.data_type(x.dtype)
    axes = result.node.add(name=f"{name}/range", op="Range",
                           input=[const(f"{name}/range/start", 0), rank.name, const(f"{name}/range/delta", 1)])
    axes.attr["Tidx"].type = int32
    return axes.name


def _add_type_attrs(node, op: Operation, inputs: list[Tensor]) -> None:
    rules = _TYPE_ATTRS.get(op.type, {} if op.type in _NO_T else {"T": "in0" if inputs else "out0"})
    for attr_name, where in rules.items():
        dtype = _dtype_of(op, where, inputs) if attr_name not in op.attrs else None
        if where == "in1" and op.type in _REDUCTIONS and len(inputs) == 1:
            dtype = protos.as_xlite_dtype(protos.data_type("int32"))
        if dtype is not None and attr_name not in node.attr:
            try:
                node.attr[attr_name].type = protos.data_type(dtype)
            except errors.UnimplementedError:
                pass
    if op.type in _COUNTS and _COUNTS[op.type] not in node.attr:
        node.attr[_COUNTS[op.type]].i = len(inputs) - (1 if op.type == "ConcatV2" else 0)
    for key, value in _EXTRA_DEFAULTS.get(op.type, {}).items():
        if key not in node.attr:
            node.attr[key].CopyFrom(attr_value(value))


# import -----------------------------------------------------------------------------------------
def _split_input(name: str) -> tuple[str, int, bool]:
    """(op name, output index, is a control input) of a NodeDef input string."""
    if name.startswith("^"):
        return name[1:], -1, True
    op_name, _, index = name.partition(":")
    return op_name, int(index) if index else 0, False


def _topological(nodes) -> list:
    by_name = {n.name: n for n in nodes}
    order, state = [], {}
    for root in nodes:
        stack = [(root, False)]
        while stack:
            node, done = stack.pop()
            if done:
                state[node.name] = 2
                order.append(node)
                continue
            if state.get(node.name):
                continue
            state[node.name] = 1
            stack.append((node, True))
            for i in [*node.input, *graph_refs.dependencies(node)]:
                dep = by_name.get(_split_input(i)[0])
                if dep is not None and not state.get(dep.name):
                    stack.append((dep, False))
                elif dep is not None and state.get(dep.name) == 1:
                    raise ValueError(f"GraphDef has a cycle through node {node.name!r} (TF's while loops "
                                     "as Enter/Exit/NextIteration frames are not supported)")
    return order


def _import_attrs(node) -> dict:
    attrs = {}
    for key, value in node.attr.items():
        if key.startswith("_xlite_attr_"):
            attrs[key[len("_xlite_attr_"):]] = python_value(value)
        elif not key.startswith("_"):
            attrs[key] = python_value(value)
    if node.op in ("RandomUniform", "RandomStandardNormal", "TruncatedNormal", "RandomUniformInt"):
        from xlite.frontend.random_ops import _key     # the op's stream, from its seeds as when built
        seeds = attrs.get("seed", 0), attrs.get("seed2", 0)
        attrs["_key"] = _key(*seeds) if any(seeds) else _key(None, None)
    return attrs


def _as_written_by_xlite(graph_def):
    """The GraphDef with xlite's ops that export_rules.py wrote as TF ops restored (helpers dropped)."""
    if not any("_xlite_op" in n.attr for n in graph_def.node):
        return graph_def
    out = protos.pb().graph_pb2.GraphDef()
    out.versions.CopyFrom(graph_def.versions)
    for n in graph_def.node:
        if "_xlite_helper" in n.attr:
            continue
        node = out.node.add()
        node.CopyFrom(n)
        if "_xlite_op" in n.attr:
            node.op = n.attr["_xlite_op"].s.decode()
            del node.input[:]
            node.input.extend([i.decode() for i in n.attr["_xlite_input"].list.s]
                              + [i for i in n.input if i.startswith("^")])
            node.ClearField("attr")
            for key, value in n.attr.items():
                if key.startswith("_xlite_attr_"):
                    node.attr[key[len("_xlite_attr_"):]].CopyFrom(value)
                elif key in graph_refs.KEYS or key == host_functions.TOKEN:
                    node.attr[key].CopyFrom(value)
    return out


def _unused_droppable(graph_def, return_elements) -> set[str]:
    """Nodes of DROPPABLE types that no node uses and the caller does not ask for."""
    used = {_split_input(i)[0] for n in graph_def.node for i in n.input}
    used |= {e.partition(":")[0] for e in return_elements or ()}
    return {n.name for n in graph_def.node if n.op in DROPPABLE and n.name not in used}


def import_graph_def(graph_def, input_map=None, return_elements=None, name=None, op_dict=None,
                     producer_op_list=None, skip=None):
    """tf.import_graph_def: builds `graph_def`'s nodes into the default graph under the scope `name`
    ("import" when None, uniquified; "" for none). `input_map` maps names in `graph_def` ("x:0" or
    "x") to existing Tensors; `return_elements` names the Tensors/Operations to return. `skip`
    (xlite's own) is a set of node names to leave out (import_meta_graph's saver ops)."""
    if isinstance(graph_def, (bytes, bytearray)):
        parsed = protos.pb().graph_pb2.GraphDef()
        parsed.ParseFromString(bytes(graph_def))
        graph_def = parsed
    graph_def = _as_written_by_xlite(graph_def)
    graph = get_default_graph()
    input_map = {(k if ":" in k or k.startswith("^") else k + ":0"): v for k, v in (input_map or {}).items()}
    skip = set(skip or ()) | _unused_droppable(graph_def, return_elements)
    registered = set(registered_op_types()) | set(RENAMED) | set(IMPORT_RULES) | set(REWRITES)
    unknown = sorted({(n.name, n.op) for n in graph_def.node if n.name not in skip and n.op not in registered})
    if unknown:
        node, op_type = unknown[0]
        raise errors.UnimplementedError(None, None, f"import_graph_def: node {node!r} has op type {op_type!r}, "
                                        f"which xlite does not support (unsupported op types: "
                                        f"{sorted({t for _, t in unknown})})")
    graph_refs.check_written_by_xlite(n for n in graph_def.node if n.name not in skip)
    with graph.as_default(), graph.name_scope(None):
        scope = "import" if name is None else name
        if scope:
            scope = graph.unique_name(scope)
        prefix = scope + "/" if scope else ""
        built: dict[str, Operation] = {}

        def tensor(spec: str) -> Tensor:
            op_name, index, _ = _split_input(spec)
            key = f"{op_name}:{index}"
            return graph.as_graph_element(input_map[key]) if key in input_map else built[op_name].outputs[index]
        refs = graph_refs.Reader(tensor, lambda op_name: built[op_name])
        for node in _topological([n for n in graph_def.node if n.name not in skip]):
            full = prefix + node.name
            if graph.unique_name(full, mark_as_used=False) != full:
                raise ValueError(f"Duplicate node name in graph: '{full}'")
            inputs, controls = [], []
            for spec in node.input:
                op_name, index, is_control = _split_input(spec)
                key = spec if is_control else f"{op_name}:{index}"
                if not is_control and key in input_map:
                    inputs.append(graph.as_graph_element(input_map[key]))
                    continue
                if op_name not in built:
                    raise ValueError(f"Node '{node.name}': input '{spec}' is not in the GraphDef "
                                     "(or is left out of the import)")
                if is_control:
                    controls.append(built[op_name])
                else:
                    inputs.append(built[op_name].outputs[index])
            attrs = {**_import_attrs(node), **refs.attrs(node)}
            if node.op in IMPORT_RULES:
                built[node.name] = _build_by_rule(graph, node.op, full, inputs, attrs, controls)
                refs.mark(node, built[node.name])
                continue
            host_key = host_functions.registered_key(node)
            if host_key is not None:
                attrs[host_functions.ATTR] = host_key
            elif host_functions.is_py_func(node.op):
                attrs[host_functions.ATTR] = host_functions.missing_py_func(node.op, full, node)
            elif host_functions.TOKEN in node.attr:
                with graph.control_dependencies(controls):
                    built[node.name] = host_functions.rebuild(node.op, inputs, attrs, full + "/")
                graph.unique_name(full)
                refs.mark(node, built[node.name])
                continue
            op_type = RENAMED.get(node.op, node.op)
            if node.op in REWRITES:
                op_type, attrs = REWRITES[node.op](attrs)
            shapes = None
            if op_type in ("Placeholder", "VariableV2"):
                shapes = [attrs.get("shape", TensorShape(None))]
            elif host_functions.is_py_func(op_type):       # its outputs' shapes are a run-time fact
                shapes = [TensorShape(None)] * len(attrs.get("Tout", ()))
            op = make_op(op_type, inputs, attrs, name=full + "/", graph=graph,
                         control_inputs=controls, output_shapes=shapes)
            graph.unique_name(full)      # marks the name as used, as building it by hand would have
            refs.mark(node, op)
            graph_refs.relax_shapes(node, op)
            built[node.name] = op
    if return_elements is None:
        return None
    result = []
    for element in return_elements:
        op_name, _, index = element.partition(":")
        if op_name not in built:
            raise ValueError(f"Requested return_element {element!r} not found in graph_def.")
        result.append(built[op_name].outputs[int(index)] if index else built[op_name])
    return result


graph_module.graph_def_builder = graph_def


def _build_by_rule(graph: Graph, op_type: str, full: str, inputs, attrs, controls) -> Operation:
    """A node built from other ops (import_rules.py): its ops under `full/`, its first output an
    Identity named `full` (so "full:0" names it, as in TF's graph); the returned op's outputs are the
    node's outputs in TF's order."""
    with graph.name_scope(full + "/"), graph.control_dependencies(controls):
        outputs = IMPORT_RULES[op_type](inputs, attrs)
    first = make_op("Identity", [outputs[0]], name=full + "/", graph=graph, control_inputs=controls)
    graph.unique_name(full)
    first.outputs = [first.outputs[0]] + list(outputs[1:])
    return first


def write_graph(graph_or_graph_def, logdir, name, as_text: bool = True) -> str:
    """Writes the GraphDef under logdir/name (text format if `as_text`), atomically; returns the path."""
    from google.protobuf import text_format

    from xlite import gfile
    from xlite.io.format.atomic import write_atomic
    proto = graph_def(graph_or_graph_def) if isinstance(graph_or_graph_def, Graph) else graph_or_graph_def
    logdir = os.fspath(logdir)
    if not gfile.IsDirectory(logdir):
        gfile.MakeDirs(logdir)
    path = os.path.join(logdir, name)
    data = text_format.MessageToString(proto).encode() if as_text else proto.SerializeToString()
    write_atomic(path, data)
    return path


def read_graph_def(path: str):
    """A GraphDef from a binary (.pb) or text (.pbtxt) file."""
    from google.protobuf import text_format
    with open(os.fspath(path), "rb") as f:
        raw = f.read()
    proto = protos.pb().graph_pb2.GraphDef()
    try:
        proto.ParseFromString(raw)
    except Exception:     # not binary: text format (protobuf's DecodeError)
        text_format.Parse(raw.decode("utf-8"), proto)
    return proto
