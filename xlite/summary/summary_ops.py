"""Summary ops: graph ops whose numbers the compiled run computes and whose value is a Summary proto.

Each summary op (ScalarSummary, HistogramSummary, ImageSummary) lowers to the numbers it
needs like any op: the scalar, the raw values, the first `max_outputs` images. Its output
Tensor is TF's scalar `string`; a fetch of it goes through its host rule
(`xlite.runtime.fetches.host_rule`), which serializes the computed numbers into
`Summary` protocol-buffer bytes after the run, as TF's CPU kernels do. MergeSummary
and TensorSummaryV2 (text) are made wholly on the host: a merge joins the protos of
its inputs, a text summary holds its strings (xlite has no string tensors).
"""
from __future__ import annotations

import contextlib
import re

import numpy as np

from xlite import errors, tf_logging
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.gradients import no_gradient
from xlite.frontend.graph import GraphKeys, Tensor, get_default_graph
from xlite.frontend.op_registry import lowering, make_op
from xlite.frontend.scopes import name_scope
from xlite.ir.dtypes import DType
from xlite.ir.shape import Shape
from xlite.runtime.fetches import host_rule
from xlite.summary import encode

# TF's tf.string, the dtype of every summary tensor; no other xlite op makes or takes it.
string = DType("string", "string", None, "string", 0)

no_gradient("ScalarSummary", "HistogramSummary", "ImageSummary", "TensorSummaryV2", "MergeSummary")

_INVALID_TAG_CHARACTERS = re.compile(r"[^-/\w\.]")


def _clean_tag(name):
    if name is not None:
        new_name = _INVALID_TAG_CHARACTERS.sub("_", name).lstrip("/")
        if new_name != name:
            tf_logging.info("Summary name %s is illegal; using %s instead.", name, new_name)
            name = new_name
    return name


@contextlib.contextmanager
def _summary_scope(name, family=None, values=None):
    """TF's summary_scope: (tag, scope) where the tag is the uniquified scope name, under `family`."""
    name, family = _clean_tag(name), _clean_tag(family)
    base = name if family is None else f"{family}/{name}"
    with name_scope(base, "summary", values) as scope:
        tag = scope.rstrip("/") if family is None else f"{family}/{scope.rstrip('/')}"
        yield tag, scope


def _summary(op_type: str, inputs, attrs: dict, scope: str, collections, default_collections):
    """Makes the op named `scope` (a name scope ending in "/"), as a scalar string tensor."""
    graph = inputs[0].graph if inputs else get_default_graph()
    op = make_op(op_type, inputs, attrs, name=scope if scope.endswith("/") else scope + "/",
                 graph=graph, output_shapes=[[]])
    t = op.outputs[0]
    t.dtype, t._static_value = string, None
    for key in (default_collections if collections is None else collections):
        graph.add_to_collection(key, t)
    return t


def _real_tensor(value, what: str) -> Tensor:
    t = convert_to_tensor(value)
    if t.dtype is string or t.dtype.is_bool or t.dtype.kind not in ("float", "int", "uint"):
        raise TypeError(f"{what} needs a real-valued tensor, got {t.dtype.name} ({t.name})")
    return t


def _value_summary(op_type: str, tag_attr: str, name, values, collections, family, api: str) -> Tensor:
    """op_type of one real-valued tensor, its attr tag_attr the name (scoped, uniquified) of the op."""
    with _summary_scope(name, family, [values]) as (tag, scope):
        x = _real_tensor(values, api)
        return _summary(op_type, [x], {tag_attr: tag}, scope, collections, [GraphKeys.SUMMARIES])


# scalar ---------------------------------------------------------------------------------------
def scalar(name, tensor, collections=None, family=None):
    """A Summary of one `simple_value` tagged with the name (scoped, uniquified) of the op."""
    return _value_summary("ScalarSummary", "tags", name, tensor, collections, family, "tf.summary.scalar")


@lowering("ScalarSummary")
def _lower_scalar(ctx, op, values):
    want = np.shape(op.attrs["tags"])
    dims = values.shape.dims
    if len(dims) != len(want) or any(d is not None and d != w for d, w in zip(dims, want)):
        raise ValueError(f"tags and values are not the same shape: {list(want)} != {list(dims)} "
                         f"(tag {op.attrs['tags']!r})")
    return values


@host_rule("ScalarSummary")
def _scalar_proto(op, values) -> bytes:
    pb = encode.protos().summary_pb2
    tags = np.asarray(op.attrs["tags"], dtype=object).ravel()
    values = np.asarray(values).ravel()
    return pb.Summary(value=[pb.Summary.Value(tag=str(t), simple_value=float(v))
                             for t, v in zip(tags, values)]).SerializeToString()


