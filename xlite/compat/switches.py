"""TF2's switches back to TF1 behaviour (xlite's default): programs that call them run unchanged."""
from __future__ import annotations


def disable_eager_execution() -> None:
    """Graph building again (TF1's default), after `tf.enable_eager_execution()` if it was called."""
    from xlite.frontend import execution_hook
    execution_hook.uninstall()


def disable_v2_behavior() -> None:
    """xlite is TF1 graph mode already."""


def disable_resource_variables() -> None:
    """xlite's Variables are TF1's ref-style VariableV2 already."""


def executing_eagerly() -> bool:
    """Whether ops run as they are made: after `tf.enable_eager_execution()`, outside graphs and traces."""
    from xlite.frontend.graph import executing_eagerly as eager_now
    return eager_now()
