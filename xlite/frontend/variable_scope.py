"""tf.variable_scope and tf.get_variable: named, reusable Variables."""
from __future__ import annotations

__all__: list[str] = []
