"""TF2's switches back to TF1 behaviour, which xlite always has: programs that call them run unchanged."""
from __future__ import annotations


def disable_eager_execution() -> None:
    """xlite only builds graphs, so there is no eager mode to turn off."""


def disable_v2_behavior() -> None:
    """xlite is TF1 graph mode already."""


def disable_resource_variables() -> None:
    """xlite's Variables are TF1's ref-style VariableV2 already."""


def executing_eagerly() -> bool:
    return False
