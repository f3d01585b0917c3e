"""An xlite Graph as TF's GraphDef, for TensorBoard's graph tab.

Each op becomes a NodeDef with its name (TensorBoard groups nodes by their name scopes),
type, inputs ("op", "op:1", "^control") and the attributes that have a GraphDef form:
numbers, strings, dtypes, shapes, lists of those and constant values. `_output_shapes`
gives every output's static shape, as TF's `as_graph_def(add_shapes=True)` does.
"""
from __future__ import annotations

import numbers

import numpy as np

from xlite.frontend.tensor_shape import TensorShape
from xlite.ir.dtypes import DType
from xlite.summary import encode

_MAX_CONSTANT_ELEMENTS = 1 << 20   # larger constant values are left out of the GraphDef


def graph_def(graph):
    """The GraphDef (tensorboard's graph_pb2.GraphDef) of every op in `graph`."""
    pb = encode.protos()
    result = pb.graph_pb2.GraphDef()
    for op in graph.get_operations():
        node = result.node.add()
        node.name = op.name
        node.op = op.type
        node.input.extend(op.node_def["input"])
        for key, value in op.attrs.items():
            if key.startswith("_"):
                continue
            attr = attr_value(value)
            if attr is not None:
                node.attr[key].CopyFrom(attr)
        if op.outputs:
            shapes = node.attr["_output_shapes"].list.shape
            for t in op.outputs:
                shapes.add().CopyFrom(encode.shape_proto(t.shape.dims))
    return result


def attr_value(value):
    """An AttrValue for an op attribute, or None for attributes with no GraphDef form."""
    pb = encode.protos()
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
        if value.name not in encode._DT_NAMES:
            return None
        attr.type = encode.data_type(value.name)
    elif isinstance(value, TensorShape):
        attr.shape.CopyFrom(encode.shape_proto(value.dims))
    elif isinstance(value, np.ndarray):
        if value.size > _MAX_CONSTANT_ELEMENTS or (value.dtype.kind not in "OUS"
                                                  and value.dtype.name not in encode._DT_NAMES):
            return None
        attr.tensor.CopyFrom(encode.tensor_proto(value))
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
    elif all(isinstance(v, DType) and v.name in encode._DT_NAMES for v in items):
        field.type.extend(encode.data_type(v.name) for v in items)
    elif all(isinstance(v, TensorShape) for v in items):
        for v in items:
            field.shape.add().CopyFrom(encode.shape_proto(v.dims))
    else:
        return None
    return attr
