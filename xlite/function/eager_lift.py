"""Variables a trace creates while the function is called eagerly become eager Variables.

TF's init_scope runs a Variable's creation in the eager context the function was called from. Here
the trace made a graph Variable (tf.Variable inside a trace builds a graph); lifting computes its
initial value once, through the compile driver (the trace's own ops, fed with the values it
captured), and turns the same Python object into an eager Variable holding that value, so what the
function stored (`self.w = tf.Variable(...)`) is usable eagerly afterwards. The trace's VariableV2 op
becomes the capture of that eager Variable: every call reads it and writes its updates back.
"""
from __future__ import annotations

from xlite.eager.tensor import EagerTensor
from xlite.eager.variables import EagerVariable
from xlite.function.lift import _creation_ops
from xlite.function.runner import GraphRunner
from xlite.runtime.executable import default_target


def lift_to_eager(graph, created: list) -> None:
    """Turns each graph Variable in `created` (made by the trace `graph`) into an eager Variable."""
    args = {id(t) for t in graph.arg_inputs}
    lifted = []
    for var in created:
        lifted.extend(_creation_ops(var, args))
        inner = var._variable
        runner = GraphRunner(graph, default_target(), fetches=[var._initial_value], targets=[])
        (initial,) = runner([])
        name, trainable = inner.op.name, var._trainable
        for attr in ("_variable", "_initializer_op", "_snapshot"):
            var.__dict__.pop(attr, None)
        var.__class__ = EagerVariable
        EagerVariable.__init__(var, EagerTensor(initial), trainable=trainable, name=name)
        graph._captures[id(var)] = (var, inner)
    graph._lifted_initializers = tuple(lifted)
