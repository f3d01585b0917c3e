"""Variables a trace creates are lifted out of it, as TF's init_scope lifts them: they live in the
context the function was called from, once, and the trace only reads and updates them.

Graph mode: the Variable's op, its initial value and its initializer are copied into the outer graph,
and the Python Variable object the function made now stands for the copy (its collections too), so
`tf.global_variables_initializer()` initializes it and a Session holds its value. The trace's own
VariableV2 op becomes the capture of the outer one. Eager mode: the initial value is computed through
the compile driver and the Variable becomes an eager Variable (`xlite/function/eager_lift.py`).
Either way a Variable whose initial value depends on the function's arguments is refused (ValueError).
"""
from __future__ import annotations

from xlite.frontend.graph import GraphKeys


def lift_variables(graph, created: list) -> None:
    """Moves the Variables `created` by the trace `graph` into its outer context."""
    if graph.outer_graph is None:
        from xlite.function.eager_lift import lift_to_eager
        lift_to_eager(graph, created)
        return
    from xlite.function.inline import _Copier
    outer = graph.outer_graph
    memo: dict = {id(t): v for v, t in graph.captures if getattr(v, "graph", None) is outer}
    args = {id(t) for t in graph.arg_inputs}
    copier = _Copier(outer, memo)
    lifted = []
    for var in created:
        ops = _creation_ops(var, args)
        lifted.extend(ops)
        with outer.control_dependencies(None):
            for op in ops:
                if id(op) not in memo and not all(id(t) in memo for t in op.outputs):
                    copier.copy_op(op)
        inner = var._variable
        var._variable = memo[id(inner)]
        var._initializer_op = memo[id(var._initializer_op)]
        var._snapshot = memo[id(var._snapshot)]
        var._initial_value = memo.get(id(var._initial_value), var._initial_value)
        var._variable.op._py_variable = var
        collections = [k for k in graph.get_all_collection_keys() if any(v is var for v in graph.get_collection(k))]
        outer.add_to_collections(collections or [GraphKeys.GLOBAL_VARIABLES], var)
        graph._captures[id(var._variable)] = (var._variable, inner)
    graph._lifted_initializers = tuple(lifted)


def _creation_ops(var, args: set) -> list:
    """The trace's ops that make `var`: its VariableV2, its initializer and what computes the initial
    value, and its `read` snapshot, in creation order."""
    wanted, stack = {}, [var._initializer_op, var._snapshot.op, var._variable.op]
    while stack:
        op = stack.pop()
        if op._id in wanted:
            continue
        wanted[op._id] = op
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)
    ops = [wanted[k] for k in sorted(wanted)]
    for op in ops:
        if any(id(t) in args for t in op.outputs):
            raise ValueError(f"The initial value of Variable '{var._variable.op.name}', created inside a "
                             "tf.function, depends on the function's inputs; create it from values that "
                             "do not (or outside the function)")
    return ops
