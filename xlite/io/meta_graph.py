"""MetaGraphDef files (`PREFIX.meta`): tf.train.export_meta_graph and the graph half of import_meta_graph.

A MetaGraphDef is the GraphDef (graph_def.py), the Saver's SaverDef and the graph's collections:
Variables as VariableDefs (their op, initializer, snapshot and initial value names), Operations and
Tensors by name, strings and numbers as themselves. Import rebuilds the graph, skipping the
saver's own ops (SaveV2/RestoreV2 and the rest of its name scope: xlite's Saver reads and writes
checkpoints in Python), and refills the collections; tf.train.import_meta_graph
(xlite/train/saver.py) then makes a Saver from the SaverDef.
"""
from __future__ import annotations

import numbers
import os

import numpy as np

from xlite import errors, tf_logging
from xlite.frontend.graph import Graph, GraphKeys, Operation, Tensor, get_default_graph
from xlite.frontend.variables import Variable
from xlite.io import protos
from xlite.io.graph_def import graph_def as _graph_def
from xlite.io.graph_def import import_graph_def
from xlite.version import __version__

_VARIABLE_COLLECTIONS = {GraphKeys.GLOBAL_VARIABLES, GraphKeys.TRAINABLE_VARIABLES, GraphKeys.LOCAL_VARIABLES,
                         GraphKeys.MODEL_VARIABLES, GraphKeys.MOVING_AVERAGE_VARIABLES, "global_step"}


def _variable_def(var: Variable):
    vd = protos.pb().variable_pb2.VariableDef()
    vd.variable_name = var.name
    vd.initializer_name = var.initializer.name
    vd.snapshot_name = var.value().name
    vd.initial_value_name = var.initial_value.name
    vd.trainable = var.trainable
    return vd


def _collection_def(items: list):
    """A CollectionDef of a collection's items, or None when they have no MetaGraphDef form."""
    cd = protos.pb().meta_graph_pb2.CollectionDef()
    if all(isinstance(i, Variable) for i in items):
        cd.bytes_list.value.extend(_variable_def(v).SerializeToString() for v in items)
    elif all(isinstance(i, (Operation, Tensor)) for i in items):
        cd.node_list.value.extend(i.name for i in items)
    elif all(isinstance(i, (str, bytes)) for i in items):
        cd.bytes_list.value.extend(i.encode() if isinstance(i, str) else i for i in items)
    elif all(isinstance(i, numbers.Integral) for i in items):
        cd.int64_list.value.extend(int(i) for i in items)
    elif all(isinstance(i, numbers.Real) for i in items):
        cd.float_list.value.extend(float(i) for i in items)
    else:
        return None
    return cd


def _add_saver_nodes(gd, saver) -> None:
    """The save/restore subgraph TF's Saver builds (SaveV2, RestoreV2 and an Assign per Variable under
    the saver's name scope), which the SaverDef names: TF runs it to save and restore. xlite's own
    graph has none of it (its Saver reads and writes in Python) and skips it on import."""
    pb = protos.pb()
    scope = saver.saver_def_fields()["restore_op_name"].rpartition("/")[0]
    names = sorted(saver.var_list)
    variables = [saver.var_list[n] for n in names]

    def node(name, op, inputs=(), **attrs):
        n = gd.node.add()
        n.name, n.op = f"{scope}/{name}", op
        n.input.extend(inputs)
        for key, value in attrs.items():
            n.attr[key].CopyFrom(value)
        return n.name

    def attr(**kw):
        return pb.attr_value_pb2.AttrValue(**kw)

    def const(name, value):
        value = np.array(value, dtype=object)
        return node(name, "Const", dtype=attr(type=7), value=attr(tensor=protos.tensor_proto(value)))

    string_scalar = {"dtype": attr(type=7), "shape": attr(shape=protos.shape_proto([]))}
    filename = node("filename", "PlaceholderWithDefault", [const("filename/input", b"model")], **string_scalar)
    file_tensor = node("Const", "PlaceholderWithDefault", [filename], **string_scalar)
    types = attr(list=pb.attr_value_pb2.AttrValue.ListValue(type=[protos.data_type(v.dtype) for v in variables]))
    save = node("SaveV2", "SaveV2", [file_tensor, const("SaveV2/tensor_names", [n.encode() for n in names]),
                                     const("SaveV2/shape_and_slices", [b""] * len(names))]
                + [v.op.name for v in variables], dtypes=types)
    node("control_dependency", "Identity", [file_tensor, "^" + save], T=attr(type=7))
    restore = node("RestoreV2", "RestoreV2", [file_tensor, const("RestoreV2/tensor_names", [n.encode() for n in names]),
                                              const("RestoreV2/shape_and_slices", [b""] * len(names))], dtypes=types)
    assigns = []
    for i, v in enumerate(variables):
        assigns.append(node("Assign" if i == 0 else f"Assign_{i}", "Assign",
                            [v.op.name, restore if i == 0 else f"{restore}:{i}"], T=attr(type=protos.data_type(v.dtype)),
                            validate_shape=attr(b=True), use_locking=attr(b=True)))
    node("restore_all", "NoOp", ["^" + a for a in assigns])


