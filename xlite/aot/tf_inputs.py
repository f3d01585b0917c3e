"""TensorFlow's own files as `xlite compile` inputs, like tfcompile's `--graph`: a frozen GraphDef
(`model.pb` binary or `model.pbtxt` text) or a SavedModel directory and one of its signatures.

Each becomes what a script gives `xlite compile`: a fresh Graph, the fetch and feed Tensors in it and
a Session holding the Variables' values, so the artifacts come out of the same compile path
(xlite.aot.compile) as for a script. A GraphDef is imported with tf.import_graph_def (no scope, so
"--fetch prob" names the node "prob"); a SavedModel is loaded with tf.saved_model.loader.load, which
restores its variables, and its signature names the feeds and fetches by key ("--fetch prob" is the
output key "prob", or any tensor of the graph).
"""
from __future__ import annotations

from dataclasses import dataclass, field

GRAPH_DEF_SUFFIXES = (".pb", ".pbtxt", ".pbtext", ".graphdef")


@dataclass
class LoadedGraph:
    """A graph to compile and the names that pick its fetches and feeds."""
    graph: object
    session: object = None
    inputs: dict = field(default_factory=dict)     # signature key -> Tensor (SavedModel only)
    outputs: dict = field(default_factory=dict)    # signature key -> Tensor (SavedModel only)


def is_graph_def(path: str) -> bool:
    return path.lower().endswith(GRAPH_DEF_SUFFIXES)


def load_graph_def(path: str) -> LoadedGraph:
    """A frozen GraphDef (binary or text) imported into a fresh Graph under its own node names."""
    import xlite as tf
    from xlite.io.graph_def import read_graph_def
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(read_graph_def(path), name="")
    if any(op.type in ("VariableV2", "VarHandleOp") for op in graph.get_operations()):
        raise SystemExit(f"xlite compile: {path} has Variables: freeze it first "
                         "(tf.graph_util.convert_variables_to_constants), or compile its SavedModel")
    return LoadedGraph(graph)


def load_saved_model(export_dir: str, tags: list, signature: str) -> LoadedGraph:
    """The SavedModel's MetaGraphDef tagged `tags`, loaded (Variables restored) into a fresh Graph and an
    interpreter Session, with the inputs and outputs of its signature `signature`."""
    import xlite as tf
    from xlite.io.saved_model.utils import get_tensor_from_tensor_info
    graph = tf.Graph()
    sess = tf.Session(target="interpreter", graph=graph)
    meta = tf.saved_model.loader.load(sess, tags, export_dir)
    if signature not in meta.signature_def:
        raise SystemExit(f"xlite compile: the SavedModel's MetaGraphDef tagged {sorted(tags)} has no signature "
                         f"{signature!r} (it has: {', '.join(sorted(meta.signature_def)) or 'none'})")
    sig = meta.signature_def[signature]
    inputs = {k: get_tensor_from_tensor_info(sig.inputs[k], graph) for k in sorted(sig.inputs)}
    outputs = {k: get_tensor_from_tensor_info(sig.outputs[k], graph) for k in sorted(sig.outputs)}
    return LoadedGraph(graph, sess, inputs, outputs)


def resolve(loaded: LoadedGraph, name: str, by_key: dict, allow_operation: bool):
    """The Tensor a signature key names, else the graph's tensor (or op) of that name."""
    if name in by_key:
        return by_key[name]
    from xlite.frontend.graph import Operation
    try:
        element = loaded.graph.as_graph_element(name, allow_tensor=True, allow_operation=True)
    except (KeyError, ValueError, TypeError):
        keys = f" (signature keys: {', '.join(by_key)})" if by_key else ""
        raise SystemExit(f"xlite compile: the graph has no tensor or op named {name!r}{keys}") from None
    if isinstance(element, Operation):
        if element.outputs:
            return element.outputs[0]
        if not allow_operation:
            raise SystemExit(f"xlite compile: {name!r} is an op without outputs, not a tensor")
    return element
