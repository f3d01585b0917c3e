"""An xlite Graph as TF's GraphDef, for TensorBoard's graph tab: xlite/io/graph_def.py's GraphDef
with `_output_shapes` on every node (TF's `as_graph_def(add_shapes=True)`), which TensorBoard shows."""
from __future__ import annotations

from xlite.io.graph_def import attr_value  # noqa: F401  (kept for callers of the old module)
from xlite.io.graph_def import graph_def as _graph_def


def graph_def(graph):
    """The GraphDef (tensorboard's graph_pb2.GraphDef) of every op in `graph`, with output shapes."""
    return _graph_def(graph, add_shapes=True)
