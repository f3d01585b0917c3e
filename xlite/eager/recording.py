"""The GradientTapes that are recording now, and the record of one executed op they keep.

The executor (dispatch.py) and Variable reads (variables.py) report each op here; a tape keeps an op
when one of its inputs is a value it watches, as TF's tape does, and then watches the op's outputs.
"""
from __future__ import annotations

from xlite.frontend import graph as graph_module

active: list = []           # the recording tapes, innermost last (tape.py pushes and pops them)


class EagerOp:
    """One executed op: what `make_op` returns while executing eagerly, and what a tape replays through
    the gradient rule of its type. It has the interface gradient rules use of an Operation."""

    __slots__ = ("type", "name", "inputs", "outputs", "attrs")

    def __init__(self, op_type: str, name: str, inputs: list, outputs: list, attrs: dict):
        self.type, self.name, self.inputs, self.outputs, self.attrs = op_type, name, inputs, outputs, attrs

    def get_attr(self, name: str):
        return self.attrs[name]

    @property
    def graph(self):
        return graph_module._global_default_graph

    @property
    def control_inputs(self) -> list:
        return []

    @property
    def node_def(self) -> dict:
        return {"name": self.name, "op": self.type, "input": []}

    def run(self, feed_dict=None, session=None) -> None:
        """The op ran when it was made (eager execution)."""

    def __repr__(self) -> str:
        return f"<tf.Operation '{self.name}' type={self.type} (executed eagerly)>"


def record(op: EagerOp) -> None:
    """Offers an executed op to every recording tape."""
    for tape in active:
        tape._record(op)


__all__ = ["EagerOp", "active", "record"]
