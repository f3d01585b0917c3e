"""The frontend's one way into eager execution (#15), kept here as default_session.py keeps the Session stack.

Eager execution lives above the frontend (xlite/eager/), which the frontend never imports. When
`tf.enable_eager_execution()` runs, xlite.eager installs its executor and its Variable class here;
`make_op` then hands each op to the executor instead of adding it to a graph, and `tf.Variable(...)`
makes the eager class, whenever the global default graph is the default one (`graph.executing_eagerly`).
A `with tf.Graph().as_default():` block, or a tf.function trace graph, builds a graph again, as in TF.

executor(op_type, inputs, attrs, name, n_outputs, output_shapes) -> an object with `.outputs` (the
    eager values) that make_op returns in place of an Operation.
"""
from __future__ import annotations

eager_executor = None           # see the module docstring; None while graph building is the mode
eager_variable_class = None     # what tf.Variable(...) makes while executing eagerly
on_random_seed = None           # fn(): tf.set_random_seed was called while executing eagerly


def install(executor, variable_class, random_seed_hook=None) -> None:
    """Turns eager execution on for the process (xlite.eager.context calls it)."""
    global eager_executor, eager_variable_class, on_random_seed
    eager_executor, eager_variable_class, on_random_seed = executor, variable_class, random_seed_hook


def uninstall() -> None:
    """Back to graph building (the end of a test's `eager_mode()` block)."""
    install(None, None, None)


__all__ = ["install", "uninstall"]