def meta_graph_def(graph: Graph | None = None, saver=None, collection_list=None):
    """The MetaGraphDef of `graph` with `saver`'s SaverDef (a Saver of xlite/train/saver.py)."""
    graph = graph or get_default_graph()
    pb = protos.pb()
    meta = pb.meta_graph_pb2.MetaGraphDef()
    meta.meta_info_def.meta_graph_version = f"xlite {__version__}"   # tensorflow_version: TF parses it
    meta.graph_def.CopyFrom(_graph_def(graph))
    if saver is not None:
        meta.saver_def.CopyFrom(pb.saver_pb2.SaverDef(**saver.saver_def_fields()))
        _add_saver_nodes(meta.graph_def, saver)
    keys = graph.get_all_collection_keys() if collection_list is None else collection_list
    for key in keys:
        items = graph.get_collection(key)
        if not items:
            continue
        cd = _collection_def(items)
        if cd is None:
            tf_logging.warning("Issue encountered when serializing %s: its items have no MetaGraphDef form", key)
            continue
        meta.collection_def[key].CopyFrom(cd)
    return meta


def export_meta_graph(filename=None, graph=None, saver=None, collection_list=None, as_text=False,
                      clear_devices=False, **_):
    """Writes the MetaGraphDef to `filename` (atomically; text format if `as_text`) and returns it."""
    meta = meta_graph_def(graph, saver, collection_list)
    if filename:
        from google.protobuf import text_format

        from xlite.io.format.atomic import write_atomic
        data = text_format.MessageToString(meta).encode() if as_text else meta.SerializeToString()
        write_atomic(os.fspath(filename), data)
    return meta


def read_meta_graph_file(filename: str):
    """A MetaGraphDef from a binary or text `.meta` file (NotFoundError naming it when it is missing;
    TF raises IOError with the same message)."""
    from google.protobuf import text_format
    filename = os.fspath(filename)
    if not os.path.exists(filename):
        raise errors.NotFoundError(None, None, f"File {filename} does not exist.")
    with open(filename, "rb") as f:
        raw = f.read()
    meta = protos.pb().meta_graph_pb2.MetaGraphDef()
    try:
        meta.ParseFromString(raw)
    except Exception:   # not binary: the text format
        text_format.Parse(raw.decode("utf-8"), meta)
    return meta


_SAVER_OPS = {"SaveV2", "RestoreV2", "MergeV2Checkpoints", "Save", "SaveSlices", "Restore", "RestoreSlice"}


def _saver_nodes(meta) -> set[str]:
    """The nodes of the saver's name scope (its SaveV2/RestoreV2 subgraph), which xlite does not build,
    and of every other saver's scope in the graph (a SavedModel's later MetaGraphDefs each add a Saver:
    save, save_1, ...)."""
    scopes = {n.name.rpartition("/")[0] for n in meta.graph_def.node if n.op in _SAVER_OPS}
    if meta.HasField("saver_def"):
        scopes.add(meta.saver_def.restore_op_name.rpartition("/")[0])
    scopes.discard("")
    return {n.name for n in meta.graph_def.node if any(n.name.startswith(s + "/") for s in scopes)}


def _variable_from_def(graph: Graph, vd, scope: str, trainable_default: bool) -> Variable:
    """A Variable over already imported ops, as TF's Variable(variable_def=...)."""
    def element(name: str):
        return graph.as_graph_element(scope + name)
    var = object.__new__(Variable)
    var._variable = element(vd.variable_name)
    var._initializer_op = element(vd.initializer_name)
    var._snapshot = element(vd.snapshot_name)
    var._initial_value = element(vd.initial_value_name) if vd.initial_value_name else var._snapshot
    var._trainable = bool(vd.trainable) or trainable_default
    var._variable.op._py_variable = var
    return var


def import_meta_graph_def(meta, import_scope: str | None = None) -> None:
    """Builds `meta`'s graph (less the saver's ops) into the default graph and refills its collections."""
    graph = get_default_graph()
    scope = import_scope or ""
    import_graph_def(meta.graph_def, name=scope, skip=_saver_nodes(meta))
    prefix = scope + "/" if scope else ""
    variables: dict[str, Variable] = {}
    for key, cd in meta.collection_def.items():
        kind = cd.WhichOneof("kind")
        if kind == "bytes_list" and key in _VARIABLE_COLLECTIONS | {"trainable_variables", "variables"}:
            vdef = protos.pb().variable_pb2.VariableDef
            for raw in cd.bytes_list.value:
                vd = vdef.FromString(raw)
                var = variables.get(vd.variable_name)
                if var is None:
                    var = variables[vd.variable_name] = _variable_from_def(
                        graph, vd, prefix, key == GraphKeys.TRAINABLE_VARIABLES)
                graph.add_to_collection(key, var)
        elif kind == "node_list":
            for name in cd.node_list.value:
                try:
                    graph.add_to_collection(key, graph.as_graph_element(prefix + name))
                except (KeyError, ValueError):
                    tf_logging.warning("collection %s names %s, which was not imported", key, name)
        elif kind == "bytes_list":
            for raw in cd.bytes_list.value:
                graph.add_to_collection(key, raw)
        elif kind in ("int64_list", "float_list"):
            for v in getattr(cd, kind).value:
                graph.add_to_collection(key, v)