# histogram ------------------------------------------------------------------------------------
def histogram(name, values, collections=None, family=None):
    """A Summary of TF's histogram (min, max, sum, sum of squares, bucket counts) of `values`."""
    return _value_summary("HistogramSummary", "tag", name, values, collections, family, "tf.summary.histogram")


@lowering("HistogramSummary")
def _lower_histogram(ctx, op, values):
    return values


@host_rule("HistogramSummary")
def _histogram_proto(op, values) -> bytes:
    pb = encode.protos().summary_pb2
    values = np.asarray(values)
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        raise errors.InvalidArgumentError(op.node_def, op, f"Nan in summary histogram for: {op.name}")
    histo = pb.HistogramProto(**encode.histogram_fields(values))
    return pb.Summary(value=[pb.Summary.Value(tag=op.attrs["tag"], histo=histo)]).SerializeToString()


# image ----------------------------------------------------------------------------------------
def image(name, tensor, max_outputs=3, collections=None, family=None):
    """A Summary of up to `max_outputs` PNG images from a [N, H, W, C] uint8 or float tensor
    (C = 1, 3 or 4), tagged `name/image/i` (`name/image` when max_outputs is 1)."""
    with _summary_scope(name, family, [tensor]) as (tag, scope):
        return _image_op(tag, tensor, max_outputs, scope, collections)


def _image_op(tag, tensor, max_outputs, scope, collections):
    x = convert_to_tensor(tensor)
    if x.dtype.name not in ("uint8", "float32", "float16", "float64"):
        raise TypeError(f"tf.summary.image needs a uint8 or floating-point tensor, got {x.dtype.name}")
    if int(max_outputs) < 1:
        raise ValueError(f"max_outputs must be at least 1, got {max_outputs}")
    return _summary("ImageSummary", [x], {"tag": tag, "max_images": int(max_outputs)}, scope, collections,
                    [GraphKeys.SUMMARIES])


@lowering("ImageSummary")
def _lower_image(ctx, op, images):
    dims = images.shape.dims
    if len(dims) != 4 or dims[3] not in (None, 1, 3, 4):
        raise ValueError(f"Tensor must be 4-D with last dim 1, 3, or 4, not {list(dims)}")
    if dims[0] is None:                 # static shape inference of a batch of unknown size
        return ctx.unknown(Shape(images.dtype, dims))
    n = min(dims[0], op.attrs["max_images"])
    if n == dims[0]:
        return images
    return ctx.b.emit("slice", (images,), start_indices=(0, 0, 0, 0), limit_indices=(n,) + tuple(dims[1:]),
                      strides=(1, 1, 1, 1))


@host_rule("ImageSummary")
def _image_proto(op, images) -> bytes:
    pb = encode.protos().summary_pb2
    base, many = op.attrs["tag"], op.attrs["max_images"] > 1
    values = []
    for i, img in enumerate(np.asarray(images)):
        pixels = encode.image_to_uint8(img)
        values.append(pb.Summary.Value(
            tag=f"{base}/image/{i}" if many else f"{base}/image",
            image=pb.Summary.Image(height=pixels.shape[0], width=pixels.shape[1], colorspace=pixels.shape[2],
                                   encoded_image_string=encode.encode_png(pixels))))
    return pb.Summary(value=values).SerializeToString()


# text -----------------------------------------------------------------------------------------
def text(name, tensor, collections=None):
    """A Summary of strings for TensorBoard's text tab. xlite has no string tensors, so `tensor`
    is a Python str/bytes, a (nested) list of them, or a NumPy array of them."""
    if isinstance(tensor, Tensor) or hasattr(tensor, "_as_graph_element"):
        dtype = getattr(getattr(tensor, "dtype", None), "name", "?")
        raise ValueError(f"Expected tensor {getattr(tensor, 'name', tensor)} to have dtype string, got {dtype}")
    value = np.asarray(tensor, dtype=object)
    if not all(isinstance(v, (str, bytes)) for v in value.ravel()):
        raise ValueError("tf.summary.text needs strings (str or bytes)")
    value = np.array([v.encode("utf-8") if isinstance(v, str) else v for v in value.ravel()],
                     dtype=object).reshape(value.shape)
    with _summary_scope(name, None, []) as (tag, scope):
        return _summary("TensorSummaryV2", [], {"tag": tag, "value": value}, scope, collections,
                        [GraphKeys.SUMMARIES])


