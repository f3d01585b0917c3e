"""tf.saved_model.utils: TensorInfo protos (a tensor's name, dtype and shape in a SignatureDef) and back."""
from __future__ import annotations

from xlite import errors
from xlite.frontend.graph import Graph, Tensor, get_default_graph
from xlite.io import protos


def build_tensor_info(tensor):
    """The TensorInfo of a graph Tensor (or a Variable's value)."""
    if hasattr(tensor, "_as_graph_element"):
        tensor = tensor._as_graph_element()
    if not isinstance(tensor, Tensor):
        raise TypeError(f"build_tensor_info needs a graph Tensor, got {tensor!r}")
    return protos.pb().meta_graph_pb2.TensorInfo(name=tensor.name, dtype=protos.data_type(tensor.dtype),
                                                 tensor_shape=protos.shape_proto(tensor.shape))


def build_tensor_info_from_op(op):
    """A TensorInfo naming an Operation (dtype DT_INVALID, unknown shape): how TF's SavedModelBuilder
    records its init and train ops in a SignatureDef."""
    return protos.pb().meta_graph_pb2.TensorInfo(dtype=0, tensor_shape=protos.shape_proto(None), name=op.name)


def _scoped(name: str, import_scope: str | None) -> str:
    return f"{import_scope.rstrip('/')}/{name}" if import_scope else name


def get_tensor_from_tensor_info(tensor_info, graph: Graph | None = None, import_scope: str | None = None):
    """The Tensor `tensor_info` names in `graph` (KeyError when there is none). xlite has no SparseTensor,
    so a coo_sparse or composite TensorInfo raises UnimplementedError."""
    graph = graph or get_default_graph()
    encoding = tensor_info.WhichOneof("encoding")
    if encoding == "name":
        return graph.get_tensor_by_name(_scoped(tensor_info.name, import_scope))
    if encoding in ("coo_sparse", "composite_tensor"):
        raise errors.UnimplementedError(None, None, f"a {encoding} TensorInfo: xlite has no sparse or "
                                        "composite tensors")
    raise ValueError(f"Invalid TensorInfo.encoding: {encoding}. Expected `coo_sparse`, `composite_tensor`, "
                     "or `name` for a dense tensor.")


def get_element_from_tensor_info(tensor_info, graph: Graph | None = None, import_scope: str | None = None):
    """The Operation or Tensor `tensor_info` names in `graph`."""
    graph = graph or get_default_graph()
    return graph.as_graph_element(_scoped(tensor_info.name, import_scope))
