"""tf.io, and xlite's readers and writers of TF's files.

`xlite.io.format` holds the byte formats (CRC32C, table, tensor bundle); `graph_def` turns a Graph
into a GraphDef and back; `meta_graph` writes and reads MetaGraphDefs (with collections and the
saver's SaverDef); `freeze` is tf.graph_util.convert_variables_to_constants. As the `tf.io`
namespace it also holds read_file/decode_csv (xlite/data/io_ops.py) and tf.io.gfile.
"""
from __future__ import annotations

from xlite.io import gfile


def write_graph(graph_or_graph_def, logdir, name, as_text=True) -> str:
    """tf.io.write_graph: the GraphDef as text (.pbtxt) or binary (.pb) under logdir/name; returns the path."""
    from xlite.io.graph_def import write_graph as _write_graph
    return _write_graph(graph_or_graph_def, logdir, name, as_text)


def __getattr__(name):
    if name in ("decode_csv", "read_file"):     # imported on first use: tf.data is not light (#18)
        from xlite.data import io_ops
        return getattr(io_ops, name)
    raise AttributeError(f"module 'xlite.io' has no attribute {name!r}")


def read_graph_def(path):
    """A GraphDef from a binary (.pb) or text (.pbtxt) file."""
    from xlite.io.graph_def import read_graph_def as _read
    return _read(path)