@lowering("TensorSummaryV2", "MergeSummary")
def _lower_host_only(ctx, op, *operands):
    """Made on the host when fetched; as a target or control input the run computes nothing for it."""
    return ctx.b.constant(np.zeros((), np.float32))


@host_rule("TensorSummaryV2", from_inputs=True)
def _text_proto(op) -> bytes:
    pb = encode.protos().summary_pb2
    metadata = pb.SummaryMetadata(plugin_data=pb.SummaryMetadata.PluginData(plugin_name="text"))
    value = pb.Summary.Value(tag=op.attrs["tag"], metadata=metadata, tensor=encode.tensor_proto(op.attrs["value"]))
    return pb.Summary(value=[value]).SerializeToString()


# merge ----------------------------------------------------------------------------------------
def merge(inputs, collections=None, name=None):
    """One Summary holding the values of every summary in `inputs` (tags must be distinct)."""
    inputs = list(inputs)
    for t in inputs:
        if not isinstance(t, Tensor) or t.dtype is not string:
            raise TypeError(f"tf.summary.merge takes summary tensors, got {t!r}")
    with name_scope(name, "Merge", inputs):
        op = make_op("MergeSummary", inputs, {}, name=name or "MergeSummary",
                     graph=inputs[0].graph if inputs else get_default_graph(), output_shapes=[[]])
    t = op.outputs[0]
    t.dtype, t._static_value = string, None
    for key in collections or ():
        t.graph.add_to_collection(key, t)
    return t


@host_rule("MergeSummary", from_inputs=True)
def _merge_proto(op, *serialized) -> bytes:
    pb = encode.protos().summary_pb2
    merged, tags = pb.Summary(), set()
    for data in serialized:
        summary = pb.Summary.FromString(bytes(data))
        for value in summary.value:
            if value.tag in tags:
                raise errors.InvalidArgumentError(op.node_def, op, f"Duplicate tag {value.tag} found in summary inputs")
            tags.add(value.tag)
            merged.value.add().CopyFrom(value)
    return merged.SerializeToString()


def merge_all(key=GraphKeys.SUMMARIES, scope=None, name=None):
    """`merge` of the default graph's `key` collection, or None when it is empty."""
    summaries = get_default_graph().get_collection(key, scope)
    return merge(summaries, name=name) if summaries else None


# TF 0.x spellings -----------------------------------------------------------------------------
def scalar_summary(tags, values, collections=None, name=None):
    """Deprecated: tf.summary.scalar. `tags` (a string, or strings shaped like `values`) are used as given."""
    tf_logging.warn_deprecated("tf.scalar_summary", "tf.summary.scalar")
    if not isinstance(tags, str):
        tags = _freeze(np.asarray(tags, dtype=object).tolist())
    with name_scope(name, "ScalarSummary", [values]) as scope:
        x = _real_tensor(values, "tf.scalar_summary")
        return _summary("ScalarSummary", [x], {"tags": tags}, scope, collections, [GraphKeys.SUMMARIES])


def _freeze(value):
    """Nested lists as nested tuples: op attributes stay immutable."""
    return tuple(_freeze(v) for v in value) if isinstance(value, list) else value


def histogram_summary(tag, values, collections=None, name=None):
    """Deprecated: tf.summary.histogram, with `tag` used as given."""
    tf_logging.warn_deprecated("tf.histogram_summary", "tf.summary.histogram")
    with name_scope(name, "HistogramSummary", [values]) as scope:
        x = _real_tensor(values, "tf.histogram_summary")
        return _summary("HistogramSummary", [x], {"tag": tag}, scope, collections, [GraphKeys.SUMMARIES])


def image_summary(tag, tensor, max_images=3, collections=None, name=None):
    """Deprecated: tf.summary.image, with `tag` used as given."""
    tf_logging.warn_deprecated("tf.image_summary", "tf.summary.image")
    with name_scope(name, "ImageSummary", [tensor]) as scope:
        return _image_op(tag, tensor, max_images, scope, collections)


def merge_summary(inputs, collections=None, name=None):
    """Deprecated: tf.summary.merge."""
    tf_logging.warn_deprecated("tf.merge_summary", "tf.summary.merge")
    return merge(inputs, collections, name)


def merge_all_summaries(key=GraphKeys.SUMMARIES):
    """Deprecated: tf.summary.merge_all."""
    tf_logging.warn_deprecated("tf.merge_all_summaries", "tf.summary.merge_all")
    return merge_all(key)
