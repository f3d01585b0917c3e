"""tf.graph_util: extract_sub_graph and convert_variables_to_constants (freezing a trained graph).

Freezing keeps the nodes the outputs need and replaces each VariableV2 among them by a Const of
its value in the Session, so the GraphDef runs (or compiles ahead of time) without a checkpoint.
"""
from __future__ import annotations

import copy

from xlite.io import graph_refs, protos
from xlite.io.graph_def import _split_input


def extract_sub_graph(graph_def, dest_nodes):
    """The GraphDef of the nodes `dest_nodes` reach through data and control inputs (and the ops of the
    loop bodies and branches they run), in their order."""
    if isinstance(dest_nodes, str):
        raise TypeError("dest_nodes must be a list.")
    by_name = {n.name: n for n in graph_def.node}
    for name in dest_nodes:
        if name not in by_name:
            raise AssertionError(f"{name} is not in graph")
    keep, stack = set(), list(dest_nodes)
    while stack:
        name = stack.pop()
        if name in keep:
            continue
        keep.add(name)
        stack.extend(_split_input(i)[0] for i in by_name[name].input)
        stack.extend(n for n in graph_refs.dependencies(by_name[name]) if n in by_name)   # loop bodies
    out = protos.pb().graph_pb2.GraphDef()
    out.versions.CopyFrom(graph_def.versions)
    out.library.CopyFrom(graph_def.library)
    out.node.extend(copy.deepcopy(n) for n in graph_def.node if n.name in keep)
    return out


def convert_variables_to_constants(sess, input_graph_def, output_node_names, variable_names_whitelist=None,
                                   variable_names_blacklist=None):
    """`input_graph_def` cut down to what `output_node_names` need, its Variables made Consts of their
    values in `sess` (those in the whitelist only, when given; never those in the blacklist)."""
    sub = extract_sub_graph(input_graph_def, output_node_names)
    wanted = [n.name for n in sub.node if n.op in ("VariableV2", "Variable")
              and (variable_names_whitelist is None or n.name in variable_names_whitelist)
              and not (variable_names_blacklist and n.name in variable_names_blacklist)]
    values = dict(zip(wanted, sess.run([f"{name}:0" for name in wanted]))) if wanted else {}
    out = protos.pb().graph_pb2.GraphDef()
    out.versions.CopyFrom(sub.versions)
    out.library.CopyFrom(sub.library)
    for node in sub.node:
        if node.name in values:
            const = out.node.add()
            const.name, const.op = node.name, "Const"
            const.attr["dtype"].CopyFrom(node.attr["dtype"])
            const.attr["value"].tensor.CopyFrom(protos.tensor_proto(values[node.name]))
        else:
            out.node.add().CopyFrom(node)
    return out
